-- +goose Up
-- An account's timeline (GET /v1/accounts/{id}/timeline) merges its notes,
-- by when they happened (account_notes_account), and its audit events, by
-- when they were recorded: this index lets the newest page of each be read
-- in order instead of sorting every event the account ever had.
CREATE INDEX events_account_created_idx ON events (account_id, created_at DESC, id DESC);

-- +goose Down
DROP INDEX events_account_created_idx;
