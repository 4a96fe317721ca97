package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/states"
)

// Email kinds: to a contact of the account, or a notice to the team.
const (
	EmailToCustomer = "customer"
	EmailToTeam     = "team"
)

// Email is one outbox row: one message to one recipient from one run step.
type Email struct {
	ID                uuid.UUID
	RunID             uuid.UUID
	StepID            string
	AccountID         string
	ContactID         *uuid.UUID
	Recipient         string
	Kind              string // EmailToCustomer or EmailToTeam
	Template          string
	Subject           string
	HTML              string
	Text              string
	Status            states.Email
	Detail            string
	ProviderMessageID *string
	CreatedAt         time.Time
	SentAt            *time.Time
	Delivery          string // last SendGrid event: delivered, open, bounce, ...
	DeliveryAt        *time.Time
}

// NewEmail is the input of ClaimEmail.
type NewEmail struct {
	ID        uuid.UUID // optional: chosen by the caller so the body can link to it
	RunID     uuid.UUID
	StepID    string
	AccountID string
	ContactID *uuid.UUID
	Recipient string
	Template  string
	Subject   string
	HTML      string
	Text      string
	Status    states.Email // states.EmailPending, or states.EmailSkipped with Detail
	Detail    string
	Kind      string // "": EmailToCustomer
	// Automated emails obey the cap: at most Cap.Count to one address in any
	// Cap.Window, across playbooks. A zero Cap means no cap.
	Automated bool
	Cap       FrequencyCap
	// Survey is a survey email's kind (nps or csat); "": no survey.
	Survey string
}

// FrequencyCap limits automated emails per address, across runs
// (message.Cap).
type FrequencyCap = message.Cap

// CappedError says when the address may get another automated email, and
// why not now (Reason, for the run view).
type CappedError struct {
	Until  time.Time
	Reason string
}

func (e *CappedError) Error() string {
	if e.Reason != "" {
		return e.Reason
	}
	return "frequency cap reached until " + e.Until.Format(time.RFC3339)
}

// ClaimEmail writes the outbox row for (run, step, recipient) unless it exists,
// and returns the row as stored: a caller that finds it already past pending
// must not send again.
func (s *Store) ClaimEmail(ctx context.Context, in NewEmail) (Email, error) {
	var email Email
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if in.Automated && in.Status == states.EmailPending && (in.Cap.Count > 0 || in.Cap.MinGap > 0 || in.Cap.HoldRecheck > 0) {
			if err := checkCap(ctx, tx, in); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO emails (id, run_id, step_id, account_id, contact_id, recipient, template, subject,
			                    html_body, text_body, status, detail, automated, kind, survey)
			VALUES (COALESCE($12, gen_random_uuid()), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13,
			        COALESCE(NULLIF($14, ''), 'customer'), NULLIF($15, ''))
			ON CONFLICT (run_id, step_id, recipient) DO NOTHING`,
			in.RunID, in.StepID, in.AccountID, in.ContactID, in.Recipient, in.Template, in.Subject,
			in.HTML, in.Text, in.Status, in.Detail, nilIfZero(in.ID), in.Automated, in.Kind, in.Survey)
		if err != nil {
			return fmt.Errorf("insert email: %w", err)
		}
		email, err = rowOf[Email](ctx, tx, emailSelect+`
			WHERE run_id = $1 AND step_id = $2 AND recipient = $3`, in.RunID, in.StepID, in.Recipient)
		if err != nil || tag.RowsAffected() == 0 || in.Status != states.EmailSkipped {
			return err
		}
		return appendEvent(ctx, tx, in.AccountID, &in.RunID, "email_skipped",
			map[string]any{"step_id": in.StepID, "email_id": email.ID, "to": in.Recipient, "reason": in.Detail})
	})
	return email, err
}

// StartSending moves a pending email to sending before the provider is
// called, and returns the status it found: pending means go ahead; sending
// means an earlier attempt died mid-call, so its outcome is unknown.
func (s *Store) StartSending(ctx context.Context, id uuid.UUID) (states.Email, error) {
	var before states.Email
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT status FROM emails WHERE id = $1 FOR UPDATE`, id).Scan(&before); err != nil {
			return notFound(err)
		}
		if before != states.EmailPending {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE emails SET status = 'sending' WHERE id = $1`, id)
		return err
	})
	return before, err
}

// MarkEmail records the provider's answer for an email being sent (or still
// pending). It returns false when the row had already been settled.
func (s *Store) MarkEmail(ctx context.Context, id uuid.UUID, status states.Email, detail, providerMessageID string) (bool, error) {
	var marked bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			accountID, stepID, recipient string
			runID                        uuid.UUID
		)
		err := tx.QueryRow(ctx, `
			UPDATE emails SET status = $2, detail = $3, provider_message_id = NULLIF($4, ''),
			       sent_at = CASE WHEN $2 IN ('sent', 'captured') THEN now() END
			WHERE id = $1 AND status IN ('pending', 'sending')
			RETURNING account_id, run_id, step_id, recipient`, id, status, detail, providerMessageID,
		).Scan(&accountID, &runID, &stepID, &recipient)
		if err != nil {
			if err == pgx.ErrNoRows {
				return nil
			}
			return fmt.Errorf("mark email: %w", err)
		}
		marked = true
		if status == states.EmailPending {
			return nil // back to pending for a retry: nothing happened
		}
		return appendEvent(ctx, tx, accountID, &runID, "email_"+string(status),
			map[string]any{"step_id": stepID, "email_id": id, "to": recipient, "detail": detail})
	})
	return marked, err
}

// EmailFilter narrows ListEmails; empty fields match everything.
type EmailFilter struct {
	AccountID string
	RunID     *uuid.UUID
	Status    states.Email
	// Kind is EmailToCustomer or EmailToTeam; "": both.
	Kind string
	// TeamTo, when set, keeps only the team emails addressed to it (a csm
	// reads only their own notices); customer emails are not affected.
	TeamTo *string
	After  *Keyset
	Limit  int
	// Latest lists the newest rows first, After paging back in time: what
	// an account's page shows.
	Latest bool
}

// ListEmails returns outbox rows, oldest first.
func (s *Store) ListEmails(ctx context.Context, f EmailFilter) ([]Email, error) {
	filter := `
		WHERE ($1 = '' OR account_id = $1) AND ($2::uuid IS NULL OR run_id = $2) AND ($3 = '' OR status = $3)
		  AND ($4 = '' OR kind = $4) AND ($5::text IS NULL OR kind = 'customer' OR recipient = $5)`
	if f.Latest {
		return page[Email](ctx, s.pool, emailSelect+filter, keysetOrder{at: "created_at", id: "id", newestFirst: true},
			f.After, f.Limit, f.AccountID, f.RunID, f.Status, f.Kind, f.TeamTo)
	}
	return page[Email](ctx, s.pool, emailSelect+filter,
		keysetOrder{at: "created_at", id: "id"}, f.After, f.Limit, f.AccountID, f.RunID, f.Status, f.Kind, f.TeamTo)
}

const emailSelect = `
	SELECT id, run_id, step_id, account_id, contact_id, recipient, kind, template, subject, html_body AS html,
	       text_body AS text, status, detail, provider_message_id, created_at, sent_at, delivery, delivery_at
	FROM emails`

// GetEmail returns one outbox row.
func (s *Store) GetEmail(ctx context.Context, id uuid.UUID) (Email, error) {
	return rowOf[Email](ctx, s.pool, emailSelect+` WHERE id = $1`, id)
}

func nilIfZero(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// DeliveryEvent is one provider event for RecordDeliveries, checked by the caller.
type DeliveryEvent struct {
	Key     string     // applied once: SendGrid's sg_event_id, or a hash of the event
	EmailID *uuid.UUID // the outbox row it is about, if any
	Event   string     // delivered, open, bounce, ...
	Reason  string
	At      time.Time
	// SuppressAs, when set, adds Address (a lower-cased bare address) to the
	// suppression list for this reason.
	SuppressAs string
	Address    string
}

// DeliveryResult says what RecordDeliveries changed.
type DeliveryResult struct {
	Applied    int // events not seen before
	Suppressed int // addresses added to the suppression list
}

// RecordDeliveries applies a batch of provider events in one transaction of
// a few statements, whatever its size. An event whose key was recorded before
// changes nothing; a new one is kept with its key, appends its email_<event>
// to its outbox row's account timeline, replaces the row's delivery unless it
// is older, turns on the row's analytics flag for it (delivered, opened, ...)
// and suppresses its address. Keys must be unique in the batch.
func (s *Store) RecordDeliveries(ctx context.Context, events []DeliveryEvent) (DeliveryResult, error) {
	var res DeliveryResult
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// One batch at a time: two batches updating the same outbox rows in
		// different orders would deadlock.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sendgrid-events'))`); err != nil {
			return fmt.Errorf("lock sendgrid events: %w", err)
		}
		fresh, err := recordEventKeys(ctx, tx, events)
		if err != nil {
			return err
		}
		res.Applied = len(fresh)
		var (
			emailIDs, names, reasons, atTexts []string
			ats                               []time.Time
			list                              []suppression
		)
		for _, e := range fresh {
			if e.EmailID != nil {
				emailIDs, names, reasons = append(emailIDs, e.EmailID.String()), append(names, e.Event), append(reasons, e.Reason)
				ats, atTexts = append(ats, e.At), append(atTexts, e.At.UTC().Format(time.RFC3339Nano)) // as encoding/json writes times
			}
			if e.SuppressAs != "" && e.Address != "" {
				list = append(list, suppression{email: e.Address, reason: e.SuppressAs, emailID: e.EmailID})
			}
		}
		// The newest event is the row's delivery; the flags (migration
		// 00017, for analytics) only ever turn on, whatever the order.
		if _, err := tx.Exec(ctx, `
			UPDATE emails e
			SET delivery = CASE WHEN e.delivery_at IS NULL OR e.delivery_at <= l.at THEN l.event ELSE e.delivery END,
			    delivery_at = GREATEST(e.delivery_at, l.at),
			    delivered = e.delivered OR l.delivered, opened = e.opened OR l.opened, clicked = e.clicked OR l.clicked,
			    bounced = e.bounced OR l.bounced, unsubscribed = e.unsubscribed OR l.unsubscribed
			FROM (SELECT id, (array_agg(event ORDER BY at DESC, idx DESC))[1] AS event, max(at) AS at,
			             bool_or(event = 'delivered') AS delivered, bool_or(event IN ('open', 'click')) AS opened,
			             bool_or(event = 'click') AS clicked, bool_or(event = 'bounce') AS bounced,
			             bool_or(event IN ('unsubscribe', 'group_unsubscribe')) AS unsubscribed
			      FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS b (id, event, at, idx)
			      GROUP BY id) l
			WHERE e.id = l.id`, emailIDs, names, ats); err != nil {
			return fmt.Errorf("record delivery: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO events (account_id, run_id, type, data)
			SELECT e.account_id, e.run_id, 'email_' || b.event,
			       jsonb_build_object('email_id', e.id, 'to', e.recipient, 'reason', b.reason, 'at', b.at)
			FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS b (id, event, reason, at, idx)
			JOIN emails e ON e.id = b.id
			ORDER BY b.idx`, emailIDs, names, reasons, atTexts); err != nil {
			return fmt.Errorf("append delivery events: %w", err)
		}
		res.Suppressed, err = suppressAll(ctx, tx, "sendgrid", list)
		return err
	})
	if err != nil {
		return DeliveryResult{}, err
	}
	return res, nil
}

// recordEventKeys keeps the keys of a batch and returns its events not seen
// before, with EmailID cleared when no outbox row has it.
func recordEventKeys(ctx context.Context, tx pgx.Tx, events []DeliveryEvent) ([]DeliveryEvent, error) {
	keys, names, emailIDs, ats := make([]string, len(events)), make([]string, len(events)), make([]string, len(events)), make([]time.Time, len(events))
	index := make(map[string]int, len(events))
	for i, e := range events {
		keys[i], names[i], ats[i] = e.Key, e.Event, e.At
		if e.EmailID != nil {
			emailIDs[i] = e.EmailID.String()
		}
		index[e.Key] = i
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO sendgrid_events (event_key, event, email_id, occurred_at)
		SELECT b.key, b.event, e.id, b.at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS b (key, event, email_id, at)
		LEFT JOIN emails e ON e.id = NULLIF(b.email_id, '')::uuid
		ON CONFLICT (event_key) DO NOTHING
		RETURNING event_key, email_id`, keys, names, emailIDs, ats)
	if err != nil {
		return nil, fmt.Errorf("record event keys: %w", err)
	}
	var (
		key     string
		emailID *uuid.UUID
		fresh   = make([]bool, len(events))
		found   = make([]*uuid.UUID, len(events)) // the outbox row, if it exists
	)
	if _, err := pgx.ForEachRow(rows, []any{&key, &emailID}, func() error {
		i := index[key]
		fresh[i], found[i] = true, emailID
		return nil
	}); err != nil {
		return nil, fmt.Errorf("record event keys: %w", err)
	}
	var out []DeliveryEvent // in the batch's order, for the timeline
	for i, e := range events {
		if fresh[i] {
			e.EmailID = found[i]
			out = append(out, e)
		}
	}
	return out, nil
}

// checkCap returns a *CappedError when the address may not get an automated
// email now: a play of higher priority is live on the account, the last one
// went less than MinGap ago, or Count went out in the window. The
// per-address lock makes concurrent runs, on any worker, count each other; a
// row that already exists for this run and step is not capped (a retry).
func checkCap(ctx context.Context, tx pgx.Tx, in NewEmail) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('email-cap:' || $1))`, in.Recipient); err != nil {
		return fmt.Errorf("lock recipient: %w", err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM emails WHERE run_id = $1 AND step_id = $2 AND recipient = $3)`,
		in.RunID, in.StepID, in.Recipient).Scan(&exists); err != nil || exists {
		return err
	}
	if in.Cap.HoldRecheck > 0 {
		if err := heldByHigherPlay(ctx, tx, in); err != nil {
			return err
		}
	}
	if in.Cap.MinGap > 0 {
		if err := tooSoon(ctx, tx, in); err != nil {
			return err
		}
	}
	if in.Cap.Count == 0 {
		return nil
	}
	// The window is on the database's clock, as created_at is: its now()
	// comes with the rows.
	rows, err := tx.Query(ctx, `
		SELECT created_at, now() FROM emails
		WHERE recipient = $1 AND automated AND status IN ('pending', 'sending', 'sent', 'captured', 'uncertain')
		  AND created_at > now() - make_interval(secs => $2)`, in.Recipient, in.Cap.Window.Seconds())
	if err != nil {
		return fmt.Errorf("count recent emails: %w", err)
	}
	var (
		recent  []time.Time
		at, now time.Time
	)
	if _, err := pgx.ForEachRow(rows, []any{&at, &now}, func() error {
		recent = append(recent, at)
		return nil
	}); err != nil {
		return fmt.Errorf("count recent emails: %w", err)
	}
	if until, held := in.Cap.CountUntil(recent, now); held {
		return &CappedError{Until: until, Reason: message.HeldByCap(in.Recipient, in.Cap.Count, in.Cap.Window)}
	}
	return nil
}

// playPriority is a run's playbook priority, from the version it runs;
// NULL for a play without one (unranked).
const playPriority = `(SELECT (pv.definition->>'priority')::int FROM playbook_versions pv
	WHERE pv.key = r.playbook_key AND pv.version = r.playbook_version)`

// heldByHigherPlay holds the email while a play of higher priority than
// the email's own is live on the account (red-recovery holds renewal). A
// play without a priority is unranked: it neither holds nor is held (the
// gap between emails still applies to it).
func heldByHigherPlay(ctx context.Context, tx pgx.Tx, in NewEmail) error {
	var (
		key      string
		priority int
	)
	err := tx.QueryRow(ctx, `
		WITH mine AS (SELECT `+playPriority+` AS priority FROM runs r WHERE r.id = $2)
		SELECT r.playbook_key, `+playPriority+` FROM runs r, mine
		WHERE r.account_id = $1 AND r.id <> $2 AND r.status IN ('running', 'paused')
		  AND `+playPriority+` > mine.priority -- NULL on either side: unranked
		ORDER BY 2 DESC, r.started_at LIMIT 1`, in.AccountID, in.RunID).Scan(&key, &priority)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find a higher play: %w", err)
	}
	var until time.Time
	if err := tx.QueryRow(ctx, `SELECT now() + make_interval(secs => $1)`, in.Cap.HoldRecheck.Seconds()).Scan(&until); err != nil {
		return err
	}
	return &CappedError{Until: until, Reason: message.HeldByHigherPlay(key, priority)}
}

// tooSoon holds the email until MinGap after the last automated email to
// the address, from any run.
func tooSoon(ctx context.Context, tx pgx.Tx, in NewEmail) error {
	var (
		at        time.Time
		key, name string
		ago       float64
	)
	err := tx.QueryRow(ctx, `
		SELECT e.created_at, r.playbook_key, COALESCE(NULLIF(c.name, ''), e.recipient), EXTRACT(EPOCH FROM now() - e.created_at)
		FROM emails e JOIN runs r ON r.id = e.run_id
		LEFT JOIN contacts c ON c.account_id = e.account_id AND c.email = e.recipient
		WHERE e.recipient = $1 AND e.automated AND e.status IN ('pending', 'sending', 'sent', 'captured', 'uncertain')
		  AND e.created_at > now() - make_interval(secs => $2)
		ORDER BY e.created_at DESC LIMIT 1`, in.Recipient, in.Cap.MinGap.Seconds()).Scan(&at, &key, &name, &ago)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find the last email: %w", err)
	}
	return &CappedError{Until: at.Add(in.Cap.MinGap),
		Reason: message.HeldByGap(key, name, time.Duration(ago*float64(time.Second)), in.Cap.MinGap)}
}
