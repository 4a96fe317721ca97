-- +goose Up
-- Console sign-ins. The cookie holds a random token; only its SHA-256 is
-- stored. A session made with an API key ends when the key is revoked (the
-- lookup joins the key); one made with PLAYBOOKD_ADMIN_KEY remembers the
-- key's hash, so changing that key ends its sessions.
CREATE TABLE console_sessions (
    token_hash      bytea PRIMARY KEY,
    key_id          uuid REFERENCES api_keys (id),
    admin_key_hash  bytea,
    role            text NOT NULL CHECK (role IN ('admin', 'ops', 'csm')),
    csrf_token      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    ended_at        timestamptz,
    CHECK ((key_id IS NULL) <> (admin_key_hash IS NULL))
);
CREATE INDEX console_sessions_key ON console_sessions (key_id);

-- +goose Down
DROP TABLE console_sessions;
