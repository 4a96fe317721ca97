-- +goose Up

-- Snapshots are ordered by when they were measured; the risk signals they
-- showed and whether they met the expansion criteria are kept, so the next
-- snapshot fires triggers only on what is new.
ALTER TABLE health_snapshots
    ADD COLUMN measured_at     timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN model           text NOT NULL DEFAULT '',
    ADD COLUMN signals         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN expansion_ready boolean NOT NULL DEFAULT false;
UPDATE health_snapshots SET measured_at = created_at;
CREATE INDEX health_snapshots_measured_idx ON health_snapshots (account_id, measured_at DESC, id DESC);

-- A trigger fires once per occasion (the account's creation, a band change
-- of one snapshot, one renewal date...). The row is written in the same
-- transaction as the change that caused it, then processed: a crash in
-- between leaves it pending for the sweep, never lost, never doubled.
CREATE TABLE trigger_firings (
    id            bigserial PRIMARY KEY,
    account_id    text NOT NULL REFERENCES accounts (id),
    playbook_key  text NOT NULL,
    occasion      text NOT NULL CHECK (occasion <> ''),
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'started', 'already_live', 'skipped')),
    run_id        uuid,
    detail        text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    UNIQUE (account_id, playbook_key, occasion),
    CHECK ((status = 'pending') = (processed_at IS NULL))
);
CREATE INDEX trigger_firings_pending_idx ON trigger_firings (account_id, id) WHERE status = 'pending';

-- ARR and status over time, for retention metrics. Kept by the database so
-- no code path that changes an account can forget it.
CREATE TABLE arr_history (
    id          bigserial PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id),
    arr         numeric(14, 2) NOT NULL,
    status      text NOT NULL,
    valid_from  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX arr_history_account_idx ON arr_history (account_id, valid_from DESC, id DESC);
INSERT INTO arr_history (account_id, arr, status, valid_from) SELECT id, arr, status, created_at FROM accounts;

-- +goose StatementBegin
CREATE FUNCTION accounts_arr_history() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.arr IS DISTINCT FROM OLD.arr OR NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO arr_history (account_id, arr, status) VALUES (NEW.id, NEW.arr, NEW.status);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER accounts_arr_history AFTER INSERT OR UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_arr_history();

-- Bulk imports: progress and the rows that were refused.
CREATE TABLE account_imports (
    id           uuid PRIMARY KEY,
    -- A running import whose updated_at stops moving was interrupted (the
    -- API process ended); its rows are idempotent upserts, so it can be re-sent.
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    format       text NOT NULL CHECK (format IN ('json', 'csv')),
    total        integer NOT NULL CHECK (total >= 0),
    processed    integer NOT NULL DEFAULT 0,
    created      integer NOT NULL DEFAULT 0,
    updated      integer NOT NULL DEFAULT 0,
    refused      integer NOT NULL DEFAULT 0,
    errors       jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CHECK (processed <= total AND created + updated + refused = processed)
);

-- +goose Down
DROP TABLE account_imports;
DROP TRIGGER accounts_arr_history ON accounts;
DROP FUNCTION accounts_arr_history();
DROP TABLE arr_history;
DROP TABLE trigger_firings;
DROP INDEX health_snapshots_measured_idx;
ALTER TABLE health_snapshots DROP COLUMN measured_at, DROP COLUMN model, DROP COLUMN signals, DROP COLUMN expansion_ready;
