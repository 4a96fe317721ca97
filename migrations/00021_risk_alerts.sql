-- +goose Up
-- Risk reaches the CSM: a health snapshot that changes an account's band or
-- shows a new risk signal, and a risk signal an event raised, leave an alert,
-- written in the same transaction as the snapshot or the event. Who sees it
-- is read when it is shown (the account's CSM, and whoever holds the open
-- work of the runs it started: that changes as approvals escalate); each of
-- them marks it seen for themselves.
CREATE TABLE risk_alerts (
    id          bigserial PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id),
    -- A band change: band_from is NULL on the account's first snapshot.
    band_from   text CHECK (band_from IN ('green', 'yellow', 'red')),
    band_to     text CHECK (band_to IN ('green', 'yellow', 'red')),
    score       numeric(5, 2) CHECK (score BETWEEN 0 AND 100),
    -- The risk signals that are new with this snapshot or event.
    signals     text[] NOT NULL DEFAULT '{}',
    -- '#snapshot-N' or '#event-N': the snapshot or event it is, once.
    occasion    text NOT NULL CHECK (occasion ~ '^#(snapshot|event)-[0-9]+$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, occasion),
    CHECK (band_to IS NOT NULL OR cardinality(signals) > 0),
    CHECK (band_from IS NULL OR band_to IS NOT NULL),
    CHECK (band_to IS NULL OR band_from IS DISTINCT FROM band_to)
);
CREATE INDEX risk_alerts_account_idx ON risk_alerts (account_id, created_at DESC);
CREATE INDEX risk_alerts_recent_idx ON risk_alerts (created_at DESC);

CREATE TABLE risk_alert_seen (
    member_id  uuid NOT NULL REFERENCES team_members (id),
    alert_id   bigint NOT NULL REFERENCES risk_alerts (id),
    seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, alert_id)
);

-- The firings an alert caused (written with it): what it started, and,
-- from a member's open work, back through its run to the alert.
ALTER TABLE trigger_firings ADD COLUMN risk_alert_id bigint REFERENCES risk_alerts (id);
CREATE INDEX trigger_firings_alert_idx ON trigger_firings (risk_alert_id) WHERE risk_alert_id IS NOT NULL;
CREATE INDEX trigger_firings_run_alert_idx ON trigger_firings (run_id) INCLUDE (risk_alert_id)
    WHERE run_id IS NOT NULL AND risk_alert_id IS NOT NULL;

-- +goose Down
ALTER TABLE trigger_firings DROP COLUMN risk_alert_id;
DROP TABLE risk_alert_seen;
DROP TABLE risk_alerts;
