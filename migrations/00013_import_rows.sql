-- +goose Up
-- A bulk import runs as a Temporal workflow (AccountImport), batch by batch.
-- Its rows are stored with the import before the API answers, so no process
-- holds them in memory: a restarted API or worker loses nothing.
--
-- started_at is set once the workflow is started; an import recorded while
-- Temporal was unreachable waits with NULL for the trigger sweep (or the
-- next import) to start it. counted is how many batches have been added to
-- the counts, so a batch retried after it was counted is not counted twice.
ALTER TABLE account_imports
    ADD COLUMN started_at timestamptz,
    ADD COLUMN counted integer NOT NULL DEFAULT 0,
    DROP CONSTRAINT account_imports_status_check,
    ADD CONSTRAINT account_imports_status_check CHECK (status IN ('running', 'done', 'failed'));
-- Imports from before ran in an API process and have no stored rows: none is
-- to be started, and one still running was cut short (it was reported
-- interrupted) or is finishing in an old process, which still sets done.
UPDATE account_imports SET started_at = created_at;
UPDATE account_imports SET status = 'failed', finished_at = updated_at WHERE status = 'running';
CREATE INDEX account_imports_unstarted_idx ON account_imports (created_at) WHERE started_at IS NULL;

-- One row of an import: the validated account to save, or the report of a
-- row refused at validation. outcome is set in the transaction that saves
-- (or refuses) the row, so a row is applied once however often its batch
-- runs. The rows of a finished import are deleted: its report stays.
CREATE TABLE import_rows (
    import_id  uuid NOT NULL REFERENCES account_imports (id) ON DELETE CASCADE,
    row_no     integer NOT NULL CHECK (row_no > 0),       -- 1-based data row
    account    jsonb,                                      -- the validated account
    refusal    jsonb,                                      -- {row, id, errors} when refused
    outcome    text CHECK (outcome IN ('created', 'updated', 'refused')),
    PRIMARY KEY (import_id, row_no),
    CHECK ((account IS NULL) <> (refusal IS NULL) OR outcome = 'refused')
);

-- +goose Down
DROP TABLE import_rows;
DROP INDEX account_imports_unstarted_idx;
UPDATE account_imports SET status = 'running' WHERE status = 'failed'; -- reported interrupted
ALTER TABLE account_imports
    DROP COLUMN started_at,
    DROP COLUMN counted,
    DROP CONSTRAINT account_imports_status_check,
    ADD CONSTRAINT account_imports_status_check CHECK (status IN ('running', 'done'));
