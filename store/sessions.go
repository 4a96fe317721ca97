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

// Session is a console sign-in: who it acts as, and its form token. It
// belongs to exactly one of an API key, PLAYBOOKD_ADMIN_KEY or a team
// member (a sign-in link or single sign-on).
type Session struct {
	KeyID        *uuid.UUID // the API key signed in with
	AdminKeyHash []byte     // the admin key's hash, for an admin-key session
	MemberID     *uuid.UUID // the team member signed in as themselves
	Role         string
	MemberEmail  string // the team member: of the key, or signed in
	CSRFToken    string
	ExpiresAt    time.Time
}

// ErrNoSession is returned for a token that is unknown, expired, ended,
// whose API key was revoked, or whose team member was deactivated.
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
	return insertSession(ctx, s.pool, Session{KeyID: keyID, AdminKeyHash: adminKeyHash, Role: role}, ttl)
}

// CreateMemberSession signs a team member in as themselves until ttl from
// now (single sign-on; a sign-in link signs in with SignInWithLink). It
// returns the cookie's token, which is not stored.
func (s *Store) CreateMemberSession(ctx context.Context, member SignInMember, ttl time.Duration) (string, Session, error) {
	return createMemberSession(ctx, s.pool, member, ttl)
}

func createMemberSession(ctx context.Context, q querier, member SignInMember, ttl time.Duration) (string, Session, error) {
	return insertSession(ctx, q, Session{MemberID: &member.ID, Role: member.Role, MemberEmail: member.Email}, ttl)
}

// insertSession stores a session of its one holder (a key, the admin key's
// hash or a member) with a new cookie token and CSRF token, until ttl from
// now; only the cookie token's hash is stored.
func insertSession(ctx context.Context, q querier, sess Session, ttl time.Duration) (string, Session, error) {
	token, err := randomToken()
	if err != nil {
		return "", Session{}, err
	}
	if sess.CSRFToken, err = randomToken(); err != nil {
		return "", Session{}, err
	}
	err = q.QueryRow(ctx, `
		INSERT INTO console_sessions (token_hash, key_id, admin_key_hash, member_id, role, csrf_token, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7)) RETURNING expires_at`,
		hashKey(token), sess.KeyID, sess.AdminKeyHash, sess.MemberID, sess.Role, sess.CSRFToken, ttl.Seconds()).Scan(&sess.ExpiresAt)
	if err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	return token, sess, nil
}

// LookupSession finds the live session of a cookie token. A member's
// session acts with the member's role of now (a changed role applies at
// once) and ends when they are deactivated, as a key's ends when it is
// revoked; so does a key's session when the key's member is deactivated.
func (s *Store) LookupSession(ctx context.Context, token string) (Session, error) {
	var sess Session
	var member *string
	err := s.pool.QueryRow(ctx, `
		SELECT s.key_id, s.admin_key_hash, s.member_id, COALESCE(m.role, s.role), COALESCE(m.email, t.email),
		       s.csrf_token, s.expires_at
		FROM console_sessions s
		LEFT JOIN api_keys k ON k.id = s.key_id
		LEFT JOIN team_members t ON t.id = k.team_member_id
		LEFT JOIN team_members m ON m.id = s.member_id
		WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now()
		  AND (s.key_id IS NULL OR (k.revoked_at IS NULL AND t.deactivated_at IS NULL))
		  AND (s.member_id IS NULL OR m.deactivated_at IS NULL)`, hashKey(token),
	).Scan(&sess.KeyID, &sess.AdminKeyHash, &sess.MemberID, &sess.Role, &member, &sess.CSRFToken, &sess.ExpiresAt)
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
