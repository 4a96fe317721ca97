-- +goose Up
-- A playbook's own state, across its versions (playbook_versions holds one
-- row per version). A row exists once a playbook has been retired; no row,
-- or retired_at NULL, is a playbook that takes new enrolments.
CREATE TABLE playbooks (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    retired_at timestamptz
);

-- Saving a draft in the console rewrites the playbook's latest draft in
-- place. What runs and diffs refer to must not move under them: a version
-- that was ever published (archived ones were), or that a run started
-- from, keeps its definition.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION playbook_versions_immutable() RETURNS trigger AS $$
BEGIN
    IF NEW.definition IS DISTINCT FROM OLD.definition OR NEW.source IS DISTINCT FROM OLD.source THEN
        IF OLD.status <> 'draft' OR OLD.published_at IS NOT NULL THEN
            RAISE EXCEPTION 'playbook % version % is %, and its definition cannot change', OLD.key, OLD.version, OLD.status
                USING ERRCODE = 'check_violation';
        END IF;
        IF EXISTS (SELECT 1 FROM runs WHERE playbook_key = OLD.key AND playbook_version = OLD.version) THEN
            RAISE EXCEPTION 'playbook % version % has runs, and its definition cannot change', OLD.key, OLD.version
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION playbook_versions_immutable() RETURNS trigger AS $$
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
DROP TABLE playbooks;
