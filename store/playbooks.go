package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/playbookd/playbookd/states"
)

// ErrArchived refuses publishing a version that has been archived.
var ErrArchived = errors.New("this version is archived")

// PlaybookVersion is one stored version of a playbook definition.
type PlaybookVersion struct {
	Key          string
	Version      int
	Name         string
	Status       states.Version
	Definition   json.RawMessage
	Source       string
	SourceFormat string
	Builtin      bool
	CreatedAt    time.Time
	PublishedAt  *time.Time
}

// NewPlaybookVersion is the input of CreatePlaybookVersion.
type NewPlaybookVersion struct {
	Key          string
	Name         string
	Definition   json.RawMessage
	Source       string
	SourceFormat string
	Builtin      bool
	// FirstOnly stores it only as version 1 of a new key (a duplicate):
	// ErrKeyTaken when the key already has versions.
	FirstOnly bool
}

// CreatePlaybookVersion stores a new draft with the next version number.
func (s *Store) CreatePlaybookVersion(ctx context.Context, in NewPlaybookVersion) (PlaybookVersion, error) {
	var v PlaybookVersion
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		v, err = createVersion(ctx, tx, in)
		return err
	})
	return v, err
}

func createVersion(ctx context.Context, tx pgx.Tx, in NewPlaybookVersion) (PlaybookVersion, error) {
	// Serialise version numbering per key.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('playbook:' || $1))`, in.Key); err != nil {
		return PlaybookVersion{}, fmt.Errorf("lock playbook %s: %w", in.Key, err)
	}
	if in.FirstOnly {
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM playbook_versions WHERE key = $1)`, in.Key).Scan(&taken); err != nil {
			return PlaybookVersion{}, fmt.Errorf("check playbook %s: %w", in.Key, err)
		}
		if taken {
			return PlaybookVersion{}, fmt.Errorf("%w: %s", ErrKeyTaken, in.Key)
		}
	}
	return rowOf[PlaybookVersion](ctx, tx, `
		INSERT INTO playbook_versions (key, version, name, definition, source, source_format, builtin)
		SELECT $1, COALESCE(max(version), 0) + 1, $2, $3, $4, $5, $6 FROM playbook_versions WHERE key = $1
		RETURNING `+versionColumns,
		in.Key, in.Name, in.Definition, in.Source, in.SourceFormat, in.Builtin)
}

// SaveDraft stores in as the playbook's latest draft: the newest version
// is rewritten when it is a draft that was never published and no run
// started from (the editor's saves do not pile up), and otherwise in
// becomes the next version. replaced says which. The advisory lock orders
// it with numbering and publishing (a draft being published is not
// rewritten under it); the row lock holds the version while it is read
// and rewritten; the database trigger refuses rewriting any other.
func (s *Store) SaveDraft(ctx context.Context, in NewPlaybookVersion) (v PlaybookVersion, replaced bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('playbook:' || $1))`, in.Key); err != nil {
			return fmt.Errorf("lock playbook %s: %w", in.Key, err)
		}
		var (
			latest     int
			rewritable bool
		)
		err := tx.QueryRow(ctx, `
			SELECT v.version, v.status = 'draft' AND v.published_at IS NULL
			       AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.playbook_key = v.key AND r.playbook_version = v.version)
			FROM playbook_versions v WHERE v.key = $1
			ORDER BY v.version DESC LIMIT 1 FOR UPDATE OF v`, in.Key).Scan(&latest, &rewritable)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("latest version of %s: %w", in.Key, err)
		}
		if !rewritable {
			v, err = createVersion(ctx, tx, in)
			return err
		}
		replaced = true
		v, err = rowOf[PlaybookVersion](ctx, tx, `
			UPDATE playbook_versions SET name = $3, definition = $4, source = $5, source_format = $6, builtin = $7
			WHERE key = $1 AND version = $2 RETURNING `+versionColumns,
			in.Key, latest, in.Name, in.Definition, in.Source, in.SourceFormat, in.Builtin)
		return err
	})
	return v, replaced, err
}

// PublishPlaybookVersion publishes a draft and archives the version it
// replaces. Publishing the published version again is a no-op.
func (s *Store) PublishPlaybookVersion(ctx context.Context, key string, version int) (PlaybookVersion, error) {
	var v PlaybookVersion
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		v, err = publish(ctx, tx, key, version)
		return err
	})
	return v, err
}

func publish(ctx context.Context, tx pgx.Tx, key string, version int) (PlaybookVersion, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('playbook:' || $1))`, key); err != nil {
		return PlaybookVersion{}, fmt.Errorf("lock playbook %s: %w", key, err)
	}
	v, err := rowOf[PlaybookVersion](ctx, tx, `SELECT `+versionColumns+` FROM playbook_versions WHERE key = $1 AND version = $2`, key, version)
	if err != nil {
		return PlaybookVersion{}, err
	}
	switch v.Status {
	case states.VersionPublished:
		return v, nil
	case states.VersionArchived:
		return PlaybookVersion{}, ErrArchived
	case states.VersionDraft: // published below, archiving the one before
	}
	if _, err := tx.Exec(ctx, `UPDATE playbook_versions SET status = 'archived' WHERE key = $1 AND status = 'published'`, key); err != nil {
		return PlaybookVersion{}, fmt.Errorf("archive previous version: %w", err)
	}
	return rowOf[PlaybookVersion](ctx, tx, `
		UPDATE playbook_versions SET status = 'published', published_at = now()
		WHERE key = $1 AND version = $2 RETURNING `+versionColumns, key, version)
}

// SeedPlaybook makes sure the given source is the published version of a
// built-in playbook: unchanged sources are left alone, changed ones become a
// new published version. It returns the published version.
func (s *Store) SeedPlaybook(ctx context.Context, in NewPlaybookVersion) (PlaybookVersion, bool, error) {
	var (
		v       PlaybookVersion
		changed bool
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('playbook:' || $1))`, in.Key); err != nil {
			return err
		}
		current, err := rowOf[PlaybookVersion](ctx, tx, `SELECT `+versionColumns+`
			FROM playbook_versions WHERE key = $1 AND status = 'published'`, in.Key)
		if err == nil && current.Source == in.Source {
			v = current
			return nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		draft, err := createVersion(ctx, tx, in)
		if err != nil {
			return err
		}
		changed = true
		v, err = publish(ctx, tx, draft.Key, draft.Version)
		return err
	})
	return v, changed, err
}

// GetPlaybookVersion returns one version; version 0 means the published one,
// or the latest draft when none is published.
func (s *Store) GetPlaybookVersion(ctx context.Context, key string, version int) (PlaybookVersion, error) {
	if version > 0 {
		return rowOf[PlaybookVersion](ctx, s.pool, `SELECT `+versionColumns+`
			FROM playbook_versions WHERE key = $1 AND version = $2`, key, version)
	}
	return rowOf[PlaybookVersion](ctx, s.pool, `SELECT `+versionColumns+`
		FROM playbook_versions WHERE key = $1 AND status <> 'archived'
		ORDER BY status = 'published' DESC, version DESC LIMIT 1`, key)
}

// Runnable is the version a start would take, without its definition.
type Runnable struct {
	Version int
	Status  states.Version
	// Retired: the playbook takes no new enrolments.
	Retired bool
}

// RunnableVersion names the version GetPlaybookVersion would return, its
// status and whether the playbook is retired, without the definition:
// starts use it to find a definition they may have cached (versions other
// than drafts never change).
func (s *Store) RunnableVersion(ctx context.Context, key string, version int) (Runnable, error) {
	var r Runnable
	err := s.pool.QueryRow(ctx, `
		SELECT v.version, v.status, p.retired_at IS NOT NULL FROM playbook_versions v
		LEFT JOIN playbooks p ON p.key = v.key
		WHERE v.key = $1 AND (v.version = $2 OR ($2 = 0 AND v.status <> 'archived'))
		ORDER BY v.status = 'published' DESC, v.version DESC LIMIT 1`, key, version).Scan(&r.Version, &r.Status, &r.Retired)
	if err != nil {
		return Runnable{}, notFound(err)
	}
	return r, nil
}

// SetPlaybookRetired retires a playbook (retired true: no new enrolments
// from then on; its live runs go on) or takes it back. Retiring a retired
// playbook keeps the time it was first retired. It returns when the
// playbook is retired (nil: it is not), or ErrNotFound for a key without
// versions.
func (s *Store) SetPlaybookRetired(ctx context.Context, key string, retired bool) (*time.Time, error) {
	var at *time.Time
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('playbook:' || $1))`, key); err != nil {
			return fmt.Errorf("lock playbook %s: %w", key, err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM playbook_versions WHERE key = $1)`, key).Scan(&exists); err != nil {
			return fmt.Errorf("check playbook %s: %w", key, err)
		}
		if !exists {
			return ErrNotFound
		}
		return tx.QueryRow(ctx, `
			INSERT INTO playbooks (key, retired_at) VALUES ($1, CASE WHEN $2 THEN now() END)
			ON CONFLICT (key) DO UPDATE SET retired_at = CASE WHEN $2 THEN COALESCE(playbooks.retired_at, now()) END
			RETURNING retired_at`, key, retired).Scan(&at)
	})
	return at, err
}

// PlaybookRetiredAt says when a playbook was retired; nil: it is not.
func (s *Store) PlaybookRetiredAt(ctx context.Context, key string) (*time.Time, error) {
	var at *time.Time
	err := s.pool.QueryRow(ctx, `SELECT retired_at FROM playbooks WHERE key = $1`, key).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return at, err
}

// PlaybookSummary describes a playbook across its versions.
type PlaybookSummary struct {
	Key              string
	Name             string
	PublishedVersion *int
	LatestVersion    int
	Drafts           int
	Builtin          bool
	// RetiredAt is when the playbook stopped taking new enrolments.
	RetiredAt *time.Time
}

// ListPlaybooks returns playbook keys after afterKey with their versions, by key.
func (s *Store) ListPlaybooks(ctx context.Context, afterKey string, n int) ([]PlaybookSummary, error) {
	return rowsOf[PlaybookSummary](ctx, s.pool, `
		SELECT key,
		       (array_agg(name ORDER BY version DESC))[1] AS name,
		       max(version) FILTER (WHERE status = 'published') AS published_version,
		       max(version) AS latest_version,
		       count(*) FILTER (WHERE status = 'draft')::int AS drafts,
		       bool_or(builtin) AS builtin,
		       (SELECT p.retired_at FROM playbooks p WHERE p.key = v.key) AS retired_at
		FROM playbook_versions v WHERE key > $1 GROUP BY key ORDER BY key LIMIT $2`, afterKey, limit(n))
}

// PublishedDefinitions returns the definition of every published playbook,
// by key (for cycle checks across start_playbook).
func (s *Store) PublishedDefinitions(ctx context.Context) (map[string]json.RawMessage, error) {
	return s.published(ctx, `definition`)
}

// PublishedTriggers returns the trigger block of every published playbook
// that is not retired, by key (JSON null for one without): every account
// save and snapshot reads them, so only the blocks travel. A retired
// playbook fires nothing.
func (s *Store) PublishedTriggers(ctx context.Context) (map[string]json.RawMessage, error) {
	return s.published(ctx, `COALESCE(definition->'trigger', 'null'::jsonb)`,
		`AND NOT EXISTS (SELECT 1 FROM playbooks p WHERE p.key = playbook_versions.key AND p.retired_at IS NOT NULL)`)
}

// published returns one JSON expression of every published version, by
// key, with a further condition.
func (s *Store) published(ctx context.Context, expr string, and ...string) (map[string]json.RawMessage, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, `+expr+` FROM playbook_versions WHERE status = 'published' `+strings.Join(and, " "))
	if err != nil {
		return nil, fmt.Errorf("list published playbooks: %w", err)
	}
	defer rows.Close()
	out := map[string]json.RawMessage{}
	for rows.Next() {
		var key string
		var def json.RawMessage
		if err := rows.Scan(&key, &def); err != nil {
			return nil, err
		}
		out[key] = def
	}
	return out, rows.Err()
}

const versionColumns = `key, version, name, status, definition, source, source_format, builtin, created_at, published_at`

// ListPlaybookVersions returns every version of a playbook, newest first.
func (s *Store) ListPlaybookVersions(ctx context.Context, key string) ([]PlaybookVersion, error) {
	return rowsOf[PlaybookVersion](ctx, s.pool, `SELECT `+versionColumns+`
		FROM playbook_versions WHERE key = $1 ORDER BY version DESC`, key)
}

// RunCount is how many runs of a playbook version are in a status, with an
// outcome ("" while live or when none was recorded).
type RunCount struct {
	Key     string
	Version int
	Status  states.Run
	Outcome string
	Runs    int
}

// PlaybookRunCounts counts the runs of the playbooks by version, status and
// outcome: what the console's playbook pages and a publish confirmation say.
func (s *Store) PlaybookRunCounts(ctx context.Context, keys []string) ([]RunCount, error) {
	return rowsOf[RunCount](ctx, s.pool, `
		SELECT playbook_key AS key, playbook_version AS version, status, COALESCE(outcome, '') AS outcome, count(*)::int AS runs
		FROM runs WHERE playbook_key = ANY($1)
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, keys)
}
