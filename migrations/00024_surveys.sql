-- +goose Up
-- Surveys (NPS 0-10, CSAT 1-5). A survey goes out as an outbox row marked
-- with its kind, so response rates count what was sent; each answer is one
-- row, once per (run, step, recipient), ever: the constraint, not the code,
-- keeps a second click, a retried POST or a forwarded email from voting
-- twice.
ALTER TABLE emails ADD COLUMN survey text CHECK (survey IN ('nps', 'csat'));
CREATE INDEX emails_survey_idx ON emails (account_id, created_at) WHERE survey IS NOT NULL;

CREATE TABLE survey_responses (
    id          bigserial PRIMARY KEY,
    email_id    uuid NOT NULL UNIQUE REFERENCES emails (id),
    run_id      uuid NOT NULL REFERENCES runs (id),
    step_id     text NOT NULL,
    recipient   text NOT NULL,
    account_id  text NOT NULL REFERENCES accounts (id),
    contact_id  uuid REFERENCES contacts (id),
    kind        text NOT NULL CHECK (kind IN ('nps', 'csat')),
    score       smallint NOT NULL,
    category    text NOT NULL CHECK (category IN ('promoter', 'passive', 'detractor')),
    comment     text NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'nps' AND score BETWEEN 0 AND 10) OR (kind = 'csat' AND score BETWEEN 1 AND 5)),
    UNIQUE (run_id, step_id, recipient)
);
CREATE INDEX survey_responses_account_idx ON survey_responses (account_id, kind, created_at);

-- +goose Down
DROP TABLE survey_responses;
DROP INDEX emails_survey_idx;
ALTER TABLE emails DROP COLUMN survey;
