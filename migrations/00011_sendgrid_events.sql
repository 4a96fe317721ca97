-- +goose Up
-- SendGrid's events already applied, by sg_event_id (or, for an event
-- without one, a hash of its JSON). SendGrid re-sends a batch it got no 2xx
-- for, and a signed request can be replayed within its timestamp window: an
-- event changes the outbox row, the timeline and the suppressions once.
CREATE TABLE sendgrid_events (
    event_key    text PRIMARY KEY CHECK (event_key <> ''),
    event        text NOT NULL,
    -- The outbox row it was about (checked on insert; outbox rows are
    -- never deleted, and a foreign key would cost a lookup per event).
    email_id     uuid,
    occurred_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

-- Suppressing an address looks up and flags its contacts across accounts.
CREATE INDEX contacts_email_idx ON contacts (email);

-- +goose Down
DROP INDEX contacts_email_idx;
DROP TABLE sendgrid_events;
