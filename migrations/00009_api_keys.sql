-- +goose Up
-- API keys, stored as SHA-256 hashes (keys are 192 random bits, so a fast
-- hash is enough); a csm key acts as one team member.
CREATE TABLE api_keys (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (name <> ''),
    role            text NOT NULL CHECK (role IN ('admin', 'ops', 'csm')),
    team_member_id  uuid REFERENCES team_members (id),
    key_hash        bytea NOT NULL UNIQUE,
    prefix          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    CHECK ((role = 'csm') = (team_member_id IS NOT NULL))
);

-- +goose Down
DROP TABLE api_keys;
