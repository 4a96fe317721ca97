package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
)

// Store is what triggers need from PostgreSQL.
type Store interface {
	PublishedTriggers(ctx context.Context) (map[string]json.RawMessage, error)
	UpsertAccount(ctx context.Context, in store.UpsertAccount) (store.Account, bool, error)
	AddHealthSnapshot(ctx context.Context, accountID string, measuredAt time.Time, window time.Duration, decide store.HealthDecider) (store.HealthSnapshot, error)
	AddFirings(ctx context.Context, accountID string, firings []store.NewFiring) error
	PendingFirings(ctx context.Context, accountID string, n int) ([]store.Firing, error)
	AccountFirings(ctx context.Context, accountID string, n int) ([]store.Firing, error)
	SettleFiring(ctx context.Context, id int64, status string, runID *uuid.UUID, detail string) error
	RecordRiskSignal(ctx context.Context, accountID, signal string, data map[string]any, firings []store.NewFiring) error
	CountAccountEvents(ctx context.Context, accountID, typ string, since time.Time, field string, values []string) (int, error)
	RenewalsWithin(ctx context.Context, today time.Time, days int, after string, n int) ([]store.RenewalCandidate, error)
	SchedulesDue(ctx context.Context, playbookKey, anchor string, today time.Time, everyDays, graceDays int, after string, n int) ([]store.ScheduleCandidate, error)
	ChangeAccount(ctx context.Context, id string, runID uuid.UUID, stepID string, change store.AccountChange) (accounts.Snapshot, error)
	LastContact(ctx context.Context, accountID string, at time.Time) (*time.Time, error)
	RecordSurveyResponse(ctx context.Context, in store.NewSurveyResponse) (store.SurveyResponse, bool, error)
	SurveyScores(ctx context.Context, accountID, kind string, since time.Time) ([]int, error)
	HealthHistory(ctx context.Context, accountID string, before int64, n int) ([]store.HealthSnapshot, error)
}

// Runs starts runs and tells live ones about changes.
type Runs interface {
	Start(ctx context.Context, in runs.StartInput) (store.Run, error)
	AccountChanged(ctx context.Context, accountID string) (int, error)
	DeliverEvent(ctx context.Context, accountID, name string, data map[string]any, firings []store.NewFiring) (int, error)
}

// LiveEvents hands an account event recorded already to the account's live
// runs (runs.Service.SignalEvent): a survey answer is recorded with what it
// fires in its own transaction, so Runs.DeliverEvent, which records too,
// would record it twice.
type LiveEvents interface {
	SignalEvent(ctx context.Context, accountID, name string, data map[string]any) (int, error)
}

// Service records the changes that fire triggers and starts their runs.
type Service struct {
	Store Store
	Runs  Runs
	// Live tells live runs about survey answers; nil: they are not told
	// (and the answer says so in its warning).
	Live  LiveEvents
	Model health.Model
	// Signals are when usage decline and support spike fire (zero: seed
	// 000's thresholds).
	Signals health.SignalThresholds
	Now     func() time.Time
	Log     *slog.Logger
}

func (s *Service) triggers(ctx context.Context) ([]Trigger, error) {
	blocks, err := s.Store.PublishedTriggers(ctx)
	if err != nil {
		return nil, err
	}
	return Published(blocks)
}

// SavedAccount is an upserted account and what its save set off.
type SavedAccount struct {
	store.Account
	Created bool `json:"-"`
	// Warning says what could not be done after the account was saved
	// (Temporal unavailable): pending firings are retried by the sweep.
	Warning string `json:"warning,omitempty"`
}

// SaveAccount upserts an account with the firings it causes, starts their
// runs and tells live runs about the change (exit rules, moved dates).
func (s *Service) SaveAccount(ctx context.Context, in store.UpsertAccount) (SavedAccount, error) {
	trigs, err := s.triggers(ctx)
	if err != nil {
		return SavedAccount{}, err
	}
	in.OnCreate, in.Firings = OnAccountSaved(trigs, AccountFacts{Status: in.Status, LifecycleStage: in.LifecycleStage,
		RenewalDate: in.RenewalDate}, s.Now())
	in.OnStageChange = stagePlanner(trigs)
	acct, created, err := s.Store.UpsertAccount(ctx, in)
	if err != nil {
		return SavedAccount{}, err
	}
	out := SavedAccount{Account: acct, Created: created}
	var problems []error
	if err := s.Process(ctx, acct.ID); err != nil {
		problems = append(problems, err)
	}
	if !created {
		if _, err := s.Runs.AccountChanged(ctx, acct.ID); err != nil {
			problems = append(problems, fmt.Errorf("live runs not told: %w", err))
		}
	}
	out.Warning = s.warn(ctx, acct.ID, problems)
	return out, nil
}

func stagePlanner(trigs []Trigger) store.StagePlanner {
	return func(c store.StageChange) []store.NewFiring { return OnStageChanged(trigs, c) }
}

// ChangeAccount applies a run's update_account step with the firings a
// changed lifecycle stage causes, and starts their runs; a start that fails
// stays pending for the sweep and does not fail the step.
func (s *Service) ChangeAccount(ctx context.Context, id string, runID uuid.UUID, stepID string, change store.AccountChange) (accounts.Snapshot, error) {
	trigs, err := s.triggers(ctx)
	if err != nil {
		return accounts.Snapshot{}, err
	}
	change.OnStageChange = stagePlanner(trigs)
	snap, err := s.Store.ChangeAccount(ctx, id, runID, stepID, change)
	if err != nil {
		return snap, err
	}
	if err := s.Process(ctx, id); err != nil {
		s.Log.WarnContext(ctx, "account changed; its triggered runs start on the next sweep", "account_id", id, "error", err)
	}
	return snap, nil
}

func (s *Service) warn(ctx context.Context, accountID string, problems []error) string {
	if len(problems) == 0 {
		return ""
	}
	err := errors.Join(problems...)
	s.Log.WarnContext(ctx, "saved, but not every follow-up ran", "account_id", accountID, "error", err)
	return "saved; follow-ups pending: " + err.Error()
}

// Recorded is a stored snapshot with its scoring and what it set off.
type Recorded struct {
	Snapshot     store.HealthSnapshot `json:"snapshot"`
	Result       health.Result        `json:"result"`
	NewSignals   []string             `json:"new_signals"`
	Firings      []store.Firing       `json:"triggered"`
	NotifiedRuns int                  `json:"notified_runs"`
	Warning      string               `json:"warning,omitempty"`
}

// maxContactDays is the most days since last contact the model takes
// (health.Inputs.Validate's bound).
const maxContactDays = 36500

// withLastContact fills in days since last contact from the latest call or
// meeting logged on the account by the time of the measurement, when the
// measurement does not say it (nor is a score computed upstream). The
// stored inputs then say what the score read.
func (s *Service) withLastContact(ctx context.Context, accountID string, in health.Inputs, measuredAt time.Time) (health.Inputs, error) {
	if in.Score != nil || in.DaysSinceLastContact != nil {
		return in, nil
	}
	last, err := s.Store.LastContact(ctx, accountID, measuredAt)
	if err != nil || last == nil {
		return in, err
	}
	days := math.Min(maxContactDays, math.Round(measuredAt.Sub(*last).Hours()/24*10)/10) // tenths of a day
	in.DaysSinceLastContact = &days
	return in, nil
}

// RecordHealth scores a measurement, stores it with the triggers it fires,
// starts their runs and hands the new band to live runs (a recovery whose
// account is green again ends as recovered). measuredAt zero means now.
func (s *Service) RecordHealth(ctx context.Context, accountID string, in health.Inputs, measuredAt time.Time) (Recorded, error) {
	if measuredAt.IsZero() {
		measuredAt = s.Now()
	}
	trigs, err := s.triggers(ctx)
	if err != nil {
		return Recorded{}, err
	}
	if in, err = s.withLastContact(ctx, accountID, in, measuredAt); err != nil {
		return Recorded{}, err
	}
	if in, err = s.withSurveys(ctx, accountID, in, measuredAt); err != nil {
		return Recorded{}, err
	}
	result := s.Model.Score(in)
	inputs, err := json.Marshal(in)
	if err != nil {
		return Recorded{}, err
	}
	components, err := json.Marshal(result)
	if err != nil {
		return Recorded{}, err
	}
	var newSignals []string
	decide := func(earlier []store.HealthSnapshot) (store.NewHealthSnapshot, error) {
		var history []health.Measurement
		change := SnapshotChange{Band: result.Band, ExpansionReady: health.ExpansionReady(result, in)}
		for i, e := range earlier {
			var past health.Inputs
			if err := json.Unmarshal(e.Inputs, &past); err != nil {
				return store.NewHealthSnapshot{}, fmt.Errorf("decode snapshot %d: %w", e.ID, err)
			}
			history = append(history, health.Measurement{At: e.MeasuredAt, Inputs: past})
			if i == 0 {
				change.PreviousBand, change.PreviousExpansionReady = e.Band, e.ExpansionReady
			}
		}
		signals := health.SnapshotSignals(measuredAt, in, history, s.Signals)
		for _, sig := range signals {
			if len(earlier) == 0 || !slices.Contains(earlier[0].Signals, sig) {
				newSignals = append(newSignals, sig)
			}
		}
		change.NewSignals = newSignals
		return store.NewHealthSnapshot{
			Score: float64(result.Score), Band: result.Band, Model: result.Model, Components: components, Inputs: inputs,
			Signals: signals, ExpansionReady: change.ExpansionReady, Fields: measureFields(in),
			Firings: OnSnapshot(trigs, change),
		}, nil
	}
	snap, err := s.Store.AddHealthSnapshot(ctx, accountID, measuredAt, s.Signals.OrDefault().UsageDeclineWindow, decide)
	if err != nil {
		return Recorded{}, err
	}
	out := Recorded{Snapshot: snap, Result: result, NewSignals: newSignals}
	if out.NewSignals == nil {
		out.NewSignals = []string{}
	}
	var problems []error
	if err := s.Process(ctx, accountID); err != nil {
		problems = append(problems, err)
	}
	if out.NotifiedRuns, err = s.Runs.AccountChanged(ctx, accountID); err != nil {
		problems = append(problems, fmt.Errorf("live runs not told: %w", err))
	}
	if out.Firings, err = s.firingsOf(ctx, accountID, fmt.Sprintf("#snapshot-%d", snap.ID)); err != nil {
		problems = append(problems, err)
	}
	out.Warning = s.warn(ctx, accountID, problems)
	return out, nil
}

// measureFields are the account fields the built-in expansion playbook reads.
func measureFields(in health.Inputs) map[string]any {
	fields := map[string]any{}
	for measure, field := range map[string]string{"seat_utilisation": "seats_used_pct", "feature_adoption": "feature_adoption_pct"} {
		if v, ok := in.Measure(measure); ok {
			fields[field] = math.Round(v * 100)
		}
	}
	return fields
}

func (s *Service) firingsOf(ctx context.Context, accountID, suffix string) ([]store.Firing, error) {
	all, err := s.Store.AccountFirings(ctx, accountID, 50)
	if err != nil {
		return nil, err
	}
	out := []store.Firing{}
	for _, f := range all {
		if strings.HasSuffix(f.Occasion, suffix) {
			out = append(out, f)
		}
	}
	return out, nil
}

// Events that are risk signals by themselves (seed 000 "Early Warning
// System"); a ticket counts towards a support spike.
const TicketOpened = "ticket_opened"

var signalEvents = []string{health.ChampionLeft, health.PaymentOverdue, health.CompetitorMentioned}

// Event records an account event with the event triggers it fires, hands
// it to its live runs and records the risk signal it shows, if any; then it
// starts the triggered runs (those that cannot start now wait for the
// sweep). It returns how many runs got the event and the signal.
func (s *Service) Event(ctx context.Context, accountID, name string, data map[string]any) (int, string, error) {
	trigs, err := s.triggers(ctx)
	if err != nil {
		return 0, "", err
	}
	n, err := s.Runs.DeliverEvent(ctx, accountID, name, data, OnEvent(trigs, name))
	if err != nil {
		return n, "", err
	}
	signal, err := s.eventSignal(ctx, accountID, name, data)
	if err != nil {
		return n, "", err
	}
	if signal != "" {
		if err := s.Store.RecordRiskSignal(ctx, accountID, signal, map[string]any{"event": name}, OnSignal(trigs, signal)); err != nil {
			return n, "", err
		}
	}
	if err := s.Process(ctx, accountID); err != nil {
		s.Log.WarnContext(ctx, "event recorded; its triggered runs start on the next sweep", "account_id", accountID, "error", err)
	}
	return n, signal, nil
}

func (s *Service) eventSignal(ctx context.Context, accountID, name string, data map[string]any) (string, error) {
	if slices.Contains(signalEvents, name) {
		return name, nil
	}
	priority, _ := data["priority"].(string)
	if name != TicketOpened || !health.HighPriority(priority) {
		return "", nil
	}
	limits := s.Signals.OrDefault()
	since := s.Now().Add(-limits.SupportSpikeWindow)
	tickets, err := s.Store.CountAccountEvents(ctx, accountID, "event:"+TicketOpened, since, "priority", health.HighPriorities)
	if err != nil {
		return "", err
	}
	if tickets < limits.SupportSpikeTickets {
		return "", nil
	}
	// One spike per window, not one per further ticket.
	spikes, err := s.Store.CountAccountEvents(ctx, accountID, "risk_signal", since, "signal", []string{health.SupportSpike})
	if err != nil || spikes > 0 {
		return "", err
	}
	return health.SupportSpike, nil
}

// Process starts the runs of an account's pending firings (every account's
// when accountID is empty). A firing whose start fails for a reason that can
// pass (Temporal unavailable) stays pending for the next sweep.
func (s *Service) Process(ctx context.Context, accountID string) error {
	for {
		pending, err := s.Store.PendingFirings(ctx, accountID, 100)
		if err != nil || len(pending) == 0 {
			return err
		}
		for _, f := range pending {
			if err := s.start(ctx, f); err != nil {
				return fmt.Errorf("trigger %s for %s: %w", f.PlaybookKey, f.AccountID, err)
			}
		}
	}
}

func (s *Service) start(ctx context.Context, f store.Firing) error {
	run, err := s.Runs.Start(ctx, runs.StartInput{PlaybookKey: f.PlaybookKey, AccountID: f.AccountID})
	var live *runs.LiveRunError
	switch {
	case err == nil:
		return s.Store.SettleFiring(ctx, f.ID, store.FiringStarted, &run.ID, f.Occasion)
	case errors.As(err, &live):
		return s.Store.SettleFiring(ctx, f.ID, store.FiringAlreadyLive, live.RunID, "one live run per account and playbook")
	case errors.Is(err, runs.ErrUnknownPlaybook), errors.Is(err, runs.ErrInactiveAccount),
		errors.Is(err, runs.ErrNotEligible), errors.Is(err, runs.ErrMissingAnchor), errors.Is(err, runs.ErrUnknownAccount),
		errors.Is(err, runs.ErrOverLimits), errors.Is(err, runs.ErrRetired):
		return s.Store.SettleFiring(ctx, f.ID, store.FiringSkipped, nil, err.Error())
	default:
		return err
	}
}

// Sweep records renewal windows reached today and schedule occasions due,
// and processes every pending firing. Running it twice, or from two places
// at once, starts nothing twice: occasions are unique and starts are one
// live run per pair.
func (s *Service) Sweep(ctx context.Context) (contract.SweepResult, error) {
	var res contract.SweepResult
	trigs, err := s.triggers(ctx)
	if err != nil {
		return res, err
	}
	today := s.Now()
	for _, t := range trigs {
		var n int
		switch t.On {
		case "renewal_window":
			n, err = s.sweepRenewals(ctx, t, today)
			res.RenewalFirings += n
		case "schedule":
			n, err = s.sweepSchedule(ctx, t, today)
			res.ScheduleFirings += n
		}
		if err != nil {
			return res, err
		}
	}
	return res, s.Process(ctx, "")
}

// sweepPage is how many accounts a sweep reads at once.
const sweepPage = 500

// sweepRenewals records the renewal windows of a trigger reached today.
func (s *Service) sweepRenewals(ctx context.Context, t Trigger, today time.Time) (int, error) {
	return s.recordDue(ctx, func(after string) ([]dueFiring, error) {
		page, err := s.Store.RenewalsWithin(ctx, today, t.DaysBefore, after, sweepPage)
		out := make([]dueFiring, len(page))
		for i, c := range page {
			out[i].accountID = c.AccountID
			out[i].firing, out[i].due = RenewalFiring(t, c.RenewalDate, today)
		}
		return out, err
	})
}

// sweepSchedule records the occasions of a schedule trigger due today for
// the active accounts in its playbook's segments that have its anchor
// date.
func (s *Service) sweepSchedule(ctx context.Context, t Trigger, today time.Time) (int, error) {
	every := int(t.Every.Std() / playbook.Day)
	if every <= 0 || t.Every.Std()%playbook.Day != 0 { // validation refuses both
		s.Log.WarnContext(ctx, "schedule trigger without a cadence of whole days; not swept", "playbook", t.PlaybookKey, "every", t.Every.String())
		return 0, nil
	}
	return s.recordDue(ctx, func(after string) ([]dueFiring, error) {
		page, err := s.Store.SchedulesDue(ctx, t.PlaybookKey, t.ScheduleAnchor(), today, every, ScheduleGraceDays, after, sweepPage)
		out := make([]dueFiring, len(page))
		for i, c := range page {
			out[i].accountID = c.AccountID
			out[i].firing, out[i].due = ScheduleFiring(t, c.AnchorDate, today)
		}
		return out, err
	})
}

// dueFiring is a sweep's candidate account and the firing it is due, if
// any.
type dueFiring struct {
	accountID string
	firing    store.NewFiring
	due       bool
}

// recordDue pages through a sweep's candidates, sweepPage accounts at a
// time after the last one read, and records the firings that are due.
func (s *Service) recordDue(ctx context.Context, next func(after string) ([]dueFiring, error)) (int, error) {
	n, after := 0, ""
	for {
		page, err := next(after)
		if err != nil {
			return n, err
		}
		for _, c := range page {
			if c.due {
				if err := s.Store.AddFirings(ctx, c.accountID, []store.NewFiring{c.firing}); err != nil {
					return n, err
				}
				n++
			}
			after = c.accountID
		}
		if len(page) < sweepPage {
			return n, nil
		}
	}
}
