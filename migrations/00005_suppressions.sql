-- +goose Up
-- Addresses nobody may email again: unsubscribed, bounced or reported as spam.
CREATE TABLE suppressions (
    email       text PRIMARY KEY CHECK (email = lower(email)),
    reason      text NOT NULL CHECK (reason IN ('unsubscribe', 'bounce', 'spamreport', 'dropped')),
    source      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE suppressions;
