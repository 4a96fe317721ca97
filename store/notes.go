package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Note kinds: a call or a meeting is a contact with the customer (the
// latest is the account's last contact); a note is anything else.
const (
	NoteCall    = "call"
	NoteMeeting = "meeting"
	NoteNote    = "note"
)

// NoteKinds lists the kinds, as the table's CHECK does.
var NoteKinds = []string{NoteCall, NoteMeeting, NoteNote}

// Note is a call, meeting or note a team member logged on an account.
type Note struct {
	ID          uuid.UUID
	AccountID   string
	Kind        string
	Body        string
	AuthorEmail string
	HappenedAt  time.Time
	CreatedAt   time.Time
}

// NewNote is the input of AddNote.
type NewNote struct {
	AccountID   string
	Kind        string
	Body        string
	AuthorEmail string
	HappenedAt  time.Time
}

// AddNote stores a note; ErrNotFound when there is no such account.
func (s *Store) AddNote(ctx context.Context, in NewNote) (Note, error) {
	n, err := rowOf[Note](ctx, s.pool, `
		INSERT INTO account_notes (account_id, kind, body, author_email, happened_at) VALUES ($1, $2, $3, $4, $5)
		RETURNING id, account_id, kind, body, author_email, happened_at, created_at`,
		in.AccountID, in.Kind, in.Body, in.AuthorEmail, in.HappenedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation: the account
		return Note{}, ErrNotFound
	}
	return n, err
}

// LastContact is when the account's latest call or meeting at or before
// at happened; nil when it has none.
func (s *Store) LastContact(ctx context.Context, accountID string, at time.Time) (*time.Time, error) {
	var last *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT max(happened_at) FROM account_notes
		WHERE account_id = $1 AND kind IN ('call', 'meeting') AND happened_at <= $2`, accountID, at).Scan(&last)
	if err != nil {
		return nil, fmt.Errorf("last contact: %w", err)
	}
	return last, nil
}

// TimelineEntry is one entry of an account's timeline: a note, or an
// audit event (runs, emails, approvals, tasks, health, risk signals,
// reported events).
type TimelineEntry struct {
	Source string // "note" or "event"
	ID     string // the note's uuid, or the event's number
	Type   string // the note's kind, or the event's type
	At     time.Time
	RunID  *uuid.UUID
	Author *string // a note's
	Body   *string // a note's
	Data   map[string]any
}

// Timeline sources.
const (
	TimelineNote  = "note"
	TimelineEvent = "event"
)

// TimelineKey is where a page of a timeline ends; the next page starts
// after it. Nil: the first page.
type TimelineKey struct {
	At     time.Time
	Source string
	ID     string
}

// Timeline returns an account's notes and audit events as one list,
// newest first: notes by when they happened, events by when they were
// recorded.
func (s *Store) Timeline(ctx context.Context, accountID string, after *TimelineKey, n int) ([]TimelineEntry, error) {
	var (
		at          *time.Time
		source, key string
	)
	if after != nil {
		at, source, key = &after.At, after.Source, after.ID
	}
	// Event ids are padded, so that the text order of the keyset is theirs.
	rows, _ := s.pool.Query(ctx, `
		SELECT source, id, type, at, run_id, author, body, data FROM (
			SELECT 'note' AS source, n.id::text AS id, n.kind AS type, n.happened_at AS at, NULL::uuid AS run_id,
			       n.author_email AS author, n.body AS body, '{}'::jsonb AS data
			FROM account_notes n WHERE n.account_id = $1
			UNION ALL
			SELECT 'event', lpad(e.id::text, 20, '0'), e.type, e.created_at, e.run_id, NULL, NULL, e.data
			FROM events e WHERE e.account_id = $1
		) x
		WHERE $2::timestamptz IS NULL OR (x.at, x.source, x.id) < ($2, $3, $4)
		ORDER BY x.at DESC, x.source DESC, x.id DESC LIMIT $5`, accountID, at, source, key, limit(n))
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[TimelineEntry])
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	return out, nil
}
