package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Session is a console sign-in: who it acts as, and its form token.
type Session struct {
	KeyID        *uuid.UUID // nil for the admin key
	AdminKeyHash []byte     // the admin key's hash, for an admin-key session
	Role         string
	MemberEmail  string // the team member of a csm key
	CSRFToken    string
	ExpiresAt    time.Time
}

// ErrNoSession is returned for a token that is unknown, expired, ended, or
// whose API key was revoked.
var ErrNoSession = errors.New("no such session")

func randomToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// CreateSession signs in with a key (keyID nil: the admin key, whose hash is
// adminKeyHash) until ttl from now. It returns the cookie's token, which is
// not stored.
func (s *Store) CreateSession(ctx context.Context, keyID *uuid.UUID, adminKeyHash []byte, role string, ttl time.Duration) (string, Session, error) {
	token, err := randomToken()
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", Session{}, err
	}
	sess := Session{KeyID: keyID, AdminKeyHash: adminKeyHash, Role: role, CSRFToken: csrf}
	err = s.pool.QueryRow(ctx, `
		INSERT INTO console_sessions (token_hash, key_id, admin_key_hash, role, csrf_token, expires_at)
		VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6)) RETURNING expires_at`,
		hashKey(token), keyID, adminKeyHash, role, csrf, ttl.Seconds()).Scan(&sess.ExpiresAt)
	if err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	return token, sess, nil
}

// LookupSession finds the live session of a cookie token.
func (s *Store) LookupSession(ctx context.Context, token string) (Session, error) {
	var sess Session
	var member *string
	err := s.pool.QueryRow(ctx, `
		SELECT s.key_id, s.admin_key_hash, s.role, t.email, s.csrf_token, s.expires_at
		FROM console_sessions s
		LEFT JOIN api_keys k ON k.id = s.key_id
		LEFT JOIN team_members t ON t.id = k.team_member_id
		WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now()
		  AND (s.key_id IS NULL OR k.revoked_at IS NULL)`, hashKey(token),
	).Scan(&sess.KeyID, &sess.AdminKeyHash, &sess.Role, &member, &sess.CSRFToken, &sess.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", err)
	}
	if member != nil {
		sess.MemberEmail = *member
	}
	return sess, nil
}

// EndSession signs a cookie token out; doing it twice is harmless.
func (s *Store) EndSession(ctx context.Context, token string) error {
	_, err := s.pool.Exec(ctx, `UPDATE console_sessions SET ended_at = now() WHERE token_hash = $1 AND ended_at IS NULL`,
		hashKey(token))
	return err
}
