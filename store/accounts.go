package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Account is a customer account with its contacts. Dates are YYYY-MM-DD.
type Account struct {
	ID             string
	Name           string
	ARR            float64
	Segment        string
	CSMEmail       string
	CSMName        string
	Timezone       string
	ContractStart  *string
	RenewalDate    *string
	LifecycleStage string
	Status         string
	CustomFields   json.RawMessage
	Contacts       []Contact
	Health         *HealthSummary // the latest snapshot; nil before the first
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// HealthSummary is an account's latest health snapshot in brief.
type HealthSummary struct {
	Score      float64
	Band       string
	Signals    []string
	MeasuredAt time.Time
	Inputs     json.RawMessage // the measurement, as health.Inputs
	Components json.RawMessage // the scoring, as health.Result
}

// latestHealth is a lateral join giving h.* of the latest snapshot of a.
const latestHealth = `LEFT JOIN LATERAL (
			SELECT score::float8 AS score, band, signals, measured_at, inputs, components FROM health_snapshots
			WHERE account_id = a.id ORDER BY measured_at DESC, id DESC LIMIT 1) h ON true`

func healthSummary(score *float64, band *string, signals []string, at *time.Time, inputs, components json.RawMessage) *HealthSummary {
	if score == nil {
		return nil
	}
	return &HealthSummary{Score: *score, Band: *band, Signals: signals, MeasuredAt: *at, Inputs: inputs, Components: components}
}

// Contact is a person at a customer account. Unsubscribed is also true when
// the address is on the suppression list (bounced, reported spam).
type Contact struct {
	ID           uuid.UUID
	Email        string
	Name         string
	Role         string
	Unsubscribed bool
}

// UpsertAccount is the input of UpsertAccount, already validated.
// Tagged: an import stores it as JSONB (import_rows.account, by Go field
// name); the tags below keep the triggers and the row reference out.
type UpsertAccount struct {
	ID             string
	Name           string
	ARR            float64
	Segment        string
	CSMEmail       string
	Timezone       string
	ContractStart  *time.Time
	RenewalDate    *time.Time
	LifecycleStage string
	Status         string
	CustomFields   json.RawMessage // nil keeps what is stored
	Contacts       []UpsertContact
	// Triggers to record with the account in the same transaction: OnCreate
	// only when the account is new, Firings in any case, and what
	// OnStageChange plans when the save changes an existing account's
	// lifecycle stage.
	OnCreate      []NewFiring  `json:"-"`
	Firings       []NewFiring  `json:"-"`
	OnStageChange StagePlanner `json:"-"`
	// ImportRow, when set, is the import row this save applies: marked
	// applied in the same transaction, so a retried batch applies no row
	// twice (ErrImportRowApplied).
	ImportRow *ImportRowRef `json:"-"`
}

// UpsertContact adds or updates a contact by email. Contacts not listed are
// kept, and the unsubscribed flag is never cleared here: only the recipient
// can change their mind through the unsubscribe flow.
type UpsertContact struct {
	Email string
	Name  string
	Role  string
}

// UpsertAccount creates or updates an account and its listed contacts in one
// transaction; it reports whether the account is new.
func (s *Store) UpsertAccount(ctx context.Context, in UpsertAccount) (Account, bool, error) {
	var created bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// A deactivated member is given no account (ErrInactiveMember).
		csmID, err := activeMember(ctx, tx, in.CSMEmail)
		if errors.Is(err, ErrUnknownMember) {
			return ErrUnknownCSM
		}
		if err != nil {
			return err
		}
		before, _, existed, err := lockStage(ctx, tx, in.ID)
		if err != nil {
			return err
		}
		custom := in.CustomFields
		if custom == nil {
			custom = json.RawMessage(`null`)
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO accounts (id, name, arr, segment, csm_id, timezone, contract_start, renewal_date,
			                      lifecycle_stage, status, custom_fields)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11::jsonb, '{}'::jsonb))
			ON CONFLICT (id) DO UPDATE SET
				name = EXCLUDED.name, arr = EXCLUDED.arr, segment = EXCLUDED.segment, csm_id = EXCLUDED.csm_id,
				timezone = EXCLUDED.timezone, contract_start = EXCLUDED.contract_start,
				renewal_date = EXCLUDED.renewal_date, lifecycle_stage = EXCLUDED.lifecycle_stage,
				status = EXCLUDED.status,
				custom_fields = COALESCE($11::jsonb, accounts.custom_fields),
				updated_at = now()
			RETURNING (xmax = 0)`,
			in.ID, in.Name, in.ARR, in.Segment, csmID, in.Timezone, in.ContractStart, in.RenewalDate,
			in.LifecycleStage, in.Status, nullJSON(custom),
		).Scan(&created)
		if err != nil {
			return fmt.Errorf("upsert account: %w", err)
		}
		for _, c := range in.Contacts {
			_, err := tx.Exec(ctx, `
				INSERT INTO contacts (account_id, email, name, role) VALUES ($1, $2, $3, $4)
				ON CONFLICT (account_id, email) DO UPDATE
				SET name = EXCLUDED.name, role = EXCLUDED.role, updated_at = now()`,
				in.ID, c.Email, c.Name, c.Role)
			if err != nil {
				return fmt.Errorf("upsert contact %s: %w", c.Email, err)
			}
		}
		typ := "account_updated"
		if created {
			typ = "account_created"
			if err := addFirings(ctx, tx, in.ID, in.OnCreate); err != nil {
				return err
			}
		} else if existed {
			// A new account has no stage to change from; one created by a
			// concurrent save since the lock was not seen and is left alone.
			change := StageChange{From: before, To: in.LifecycleStage, Status: in.Status}
			if err := recordStageChange(ctx, tx, in.ID, nil, change, in.OnStageChange); err != nil {
				return err
			}
		}
		if err := addFirings(ctx, tx, in.ID, in.Firings); err != nil {
			return err
		}
		if in.ImportRow != nil {
			if err := applyImportRow(ctx, tx, *in.ImportRow, created); err != nil {
				return err
			}
		}
		return appendEvent(ctx, tx, in.ID, nil, typ, map[string]any{"contacts": len(in.Contacts)})
	})
	if err != nil {
		return Account{}, false, err
	}
	acct, err := s.GetAccount(ctx, in.ID)
	return acct, created, err
}

func nullJSON(raw json.RawMessage) any {
	if string(raw) == "null" {
		return nil
	}
	return string(raw)
}

// GetAccount returns an account with its contacts.
func (s *Store) GetAccount(ctx context.Context, id string) (Account, error) {
	rows, err := s.pool.Query(ctx, accountSelect+` WHERE a.id = $1`, id)
	if err != nil {
		return Account{}, fmt.Errorf("get account: %w", err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanAccount)
	if err != nil {
		return Account{}, notFound(err)
	}
	a.Contacts, err = s.contacts(ctx, s.pool, id, nil)
	return a, err
}

const accountSelect = `
		SELECT a.id, a.name, a.arr::float8, a.segment, t.email, t.name, a.timezone,
		       a.contract_start::text, a.renewal_date::text, a.lifecycle_stage, a.status, a.custom_fields,
		       a.created_at, a.updated_at, h.score, h.band, h.signals, h.measured_at, h.inputs, h.components
		FROM accounts a JOIN team_members t ON t.id = a.csm_id ` + latestHealth

func scanAccount(row pgx.CollectableRow) (Account, error) {
	var (
		a       Account
		score   *float64
		band    *string
		signals []string
		at      *time.Time
		inputs  json.RawMessage
		scoring json.RawMessage
	)
	err := row.Scan(&a.ID, &a.Name, &a.ARR, &a.Segment, &a.CSMEmail, &a.CSMName, &a.Timezone,
		&a.ContractStart, &a.RenewalDate, &a.LifecycleStage, &a.Status, &a.CustomFields,
		&a.CreatedAt, &a.UpdatedAt, &score, &band, &signals, &at, &inputs, &scoring)
	a.Health = healthSummary(score, band, signals, at, inputs, scoring)
	return a, err
}

// AccountFilter narrows ListAccounts; empty fields match everything. Band
// "none" lists accounts without a snapshot. Search finds the words in the
// id or the name, case-insensitively. After is the last id of the previous
// page.
type AccountFilter struct {
	Segment  string
	Band     string
	CSMEmail string
	Status   string
	Search   string
	// BookOf is a member's book: the accounts whose CSM is them or someone
	// below them in the ladder.
	BookOf string
	After  string
	Limit  int
}

// ListAccounts returns accounts by id, without their contacts.
func (s *Store) ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error) {
	rows, err := s.pool.Query(ctx, accountSelect+`
		WHERE ($1 = '' OR a.segment = $1) AND ($2 = '' OR h.band = $2 OR ($2 = 'none' AND h.band IS NULL))
		  AND ($3 = '' OR t.email = $3) AND ($4 = '' OR a.status = $4) AND a.id > $5
		  AND ($7 = '' OR strpos(lower(a.id || ' ' || a.name), lower($7)) > 0)
		  AND ($8 = '' OR a.csm_id IN (
			WITH RECURSIVE book(id, depth) AS (
				SELECT id, 0 FROM team_members WHERE email = $8
				UNION ALL
				SELECT m.id, b.depth + 1 FROM team_members m JOIN book b ON m.manager_id = b.id WHERE b.depth < 32
			)
			SELECT id FROM book))
		ORDER BY a.id LIMIT $6`, f.Segment, f.Band, f.CSMEmail, f.Status, f.After, limit(f.Limit), f.Search, f.BookOf)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return pgx.CollectRows(rows, scanAccount)
}

// ContactsWithRoles returns an account's contacts holding any of the roles,
// ordered by role as listed and then by email, so recipients are stable.
func (s *Store) ContactsWithRoles(ctx context.Context, accountID string, roles []string) ([]Contact, error) {
	return s.contacts(ctx, s.pool, accountID, roles)
}

func (s *Store) contacts(ctx context.Context, q querier, accountID string, roles []string) ([]Contact, error) {
	return rowsOf[Contact](ctx, q, `
		SELECT id, email, name, role,
		       unsubscribed OR EXISTS (SELECT 1 FROM suppressions s WHERE s.email = contacts.email) AS unsubscribed
		FROM contacts
		WHERE account_id = $1 AND ($2::text[] IS NULL OR role = ANY($2))
		ORDER BY COALESCE(array_position($2::text[], role), 0), email`, accountID, roles)
}
