-- +goose Up
-- Named secrets: the webhook URLs that are credentials (a Slack incoming
-- webhook's path is one), which notify steps name instead of holding them.
-- Only admin keys write them; no API route reads a value back, only the
-- worker does, when it posts. The name follows a playbook key's rule.
CREATE TABLE secrets (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    value       text NOT NULL CHECK (length(value) BETWEEN 1 AND 2048),
    created_by  text NOT NULL CHECK (created_by <> ''),
    updated_by  text NOT NULL CHECK (updated_by <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE secrets;
