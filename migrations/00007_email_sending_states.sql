-- +goose Up
-- sending: the provider is being called; uncertain: the call's outcome is
-- unknown (timed out or dropped after the request went out), so it is never
-- retried: a lost email is preferred to a second one.
ALTER TABLE emails DROP CONSTRAINT emails_status_check;
ALTER TABLE emails ADD CONSTRAINT emails_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'captured', 'failed', 'skipped', 'uncertain'));

-- +goose Down
UPDATE emails SET status = 'failed' WHERE status IN ('sending', 'uncertain');
ALTER TABLE emails DROP CONSTRAINT emails_status_check;
ALTER TABLE emails ADD CONSTRAINT emails_status_check
    CHECK (status IN ('pending', 'sent', 'captured', 'failed', 'skipped'));
