-- +goose Up
-- People work in the console without curl: team members sign in as
-- themselves (an emailed one-time link, or single sign-on), admins keep the
-- team and the keys from the console, and a CSM closes their own loops
-- (ad-hoc tasks, snoozes and reassignments, notes of calls and meetings).

-- A member's role is what they may do once signed in (as an API key's role
-- is); their time zone is how the console shows them times; a deactivated
-- member cannot sign in, gets no new work, and their open work went to
-- someone named when they were deactivated.
ALTER TABLE team_members
    ADD COLUMN role           text NOT NULL DEFAULT 'csm' CHECK (role IN ('admin', 'ops', 'csm')),
    ADD COLUMN timezone       text NOT NULL DEFAULT 'UTC' CHECK (timezone <> ''),
    ADD COLUMN deactivated_at timestamptz;

-- One-time sign-in links: only the token's SHA-256 is stored; a link works
-- once (used_at) and until it expires.
CREATE TABLE sign_in_links (
    token_hash  bytea PRIMARY KEY,
    member_id   uuid NOT NULL REFERENCES team_members (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX sign_in_links_member ON sign_in_links (member_id, created_at DESC);

-- A console session is a member's (a sign-in link or single sign-on), an
-- API key's, or PLAYBOOKD_ADMIN_KEY's: exactly one of the three.
ALTER TABLE console_sessions ADD COLUMN member_id uuid REFERENCES team_members (id);
ALTER TABLE console_sessions DROP CONSTRAINT console_sessions_check;
ALTER TABLE console_sessions ADD CONSTRAINT console_sessions_one_holder
    CHECK (num_nonnulls(key_id, admin_key_hash, member_id) = 1);
CREATE INDEX console_sessions_member ON console_sessions (member_id);

-- When a key was last used, for the admin's keys page.
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;

-- Ad-hoc tasks belong to no run (and so to no step); a task can be snoozed
-- until a time, and says who made it when a person did.
ALTER TABLE tasks
    ALTER COLUMN run_id DROP NOT NULL,
    ALTER COLUMN step_id DROP NOT NULL,
    ADD COLUMN snoozed_until timestamptz,
    ADD COLUMN created_by    text,
    ADD CONSTRAINT tasks_run_or_person CHECK ((run_id IS NULL) = (step_id IS NULL)
                                              AND (run_id IS NOT NULL OR created_by IS NOT NULL));

-- Notes of calls, meetings and anything else a CSM wants on an account's
-- timeline; the latest call or meeting is the account's last contact.
CREATE TABLE account_notes (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id   text NOT NULL REFERENCES accounts (id),
    kind         text NOT NULL CHECK (kind IN ('call', 'meeting', 'note')),
    body         text NOT NULL CHECK (body <> ''),
    author_email text NOT NULL,
    happened_at  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_notes_account ON account_notes (account_id, happened_at DESC);

-- +goose Down
DROP TABLE account_notes;
ALTER TABLE tasks DROP CONSTRAINT tasks_run_or_person,
    DROP COLUMN created_by, DROP COLUMN snoozed_until;
DELETE FROM tasks WHERE run_id IS NULL;
ALTER TABLE tasks ALTER COLUMN step_id SET NOT NULL, ALTER COLUMN run_id SET NOT NULL;
ALTER TABLE api_keys DROP COLUMN last_used_at;
DELETE FROM console_sessions WHERE member_id IS NOT NULL;
ALTER TABLE console_sessions DROP CONSTRAINT console_sessions_one_holder;
ALTER TABLE console_sessions DROP COLUMN member_id;
ALTER TABLE console_sessions ADD CONSTRAINT console_sessions_check CHECK ((key_id IS NULL) <> (admin_key_hash IS NULL));
DROP TABLE sign_in_links;
ALTER TABLE team_members DROP COLUMN deactivated_at, DROP COLUMN timezone, DROP COLUMN role;
