package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// NewFiring asks for a playbook to start for an account on an occasion;
// the same (account, playbook, occasion) fires once, ever.
type NewFiring struct {
	PlaybookKey string
	Occasion    string
}

// Firing states.
const (
	FiringPending     = "pending"
	FiringStarted     = "started"
	FiringAlreadyLive = "already_live"
	FiringSkipped     = "skipped"
)

// Firing is a trigger that fired for an account.
type Firing struct {
	ID          int64
	AccountID   string
	PlaybookKey string
	Occasion    string
	Status      string
	RunID       *uuid.UUID
	Detail      string
	CreatedAt   time.Time
}

func addFirings(ctx context.Context, q querier, accountID string, firings []NewFiring) error {
	for _, f := range firings {
		_, err := q.Exec(ctx, `
			INSERT INTO trigger_firings (account_id, playbook_key, occasion) VALUES ($1, $2, $3)
			ON CONFLICT (account_id, playbook_key, occasion) DO NOTHING`, accountID, f.PlaybookKey, f.Occasion)
		if err != nil {
			return fmt.Errorf("record trigger %s for %s: %w", f.PlaybookKey, f.Occasion, err)
		}
	}
	return nil
}

// AddFirings records firings for an account; occasions already recorded are
// left as they are.
func (s *Store) AddFirings(ctx context.Context, accountID string, firings []NewFiring) error {
	return addFirings(ctx, s.pool, accountID, firings)
}

// PendingFirings returns unprocessed firings, oldest first: of one account,
// or of every account when accountID is empty.
func (s *Store) PendingFirings(ctx context.Context, accountID string, n int) ([]Firing, error) {
	return rowsOf[Firing](ctx, s.pool, firingSelect+`
		WHERE status = 'pending' AND ($1::text = '' OR account_id = $1)
		ORDER BY id LIMIT $2`, accountID, n)
}

// AccountFirings returns an account's firings, newest first.
func (s *Store) AccountFirings(ctx context.Context, accountID string, n int) ([]Firing, error) {
	return rowsOf[Firing](ctx, s.pool, firingSelect+` WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, accountID, limit(n))
}

const firingSelect = `SELECT id, account_id, playbook_key, occasion, status, run_id, detail, created_at FROM trigger_firings`

// SettleFiring records what became of a firing; a firing settled already
// (by a concurrent sweep) is left alone.
func (s *Store) SettleFiring(ctx context.Context, id int64, status string, runID *uuid.UUID, detail string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var accountID, key string
		err := tx.QueryRow(ctx, `
			UPDATE trigger_firings SET status = $2, run_id = $3, detail = $4, processed_at = now()
			WHERE id = $1 AND status = 'pending' RETURNING account_id, playbook_key`, id, status, runID, detail,
		).Scan(&accountID, &key)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("settle firing %d: %w", id, err)
		}
		return appendEvent(ctx, tx, accountID, runID, "playbook_triggered",
			map[string]any{"playbook": key, "firing_id": id, "result": status, "detail": detail})
	})
}

// addEventFirings records firings whose occasion is one event of the
// account's timeline (a risk signal, a reported event, a stage change): the
// event's id ends the occasion, so each event fires once, and the next one
// again.
func addEventFirings(ctx context.Context, q querier, accountID string, eventID int64, firings []NewFiring) error {
	own := make([]NewFiring, len(firings))
	for i, f := range firings {
		own[i] = NewFiring{PlaybookKey: f.PlaybookKey, Occasion: fmt.Sprintf("%s#event-%d", f.Occasion, eventID)}
	}
	return addFirings(ctx, q, accountID, own)
}

// RecordRiskSignal adds a risk signal seen in an event to the account's
// timeline, with the firings it causes, in one transaction.
func (s *Store) RecordRiskSignal(ctx context.Context, accountID, signal string, data map[string]any, firings []NewFiring) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		raw := map[string]any{"signal": signal}
		for k, v := range data {
			raw[k] = v
		}
		id, err := insertEvent(ctx, tx, accountID, nil, "risk_signal", raw)
		if err != nil {
			return err
		}
		if err := addEventFirings(ctx, tx, accountID, id, firings); err != nil {
			return err
		}
		return recordRiskAlert(ctx, tx, accountID, fmt.Sprintf("#event-%d", id), nil, nil, nil, []string{signal})
	})
}

// StageChange is an account's lifecycle stage changing, with the account's
// status after the change.
type StageChange struct {
	From, To, Status string
}

// StagePlanner plans the firings of a stage change; nil plans none.
type StagePlanner func(StageChange) []NewFiring

// lockStage reads an account's stage and status and locks its row until the
// transaction ends, so concurrent saves see each other's stage and a change
// is seen (and fires) once.
func lockStage(ctx context.Context, tx pgx.Tx, id string) (stage, status string, found bool, err error) {
	err = tx.QueryRow(ctx, `SELECT lifecycle_stage, status FROM accounts WHERE id = $1 FOR UPDATE`, id).Scan(&stage, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("lock account %s: %w", id, err)
	}
	return stage, status, true, nil
}

// recordStageChange puts a stage change on the account's timeline
// (lifecycle_stage_changed) with the firings it causes; no change, nothing.
func recordStageChange(ctx context.Context, tx pgx.Tx, accountID string, runID *uuid.UUID, c StageChange, plan StagePlanner) error {
	if c.From == c.To {
		return nil
	}
	id, err := insertEvent(ctx, tx, accountID, runID, "lifecycle_stage_changed", map[string]any{"from": c.From, "to": c.To})
	if err != nil || plan == nil {
		return err
	}
	return addEventFirings(ctx, tx, accountID, id, plan(c))
}

// RecordAccountEvent records an account event (reported through the API)
// on the audit timeline with the firings it causes, in one transaction.
func (s *Store) RecordAccountEvent(ctx context.Context, accountID, name string, data map[string]any, firings []NewFiring) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		return recordAccountEvent(ctx, tx, accountID, nil, name, data, firings)
	})
}

// recordAccountEvent puts an account event (event:<name>) on the timeline
// with the firings it causes: what reported events and survey answers
// share.
func recordAccountEvent(ctx context.Context, q querier, accountID string, runID *uuid.UUID, name string, data map[string]any, firings []NewFiring) error {
	id, err := insertEvent(ctx, q, accountID, runID, "event:"+name, data)
	if err != nil {
		return err
	}
	return addEventFirings(ctx, q, accountID, id, firings)
}

// CountAccountEvents counts events of a type since a moment, optionally only
// those whose data field has one of the given values.
func (s *Store) CountAccountEvents(ctx context.Context, accountID, typ string, since time.Time, field string, values []string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		SELECT count(*) FROM events
		WHERE account_id = $1 AND type = $2 AND created_at >= $3 AND ($4::text = '' OR data->>$4::text = ANY($5::text[]))`,
		accountID, typ, since, field, values).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

// RenewalCandidate is an active account and its renewal date.
type RenewalCandidate struct {
	AccountID   string
	RenewalDate time.Time
}

// RenewalsWithin returns active accounts renewing between today and today
// plus days, after the given account id (a keyset page).
func (s *Store) RenewalsWithin(ctx context.Context, today time.Time, days int, after string, n int) ([]RenewalCandidate, error) {
	return rowsOf[RenewalCandidate](ctx, s.pool, `
		SELECT id AS account_id, renewal_date FROM accounts
		WHERE status = 'active' AND renewal_date BETWEEN $1::date AND $1::date + $2::int AND id > $3
		ORDER BY id LIMIT $4`, today, days, after, n)
}

// ScheduleCandidate is an active account and the date a schedule trigger
// counts from.
type ScheduleCandidate struct {
	AccountID  string
	AnchorDate time.Time
}

// scheduleAnchors are the account dates a schedule trigger may count from,
// as SQL over the accounts row a: contract_start, or created (the UTC day
// the account was created).
var scheduleAnchors = map[string]string{
	"contract_start": `a.contract_start`,
	"created":        `(a.created_at AT TIME ZONE 'UTC')::date`,
}

// SchedulesDue returns the active accounts in a published playbook's
// segments (all, when it names none) whose anchor date has an occasion of
// the schedule due today: the anchor date plus k·everyDays (k ≥ 1) on
// today's date (UTC) or in the graceDays-1 days before it. It pages by
// account id, after the given one. Accounts without the date have no
// occasions.
func (s *Store) SchedulesDue(ctx context.Context, playbookKey, anchor string, today time.Time, everyDays, graceDays int, after string, n int) ([]ScheduleCandidate, error) {
	expr, ok := scheduleAnchors[anchor]
	if !ok {
		return nil, fmt.Errorf("schedule anchor %q: not an account date", anchor)
	}
	if everyDays <= 0 || graceDays <= 0 {
		return nil, fmt.Errorf("schedule every %d days with a grace of %d days: both must be positive", everyDays, graceDays)
	}
	t := today.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return rowsOf[ScheduleCandidate](ctx, s.pool, `
		SELECT a.id AS account_id, d.anchor_date FROM accounts a
		CROSS JOIN LATERAL (SELECT `+expr+` AS anchor_date) d
		WHERE a.status = 'active' AND a.id > $5 AND d.anchor_date IS NOT NULL
		  AND $1::date - d.anchor_date >= $2::int
		  AND ($1::date - d.anchor_date) % $2::int < $3::int
		  AND EXISTS (SELECT 1 FROM playbook_versions v WHERE v.key = $4 AND v.status = 'published'
		              AND (jsonb_typeof(v.definition->'segments') IS DISTINCT FROM 'array'
		                   OR jsonb_array_length(v.definition->'segments') = 0
		                   OR v.definition->'segments' ? a.segment))
		ORDER BY a.id LIMIT $6`, day, everyDays, graceDays, playbookKey, after, n)
}
