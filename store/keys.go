package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// APIKey describes a key; the secret itself is shown once, at creation.
type APIKey struct {
	ID          uuid.UUID
	Name        string
	Role        string
	MemberEmail *string
	Prefix      string
	CreatedAt   time.Time
	RevokedAt   *time.Time
	// LastUsedAt is when the key last authenticated, to the minute.
	LastUsedAt *time.Time
}

// ErrUnknownKey is returned for a key that does not exist or was revoked.
var ErrUnknownKey = errors.New("unknown or revoked API key")

func hashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateAPIKey makes a key and returns it with its secret, which is not stored.
func (s *Store) CreateAPIKey(ctx context.Context, name, role, memberEmail string) (APIKey, string, error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return APIKey{}, "", err
	}
	secret := "pbk_" + base64.RawURLEncoding.EncodeToString(raw)
	k := APIKey{Name: name, Role: role, Prefix: secret[:8]}
	var memberID *uuid.UUID
	if memberEmail != "" {
		// A deactivated member gets no key (ErrInactiveMember).
		id, err := activeMember(ctx, s.pool, memberEmail)
		if errors.Is(err, ErrUnknownMember) {
			return APIKey{}, "", ErrUnknownCSM
		}
		if err != nil {
			return APIKey{}, "", err
		}
		memberID, k.MemberEmail = &id, &memberEmail
	}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO api_keys (name, role, team_member_id, key_hash, prefix) VALUES ($1, $2, $3, $4, $5)
		RETURNING id, created_at`, name, role, memberID, hashKey(secret), k.Prefix).Scan(&k.ID, &k.CreatedAt)
	if err != nil {
		return APIKey{}, "", fmt.Errorf("create API key: %w", err)
	}
	return k, secret, nil
}

// LookupAPIKey finds the live key with this secret, and records that it
// was used: at most once a minute, so that a busy key costs one write a
// minute, not one a request. The key answered is as it was before (its
// previous use).
func (s *Store) LookupAPIKey(ctx context.Context, secret string) (APIKey, error) {
	k, err := rowOf[APIKey](ctx, s.pool, `
		WITH used AS (
			UPDATE api_keys SET last_used_at = now()
			WHERE key_hash = $1 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
		)`+keySelect+` WHERE k.key_hash = $1 AND k.revoked_at IS NULL`, hashKey(secret))
	if errors.Is(err, ErrNotFound) {
		return APIKey{}, ErrUnknownKey
	}
	return k, err
}

// ListAPIKeys returns keys (never their secrets), newest first, from a page
// cursor (the last id seen; nil for the first page).
func (s *Store) ListAPIKeys(ctx context.Context, after *uuid.UUID, n int) ([]APIKey, error) {
	return rowsOf[APIKey](ctx, s.pool, keySelect+`
		WHERE $1::uuid IS NULL OR (k.created_at, k.id) < (SELECT created_at, id FROM api_keys WHERE id = $1)
		ORDER BY k.created_at DESC, k.id DESC LIMIT $2`, after, limit(n))
}

const keySelect = `
	SELECT k.id, k.name, k.role, t.email AS member_email, k.prefix, k.created_at, k.revoked_at, k.last_used_at
	FROM api_keys k LEFT JOIN team_members t ON t.id = k.team_member_id`

// RevokeAPIKey makes a key unusable from now on; revoking twice is harmless.
func (s *Store) RevokeAPIKey(ctx context.Context, id uuid.UUID) (APIKey, error) {
	return rowOf[APIKey](ctx, s.pool, `
		UPDATE api_keys k SET revoked_at = COALESCE(k.revoked_at, now()) WHERE k.id = $1
		RETURNING k.id, k.name, k.role, (SELECT email FROM team_members WHERE id = k.team_member_id) AS member_email,
		          k.prefix, k.created_at, k.revoked_at, k.last_used_at`, id)
}

// InLadderOf reports whether member is assignee or above them in the
// escalation ladder (their manager, the manager's manager, ...).
func (s *Store) InLadderOf(ctx context.Context, member, assignee string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `
		WITH RECURSIVE ladder(id, manager_id, depth) AS (
			SELECT id, manager_id, 0 FROM team_members WHERE email = $2
			UNION ALL
			SELECT t.id, t.manager_id, l.depth + 1 FROM team_members t JOIN ladder l ON t.id = l.manager_id
			WHERE l.depth < 32
		)
		SELECT EXISTS (SELECT 1 FROM ladder l JOIN team_members t ON t.id = l.id WHERE t.email = $1)`,
		member, assignee).Scan(&ok)
	return ok, err
}
