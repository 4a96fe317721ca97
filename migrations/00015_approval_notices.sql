-- +goose Up
-- Emails to the team (an approval assigned or escalated) are kept apart from
-- emails to customers: lists of an account's or a run's emails show what
-- the customer got unless asked for the team's. Notices never count towards
-- the frequency cap (automated = false).
ALTER TABLE emails ADD COLUMN kind text NOT NULL DEFAULT 'customer' CHECK (kind IN ('customer', 'team'));
UPDATE emails SET kind = 'team' WHERE template = 'approval-escalated' AND contact_id IS NULL;

-- Chat notices of approvals: one per approval, ladder level and channel,
-- claimed before the post, like an outbox row.
CREATE TABLE approval_notices (
    approval_id  uuid NOT NULL REFERENCES approvals (id),
    level        int NOT NULL CHECK (level BETWEEN 1 AND 4),
    channel      text NOT NULL CHECK (channel IN ('slack')),
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'uncertain')),
    detail       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    PRIMARY KEY (approval_id, level, channel)
);

-- The daily digest of a team member's pending approvals and overdue
-- tasks: one per member and day, claimed before it is sent.
CREATE TABLE digests (
    member_id   uuid NOT NULL REFERENCES team_members (id),
    day         date NOT NULL,
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'captured', 'failed', 'uncertain')),
    detail      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    PRIMARY KEY (member_id, day)
);

-- +goose Down
DROP TABLE digests;
DROP TABLE approval_notices;
ALTER TABLE emails DROP COLUMN kind;
