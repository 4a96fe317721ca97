package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Secret is a named secret as it is listed: never its value.
type Secret struct {
	Name      string
	CreatedBy string
	UpdatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Sentinel errors of secrets.
var (
	// ErrUnknownSecret is returned for a secret name that is not stored.
	ErrUnknownSecret = errors.New("no secret with this name")
	// ErrSecretInUse refuses to delete a secret that a published version,
	// or a version with live runs, names: its runs would fail at the step.
	ErrSecretInUse = errors.New("playbook versions in use name this secret")
)

const secretColumns = `name, created_by, updated_by, created_at, updated_at`

// PutSecret stores a secret's value under its name, replacing the one
// before; by says who (a key's description). It reports whether the name
// is new.
func (s *Store) PutSecret(ctx context.Context, name, value, by string) (Secret, bool, error) {
	var sec Secret
	var created bool
	err := s.pool.QueryRow(ctx, `
		INSERT INTO secrets (name, value, created_by, updated_by) VALUES ($1, $2, $3, $3)
		ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()
		RETURNING `+secretColumns+`, xmax = 0`, name, value, by).
		Scan(&sec.Name, &sec.CreatedBy, &sec.UpdatedBy, &sec.CreatedAt, &sec.UpdatedAt, &created)
	return sec, created, err
}

// DeleteSecret forgets a secret, unless a version that is published or has
// live runs names it (ErrSecretInUse, wrapped with their names): publish
// another version first. Drafts that name it cannot be published after.
func (s *Store) DeleteSecret(ctx context.Context, name string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		// Locked first, so that two deletes do not both read "in use" stale.
		var found string
		err := tx.QueryRow(ctx, `SELECT name FROM secrets WHERE name = $1 FOR UPDATE`, name).Scan(&found)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrUnknownSecret
		}
		if err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `
			SELECT v.key || ' v' || v.version FROM playbook_versions v
			WHERE jsonb_path_exists(v.definition, '$.**.notify.secret ? (@ == $name)', jsonb_build_object('name', $1::text))
			  AND (v.status = 'published' OR EXISTS (SELECT 1 FROM runs r WHERE r.playbook_key = v.key
			       AND r.playbook_version = v.version AND r.status IN ('running', 'paused')))
			ORDER BY v.key, v.version`, name)
		users, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return fmt.Errorf("%w: %s", ErrSecretInUse, strings.Join(users, ", "))
		}
		_, err = tx.Exec(ctx, `DELETE FROM secrets WHERE name = $1`, name)
		return err
	})
}

// ListSecrets returns the secrets by name, after a page cursor (the last
// name seen; "" for the first page): names and who wrote them, never values.
func (s *Store) ListSecrets(ctx context.Context, after string, n int) ([]Secret, error) {
	return rowsOf[Secret](ctx, s.pool, `SELECT `+secretColumns+` FROM secrets WHERE name > $1 ORDER BY name LIMIT $2`, after, limit(n))
}

// SecretValue is a secret's value, for the worker that posts with it.
func (s *Store) SecretValue(ctx context.Context, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrUnknownSecret
	}
	return v, err
}

// MissingSecrets are the names, of those given, that no secret has.
func (s *Store) MissingSecrets(ctx context.Context, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, `
		SELECT n FROM unnest($1::text[]) WITH ORDINALITY AS given(n, i)
		WHERE NOT EXISTS (SELECT 1 FROM secrets WHERE name = given.n) ORDER BY i`, names)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
