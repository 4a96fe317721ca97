-- +goose Up
-- Playbook analytics (GET /v1/playbooks/{key}/analytics) reads a playbook's
-- runs by version and start, then their outbox rows, SendGrid events,
-- approvals, tasks and account changes. These indexes let each of those
-- reads stay inside an index (index-only scans once vacuumed) instead of
-- reading the outbox's wide rows, whose html and text bodies dwarf the
-- columns counted.
CREATE INDEX runs_playbook_version_started_idx
    ON runs (playbook_key, playbook_version, started_at) INCLUDE (status, outcome, ended_at, account_id);
CREATE INDEX emails_run_analytics_idx ON emails (run_id) INCLUDE (step_id, status, id);
CREATE INDEX sendgrid_events_email_idx ON sendgrid_events (email_id, event) WHERE email_id IS NOT NULL;
CREATE INDEX events_run_account_changed_idx ON events (run_id) INCLUDE (data)
    WHERE type = 'account_changed' AND run_id IS NOT NULL;

-- +goose Down
DROP INDEX events_run_account_changed_idx;
DROP INDEX sendgrid_events_email_idx;
DROP INDEX emails_run_analytics_idx;
DROP INDEX runs_playbook_version_started_idx;
