-- +goose Up
-- What SendGrid reported of each outbox row, as flags on the row: playbook
-- analytics counts delivered, opened, clicked, bounced and unsubscribed
-- emails from the outbox's analytics index alone, instead of reading every
-- email's events at request time (3 s at 1,000,000 emails). The webhook
-- sets them in the transaction that records the events, once per event key.
-- A click counts as an open too (images may be blocked).
ALTER TABLE emails
    ADD COLUMN delivered    boolean NOT NULL DEFAULT false,
    ADD COLUMN opened       boolean NOT NULL DEFAULT false,
    ADD COLUMN clicked      boolean NOT NULL DEFAULT false,
    ADD COLUMN bounced      boolean NOT NULL DEFAULT false,
    ADD COLUMN unsubscribed boolean NOT NULL DEFAULT false;

-- The index is rebuilt after the backfill, not updated row by row.
DROP INDEX emails_run_analytics_idx;
DROP INDEX sendgrid_events_email_idx;

UPDATE emails e SET delivered = s.delivered, opened = s.opened, clicked = s.clicked, bounced = s.bounced,
                    unsubscribed = s.unsubscribed
FROM (SELECT email_id, bool_or(event = 'delivered') AS delivered, bool_or(event IN ('open', 'click')) AS opened,
             bool_or(event = 'click') AS clicked, bool_or(event = 'bounce') AS bounced,
             bool_or(event IN ('unsubscribe', 'group_unsubscribe')) AS unsubscribed
      FROM sendgrid_events WHERE email_id IS NOT NULL GROUP BY email_id) s
WHERE e.id = s.email_id;

CREATE INDEX emails_run_analytics_idx ON emails (run_id)
    INCLUDE (step_id, status, delivered, opened, clicked, bounced, unsubscribed);

-- +goose Down
DROP INDEX emails_run_analytics_idx;
CREATE INDEX emails_run_analytics_idx ON emails (run_id) INCLUDE (step_id, status, id);
CREATE INDEX sendgrid_events_email_idx ON sendgrid_events (email_id, event) WHERE email_id IS NOT NULL;
ALTER TABLE emails
    DROP COLUMN unsubscribed,
    DROP COLUMN bounced,
    DROP COLUMN clicked,
    DROP COLUMN opened,
    DROP COLUMN delivered;
