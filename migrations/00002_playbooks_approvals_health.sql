-- +goose Up

ALTER TABLE tasks ADD COLUMN description text NOT NULL DEFAULT '';

-- Playbook definitions, one row per version. A published version never
-- changes (trigger below); publishing a newer one archives the older.
CREATE TABLE playbook_versions (
    key           text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    version       integer NOT NULL CHECK (version > 0),
    name          text NOT NULL,
    status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    definition    jsonb NOT NULL,
    source        text NOT NULL,
    source_format text NOT NULL CHECK (source_format IN ('yaml', 'json')),
    builtin       boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    PRIMARY KEY (key, version)
);
CREATE UNIQUE INDEX playbook_versions_one_published ON playbook_versions (key) WHERE status = 'published';

-- +goose StatementBegin
CREATE FUNCTION playbook_versions_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'draft' AND (NEW.definition IS DISTINCT FROM OLD.definition
                                  OR NEW.source IS DISTINCT FROM OLD.source) THEN
        RAISE EXCEPTION 'playbook % version % is %, and its definition cannot change', OLD.key, OLD.version, OLD.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER playbook_versions_immutable BEFORE UPDATE ON playbook_versions
    FOR EACH ROW EXECUTE FUNCTION playbook_versions_immutable();

-- Human touchpoints: a drafted email waiting for a team member's decision.
CREATE TABLE approvals (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id        uuid NOT NULL REFERENCES runs (id),
    step_id       text NOT NULL,
    account_id    text NOT NULL REFERENCES accounts (id),
    assignee_id   uuid NOT NULL REFERENCES team_members (id),
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    draft         jsonb NOT NULL,   -- {template, to_roles, subject, html, text}
    edits         jsonb,
    comment       text NOT NULL DEFAULT '',
    decided_by    text,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz,
    UNIQUE (run_id, step_id)
);
CREATE INDEX approvals_assignee_idx ON approvals (assignee_id, status, created_at);

-- Health snapshots: raw metrics in, components and total out.
CREATE TABLE health_snapshots (
    id          bigserial PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id),
    score       numeric(5, 2) NOT NULL CHECK (score BETWEEN 0 AND 100),
    band        text NOT NULL CHECK (band IN ('green', 'yellow', 'red')),
    components  jsonb NOT NULL DEFAULT '{}'::jsonb,
    inputs      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX health_snapshots_account_idx ON health_snapshots (account_id, id DESC);

-- +goose Down
DROP TABLE health_snapshots;
DROP TABLE approvals;
DROP TRIGGER playbook_versions_immutable ON playbook_versions;
DROP FUNCTION playbook_versions_immutable();
DROP TABLE playbook_versions;
ALTER TABLE tasks DROP COLUMN description;
