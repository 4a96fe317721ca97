-- +goose Up
-- What SendGrid's event webhook reported last for an email.
ALTER TABLE emails ADD COLUMN delivery text NOT NULL DEFAULT '';
ALTER TABLE emails ADD COLUMN delivery_at timestamptz;

-- +goose Down
ALTER TABLE emails DROP COLUMN delivery_at;
ALTER TABLE emails DROP COLUMN delivery;
