-- +goose Up
-- An approval's email as drafted for each recipient, and as approved: the
-- email sent is the approved content, never a new render, so what a CSM read
-- is what each customer gets. Rendered without the unsubscribe link, which
-- is added per outbox row when sending. Approvals from before have no rows
-- (their draft column holds the first recipient's render).
CREATE TABLE approval_drafts (
    approval_id       uuid NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    recipient         text NOT NULL,
    position          integer NOT NULL,   -- the order recipients were drafted in
    name              text NOT NULL DEFAULT '',
    subject           text NOT NULL,
    html              text NOT NULL,
    text              text NOT NULL,
    approved_subject  text,
    approved_html     text,
    approved_text     text,
    PRIMARY KEY (approval_id, recipient),
    CHECK ((approved_subject IS NULL) = (approved_html IS NULL) AND (approved_html IS NULL) = (approved_text IS NULL))
);

-- +goose Down
DROP TABLE approval_drafts;
