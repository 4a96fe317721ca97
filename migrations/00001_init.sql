-- +goose Up
-- The system of record. Temporal executes runs; these tables are what the API
-- reads and what makes side effects exactly-once (see the unique keys).

CREATE TABLE team_members (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name          text NOT NULL CHECK (name <> ''),
    level         text NOT NULL CHECK (level IN ('csm', 'senior_csm', 'vp_cs', 'executive')),
    manager_id    uuid REFERENCES team_members (id) CHECK (manager_id <> id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id               text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'),
    name             text NOT NULL CHECK (name <> ''),
    arr              numeric(14, 2) NOT NULL CHECK (arr >= 0),
    segment          text NOT NULL CHECK (segment IN ('enterprise', 'mid_market', 'smb')),
    csm_id           uuid NOT NULL REFERENCES team_members (id),
    timezone         text NOT NULL,
    contract_start   date,
    renewal_date     date,
    lifecycle_stage  text NOT NULL DEFAULT 'onboarding',
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'churned')),
    custom_fields    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(custom_fields) = 'object'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_csm_idx ON accounts (csm_id);

CREATE TABLE contacts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id    text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email         text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name          text NOT NULL DEFAULT '',
    role          text NOT NULL CHECK (role IN ('champion', 'exec_sponsor', 'admin', 'user')),
    unsubscribed  boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, email)
);

CREATE TABLE runs (
    id                uuid PRIMARY KEY,
    account_id        text NOT NULL REFERENCES accounts (id),
    playbook_key      text NOT NULL,
    playbook_version  integer NOT NULL CHECK (playbook_version > 0),
    workflow_id       text NOT NULL,
    temporal_run_id   text NOT NULL,
    status            text NOT NULL CHECK (status IN ('running', 'paused', 'completed', 'cancelled', 'failed')),
    outcome           text,
    started_at        timestamptz NOT NULL DEFAULT now(),
    ended_at          timestamptz,
    CHECK ((status IN ('running', 'paused')) = (ended_at IS NULL))
);
-- One live run per account and playbook, whatever starts it.
CREATE UNIQUE INDEX runs_one_live_per_account_playbook
    ON runs (account_id, playbook_key) WHERE status IN ('running', 'paused');
CREATE INDEX runs_account_idx ON runs (account_id, started_at DESC);

CREATE TABLE tasks (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id        uuid NOT NULL REFERENCES runs (id),
    step_id       text NOT NULL,
    account_id    text NOT NULL REFERENCES accounts (id),
    assignee_id   uuid NOT NULL REFERENCES team_members (id),
    title         text NOT NULL CHECK (title <> ''),
    priority      text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'cancelled')),
    due_at        timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    closed_at     timestamptz,
    -- A retried or re-run activity finds the task it already made.
    UNIQUE (run_id, step_id)
);
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id, status, created_at);

-- The email outbox: a row is written before the provider is called.
CREATE TABLE emails (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id               uuid NOT NULL REFERENCES runs (id),
    step_id              text NOT NULL,
    account_id           text NOT NULL REFERENCES accounts (id),
    contact_id           uuid REFERENCES contacts (id),
    recipient            text NOT NULL,
    template             text NOT NULL,
    subject              text NOT NULL,
    html_body            text NOT NULL,
    text_body            text NOT NULL,
    status               text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'sent', 'captured', 'failed', 'skipped')),
    detail               text NOT NULL DEFAULT '',
    provider_message_id  text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    sent_at              timestamptz,
    -- One send per (run, step, recipient), ever.
    UNIQUE (run_id, step_id, recipient)
);
CREATE INDEX emails_account_idx ON emails (account_id, created_at);

-- The audit timeline of accounts and runs.
CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id),
    run_id      uuid REFERENCES runs (id),
    type        text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_account_idx ON events (account_id, id);
CREATE INDEX events_run_idx ON events (run_id, id) WHERE run_id IS NOT NULL;

-- +goose Down
DROP TABLE events;
DROP TABLE emails;
DROP TABLE tasks;
DROP TABLE runs;
DROP TABLE contacts;
DROP TABLE accounts;
DROP TABLE team_members;
