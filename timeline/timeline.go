// Package timeline is an account's story as people read it: the notes the
// team logs (calls, meetings, anything else) and what happened to the
// account (runs, emails, approvals, tasks, health, risk signals, reported
// events), as one list, newest first. A csm logs notes on the accounts of
// their ladder; the latest call or meeting is the account's last contact,
// which the health model reads as days since last contact.
package timeline

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

// Bounds of a note.
const (
	MaxBodyBytes = 10000
	// MaxBackdate is how far back a note may say it happened; a call
	// logged further back is a typing mistake.
	MaxBackdate = 10 * 365 * 24 * time.Hour
	// clockSkew lets a note happen "now" by a browser's slightly fast clock.
	clockSkew = 5 * time.Minute
)

// Sentinel errors.
var ErrUnknownAccount = errors.New("account not found")

// Store is what the timeline needs from PostgreSQL.
type Store interface {
	GetAccount(ctx context.Context, id string) (store.Account, error)
	AddNote(ctx context.Context, in store.NewNote) (store.Note, error)
	Timeline(ctx context.Context, accountID string, after *store.TimelineKey, n int) ([]store.TimelineEntry, error)
	LastContact(ctx context.Context, accountID string, at time.Time) (*time.Time, error)
	team.Ladder
}

// Service logs notes and reads timelines.
type Service struct {
	Store Store
	Now   func() time.Time
}

// NewNote is a note as a person logs it.
type NewNote struct {
	Kind       string // call | meeting | note
	Body       string
	HappenedAt *time.Time // nil: now
}

// AddNote logs a note on an account. A csm logs on the accounts of their
// ladder (the account's CSM is them or below them), admin and ops on any.
func (s *Service) AddNote(ctx context.Context, by team.Actor, accountID string, in NewNote) (store.Note, error) {
	now := s.Now()
	happened := now
	bad := &invalid.Error{What: "note"}
	add := bad.Add
	if !slices.Contains(store.NoteKinds, in.Kind) {
		add("kind", "must be one of %s", strings.Join(store.NoteKinds, ", "))
	}
	switch body := strings.TrimSpace(in.Body); {
	case body == "":
		add("body", "required: what was said or done")
	case len(in.Body) > MaxBodyBytes:
		add("body", "at most %d bytes", MaxBodyBytes)
	}
	if in.HappenedAt != nil {
		switch h := *in.HappenedAt; {
		case h.After(now.Add(clockSkew)):
			add("happened_at", "must not be in the future")
		case now.Sub(h) > MaxBackdate:
			add("happened_at", "at most %d years ago", int(MaxBackdate/(365*24*time.Hour)))
		default:
			happened = h
		}
	}
	if len(bad.Errors) > 0 {
		return store.Note{}, bad
	}
	if _, err := s.account(ctx, by, accountID); err != nil {
		return store.Note{}, err
	}
	n, err := s.Store.AddNote(ctx, store.NewNote{AccountID: accountID, Kind: in.Kind, Body: strings.TrimSpace(in.Body),
		AuthorEmail: by.Name(), HappenedAt: happened.UTC()})
	if errors.Is(err, store.ErrNotFound) {
		return store.Note{}, ErrUnknownAccount
	}
	return n, err
}

// account finds the account a csm may act on.
func (s *Service) account(ctx context.Context, by team.Actor, id string) (store.Account, error) {
	acct, err := s.Store.GetAccount(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, ErrUnknownAccount
	}
	if err != nil {
		return store.Account{}, err
	}
	return acct, team.MayAct(ctx, s.Store, by, acct.CSMEmail)
}

// LastContact is when the account's latest call or meeting happened (nil:
// none logged).
func (s *Service) LastContact(ctx context.Context, accountID string) (*time.Time, error) {
	return s.Store.LastContact(ctx, accountID, s.Now().Add(clockSkew))
}

// Entry is one line of the timeline.
type Entry struct {
	// Kind is what the entry is about: call, meeting, note (logged by
	// people), run, email, approval, task, health, risk_signal, event (one
	// reported to the account) or account.
	Kind string
	// Type is precise: the note's kind, or the audit event's type
	// (run_started, email_sent, event:first_login, ...).
	Type    string
	At      time.Time
	Summary string
	By      string // who logged the note, or acted ("" when nobody did)
	Body    string // a note's text
	// Links to what the entry is about, when it is about them.
	RunID      *uuid.UUID
	TaskID     *uuid.UUID
	ApprovalID *uuid.UUID
	EmailID    *uuid.UUID
	NoteID     *uuid.UUID
	EventID    *int64
	// Key is where the entry stands in the list: the cursor of the page
	// that follows it.
	Key store.TimelineKey
}

// List returns a page of an account's timeline, newest first, after the
// given entry (nil: from the newest). Everyone who reads accounts reads
// their timelines.
func (s *Service) List(ctx context.Context, accountID string, after *store.TimelineKey, n int) ([]Entry, error) {
	if _, err := s.Store.GetAccount(ctx, accountID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrUnknownAccount
		}
		return nil, err
	}
	rows, err := s.Store.Timeline(ctx, accountID, after, n)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = entryOf(r)
	}
	return out, nil
}

func entryOf(r store.TimelineEntry) Entry {
	e := Entry{Type: r.Type, At: r.At, RunID: r.RunID, Key: store.TimelineKey{At: r.At, Source: r.Source, ID: r.ID}}
	if r.Source == store.TimelineNote {
		e.Kind, e.Body = r.Type, deref(r.Body)
		e.By = deref(r.Author)
		if id, err := uuid.Parse(r.ID); err == nil {
			e.NoteID = &id
		}
		e.Summary = noteSummary(r.Type, e.By, e.Body)
		return e
	}
	if id, err := strconv.ParseInt(r.ID, 10, 64); err == nil {
		e.EventID = &id
	}
	e.TaskID, e.ApprovalID, e.EmailID = dataUUID(r.Data, "task_id"), dataUUID(r.Data, "approval_id"), dataUUID(r.Data, "email_id")
	if by, ok := r.Data["by"].(string); ok {
		e.By = by
	}
	e.Kind = kindOf(r.Type)
	e.Summary = eventSummary(r.Type, r.Data)
	return e
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// dataUUID reads an id an event's data names.
func dataUUID(data map[string]any, key string) *uuid.UUID {
	s, ok := data[key].(string)
	if !ok {
		return nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil
	}
	return &id
}
