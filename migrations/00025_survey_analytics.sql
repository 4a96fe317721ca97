-- +goose Up
-- Playbook analytics counts a version's survey emails by step
-- (GET /v1/playbooks/{key}/analytics). emails_run_analytics_idx does not
-- know which rows are surveys, so filtering on survey through it reads the
-- outbox row of every email of every run in scope (10,000,000 rows at the
-- PRODUCT's scale); emails_survey_idx is by account and time, not by run.
-- This one holds survey emails only, by run, with what is counted: an
-- index-only scan of a small index.
CREATE INDEX emails_survey_run_idx ON emails (run_id) INCLUDE (step_id, status, id) WHERE survey IS NOT NULL;

-- +goose Down
DROP INDEX emails_survey_run_idx;
