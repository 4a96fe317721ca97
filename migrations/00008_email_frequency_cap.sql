-- +goose Up
-- Automated emails count towards the per-contact frequency cap; emails a
-- person approved do not.
ALTER TABLE emails ADD COLUMN automated boolean NOT NULL DEFAULT true;
CREATE INDEX emails_recipient_recent_idx ON emails (recipient, created_at) WHERE automated;

-- +goose Down
DROP INDEX emails_recipient_recent_idx;
ALTER TABLE emails DROP COLUMN automated;
