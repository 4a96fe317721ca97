// Package app is the application core under every edge: the HTTP API, the
// console, and the edges to come (Slack, email replies). Build wires the
// domain services once, over PostgreSQL and Temporal; what an edge may call
// is declared here once; and the use cases more than one edge needs are
// written here once (publish with its warnings, versions with their runs, a
// simulation of a stored account, a report's period), so that an edge
// handler decodes, calls one of them and encodes.
package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/analytics"
	"github.com/playbookd/playbookd/approvals"
	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/imports"
	"github.com/playbookd/playbookd/internal/netguard"
	"github.com/playbookd/playbookd/internal/throttle"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/portfolio"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/signin"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/tasks"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/timeline"
	"github.com/playbookd/playbookd/triggers"
)

// Runs starts, shows and controls runs (runs.Service).
type Runs interface {
	Start(ctx context.Context, in runs.StartInput) (store.Run, error)
	Get(ctx context.Context, id uuid.UUID) (runs.View, error)
	Control(ctx context.Context, id uuid.UUID, action string) (store.Run, error)
}

// Engine is what the domain services ask of the running runs: Runs, and
// the signals and updates approvals, tasks and triggers send them. Tests
// give Build a fake one instead of Temporal.
type Engine interface {
	Runs
	approvals.Runs
	tasks.Runs
	triggers.Runs
}

// Triggers saves the changes that start playbooks by themselves
// (triggers.Service).
type Triggers interface {
	SaveAccount(ctx context.Context, in store.UpsertAccount) (triggers.SavedAccount, error)
	RecordHealth(ctx context.Context, accountID string, in health.Inputs, measuredAt time.Time) (triggers.Recorded, error)
	Event(ctx context.Context, accountID, name string, data map[string]any) (int, string, error)
	SurveyResponse(ctx context.Context, a survey.Answer, comment string) (triggers.SurveyAnswered, error)
}

// Approvals decides approvals and shows the inboxes (approvals.Service).
type Approvals interface {
	Decide(ctx context.Context, by team.Actor, d approvals.Decision) (approvals.Decided, error)
	List(ctx context.Context, by team.Actor, f store.ApprovalFilter) ([]store.Approval, error)
	Get(ctx context.Context, by team.Actor, id uuid.UUID) (store.Approval, error)
	Preview(ctx context.Context, by team.Actor, id uuid.UUID, edits *templates.Rendered) ([]approvals.Recipient, error)
}

// Tasks completes tasks and lists the inboxes; people make ad-hoc tasks,
// reassign and snooze them (tasks.Service).
type Tasks interface {
	Complete(ctx context.Context, by team.Actor, id uuid.UUID, outcome, note string) (store.Task, error)
	List(ctx context.Context, by team.Actor, f store.TaskFilter) ([]store.Task, error)
	Create(ctx context.Context, by team.Actor, in tasks.NewTask) (store.Task, error)
	Reassign(ctx context.Context, by team.Actor, id uuid.UUID, assignee string) (store.Task, error)
	Snooze(ctx context.Context, by team.Actor, id uuid.UUID, until *time.Time) (store.Task, error)
}

// Timeline logs notes on accounts and reads their timelines
// (timeline.Service).
type Timeline interface {
	AddNote(ctx context.Context, by team.Actor, accountID string, in timeline.NewNote) (store.Note, error)
	List(ctx context.Context, accountID string, after *store.TimelineKey, n int) ([]timeline.Entry, error)
	LastContact(ctx context.Context, accountID string) (*time.Time, error)
}

// Playbooks validates, stores, compares and publishes playbook versions
// (catalog.Service).
type Playbooks interface {
	Validate(ctx context.Context, source []byte) (*playbook.Definition, error)
	Create(ctx context.Context, source []byte, format string) (store.PlaybookVersion, error)
	Publish(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	PublishWarnings(ctx context.Context, key string, version int) ([]catalog.Warning, error)
	Version(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	Definition(ctx context.Context, key string, version int) (*playbook.Definition, int, error)
	List(ctx context.Context, afterKey string, n int) ([]store.PlaybookSummary, error)
	Versions(ctx context.Context, key string) ([]store.PlaybookVersion, error)
	RunCounts(ctx context.Context, keys ...string) ([]store.RunCount, error)
	Diff(ctx context.Context, key string, from, to int) (catalog.Diff, error)
	Duplicate(ctx context.Context, fromKey string, version int, newKey, newName string) (store.PlaybookVersion, error)
	// The console's: saves that rewrite the latest draft, new playbooks.
	SaveDraft(ctx context.Context, source []byte, format string) (store.PlaybookVersion, bool, error)
	New(ctx context.Context, key, name, from string) (store.PlaybookVersion, error)
	Retire(ctx context.Context, key string) (time.Time, error)
	Unretire(ctx context.Context, key string) error
	RetiredAt(ctx context.Context, key string) (*time.Time, error)
}

// Imports loads books of accounts in the background (imports.Service).
type Imports interface {
	Start(ctx context.Context, format string, rows []imports.Row) (imports.Started, error)
	Get(ctx context.Context, id uuid.UUID) (store.Import, error)
}

// The rest are plain reads and writes of PostgreSQL (the store): the
// request's own checks and the store's constraints are all there is.

// Team keeps the team members; the store refuses unknown and deactivated
// managers and cycles. Edges save, deactivate and reactivate members
// through App's use cases (SaveMember, DeactivateMember, ...).
type Team interface {
	UpsertTeamMember(ctx context.Context, in store.UpsertTeamMember) (store.TeamMember, bool, error)
	ListTeamMembers(ctx context.Context, afterEmail string, n int) ([]store.TeamMember, error)
	MembersBelow(ctx context.Context, email string) ([]store.TeamMember, error)
	TeamMemberByEmail(ctx context.Context, email string) (store.TeamMember, error)
	DeactivateMember(ctx context.Context, email, successor string) (store.Deactivation, error)
	ReactivateMember(ctx context.Context, email string) (store.TeamMember, error)
	WorkOf(ctx context.Context, email string) (store.MemberWork, error)
}

// KeyLookup finds the API key a request carries.
type KeyLookup interface {
	LookupAPIKey(ctx context.Context, secret string) (store.APIKey, error)
}

// Keys keeps API keys and finds the key a request carries.
type Keys interface {
	KeyLookup
	CreateAPIKey(ctx context.Context, name, role, memberEmail string) (store.APIKey, string, error)
	ListAPIKeys(ctx context.Context, after *uuid.UUID, n int) ([]store.APIKey, error)
	RevokeAPIKey(ctx context.Context, id uuid.UUID) (store.APIKey, error)
}

// Sessions keeps the console's sign-ins.
type Sessions interface {
	KeyLookup
	CreateSession(ctx context.Context, keyID *uuid.UUID, adminKeyHash []byte, role string, ttl time.Duration) (string, store.Session, error)
	LookupSession(ctx context.Context, token string) (store.Session, error)
	EndSession(ctx context.Context, token string) error
}

// Accounts reads accounts and what happened to them (saving one fires
// triggers: see Triggers).
type Accounts interface {
	GetAccount(ctx context.Context, id string) (store.Account, error)
	ListAccounts(ctx context.Context, f store.AccountFilter) ([]store.Account, error)
	HealthHistory(ctx context.Context, accountID string, before int64, n int) ([]store.HealthSnapshot, error)
	AccountEvents(ctx context.Context, accountID string, n int) ([]store.Event, error)
	AccountSnapshot(ctx context.Context, id string) (accounts.Snapshot, error)
}

// Lists reads the runs and the outbox.
type Lists interface {
	GetRun(ctx context.Context, id uuid.UUID) (store.Run, error)
	ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	ListEmails(ctx context.Context, f store.EmailFilter) ([]store.Email, error)
}

// Deliveries records SendGrid's delivery events.
type Deliveries interface {
	RecordDeliveries(ctx context.Context, events []store.DeliveryEvent) (store.DeliveryResult, error)
}

// Unsubscribes finds the email an unsubscribe link came from and
// unsubscribes its recipient.
type Unsubscribes interface {
	GetEmail(ctx context.Context, id uuid.UUID) (store.Email, error)
	GetAccount(ctx context.Context, id string) (store.Account, error)
	UnsubscribeByEmailID(ctx context.Context, emailID uuid.UUID) (store.Unsubscribed, error)
}

// Secrets keeps the named secrets notify steps post to: admins write them,
// nobody reads a value back.
type Secrets interface {
	PutSecret(ctx context.Context, name, value, by string) (store.Secret, bool, error)
	DeleteSecret(ctx context.Context, name string) error
	ListSecrets(ctx context.Context, after string, n int) ([]store.Secret, error)
}

// Throttle slows down clients that keep failing to authenticate, by client
// address (throttle.Failures).
type Throttle interface {
	// Wait is how long the client must wait before it may try again; 0: now.
	Wait(client string) time.Duration
	// Fail counts one failed authentication of the client.
	Fail(client string)
}

// App is the application every edge calls.
type App struct {
	// The domain services: what an edge changes goes through their rules.
	Runs      Runs
	Triggers  Triggers
	Approvals Approvals
	Tasks     Tasks
	Playbooks Playbooks
	Imports   Imports
	Timeline  Timeline

	// Plain reads and writes of PostgreSQL.
	Team         Team
	Keys         Keys
	Sessions     Sessions
	Accounts     Accounts
	Lists        Lists
	Portfolio    portfolio.Store
	Analytics    analytics.Store
	Deliveries   Deliveries
	Unsubscribes Unsubscribes
	Surveys      Surveys
	Secrets      Secrets
	// Alerts are the risk alerts (RiskAlerts and MarkRiskAlertSeen hold
	// them to whose inbox they are).
	Alerts Alerts
	// Moves asks live runs about moving to another version and moves them;
	// nil when the engine is a test's stand-in that cannot.
	Moves     Moves
	moveRuns  MoveRuns
	ladder    team.Ladder
	inboxes   inboxStore // how full an inbox is (inbox.go)
	stepNames sync.Map   // StepNames' cache, by "key@version"
	// surveyLinks check the survey links of emails; surveySender is who
	// their pages say asks (the sender's name).
	surveyLinks  *survey.Links
	surveySender string

	// AuthFailures is one record of failed authentications for every edge:
	// guesses through the API's keys and the console's sign-in count alike.
	AuthFailures Throttle
	// SignIn signs team members in as themselves (links, single sign-on).
	SignIn SignIn

	// What simulations apply, as the worker does: the frequency cap and the
	// organisation's send window (nil: none).
	EmailCap   message.Cap
	SendWindow *playbook.SendWindow
	// Templates render the simulated emails as the worker does, in the
	// brand's layout (nil: the built-in set, neutral brand).
	Templates *templates.Set
	// Webhooks is where notify steps may post (and so secrets' URLs point).
	Webhooks netguard.Policy
	// Segments derive an account's segment from its ARR when none is given.
	Segments accounts.SegmentThresholds
	// Bands are the health model's band edges.
	Bands health.Bands
	// Now is the clock of the use cases (reports default to today).
	Now func() time.Time
	// accountFields are what ACCOUNT_FIELDS declares (nil: unset).
	accountFields []accounts.Field
}

// Deps is what Build wires the application from.
type Deps struct {
	Store *store.Store
	// Temporal runs the workflows; Engine, when set, stands in for it and
	// for runs.Service (tests).
	Temporal runs.Temporal
	Engine   Engine
	// TaskQueue and Namespace are where runs go; TemporalUIURL links a run
	// to Temporal's UI ("": no link).
	TaskQueue, Namespace, TemporalUIURL string
	// EscalationSLA replaces the ladder's default deadlines by segment (nil:
	// the defaults).
	EscalationSLA map[string][4]time.Duration
	EmailCap      message.Cap
	SendWindow    *playbook.SendWindow
	Health        health.Model
	// Signals are when usage decline and support spike fire (zero: seed
	// 000's thresholds).
	Signals  health.SignalThresholds
	Segments accounts.SegmentThresholds
	// Templates are the built-in email templates playbooks may name, with
	// the brand customer emails are laid out in (templates.Set.WithBrand).
	Templates *templates.Set
	Webhooks  netguard.Policy
	// AccountFields are the custom fields ACCOUNT_FIELDS declares (nil:
	// unset; the measured ones are declared all the same).
	AccountFields []accounts.Field
	// AuthFailures: nil, throttle.Default.
	AuthFailures Throttle
	// Mailer sends the sign-in links (nil: captured in the log) from
	// MailFrom; they point at PublicBaseURL ("": relative links, tests).
	Mailer        Mailer
	MailFrom      mail.Address
	PublicBaseURL string
	// SurveyLinks check the signed survey links in emails (nil: every
	// survey link is refused); their pages name MailFrom's name as who asks.
	SurveyLinks *survey.Links
	// OIDC is the team's identity provider for single sign-on (nil: none).
	OIDC *signin.OIDCConfig
	Log  *slog.Logger
	Now  func() time.Time
}

// Build wires the application. It also returns the run and trigger
// services, which the worker's activities use as they are.
func Build(d Deps) (*App, *Wiring) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.AuthFailures == nil {
		d.AuthFailures = throttle.New(throttle.Default)
	}
	if d.Segments == (accounts.SegmentThresholds{}) {
		d.Segments = accounts.DefaultSegmentThresholds
	}
	w := &Wiring{}
	engine := d.Engine
	if engine == nil {
		w.Runs = &runs.Service{Temporal: d.Temporal, Store: d.Store, TaskQueue: d.TaskQueue, Namespace: d.Namespace,
			TemporalUIURL: d.TemporalUIURL, EscalationSLA: d.EscalationSLA, SendWindow: d.SendWindow}
		engine = w.Runs
	}
	w.Triggers = &triggers.Service{Store: d.Store, Runs: engine, Model: d.Health, Signals: d.Signals, Now: d.Now, Log: d.Log}
	// Survey answers are recorded with their event; the run service hands
	// such events to live runs. A test engine without it leaves them untold
	// (the answer's warning says so).
	if live, ok := engine.(triggers.LiveEvents); ok {
		w.Triggers.Live = live
	}
	w.Imports = &imports.Service{Store: d.Store, Triggers: w.Triggers, Temporal: d.Temporal, TaskQueue: d.TaskQueue, Log: d.Log}
	st := d.Store
	a := &App{
		Runs:      engine,
		Triggers:  w.Triggers,
		Approvals: &approvals.Service{Store: st, Runs: engine},
		Tasks:     &tasks.Service{Store: st, Runs: engine, Now: d.Now},
		Timeline:  &timeline.Service{Store: st, Now: d.Now},
		Playbooks: &catalog.Service{Store: st, Options: PlaybookOptions(d.Templates, d.Webhooks, d.AccountFields)},
		Imports:   w.Imports,

		Team: st, Keys: st, Sessions: st, Accounts: st, Lists: st, Portfolio: st, Analytics: st,
		Deliveries: st, Unsubscribes: st, Surveys: st, Secrets: st, Alerts: st, ladder: st, inboxes: st,
		surveyLinks: d.SurveyLinks, surveySender: d.MailFrom.Name, accountFields: d.AccountFields, moveRuns: st,

		AuthFailures: d.AuthFailures,
		SignIn:       newSignIn(d, d.AuthFailures),
		EmailCap:     d.EmailCap,
		SendWindow:   d.SendWindow,
		Templates:    d.Templates,
		Webhooks:     d.Webhooks,
		Segments:     d.Segments,
		Bands:        d.Health.Bands,
		Now:          d.Now,
	}
	if m, ok := engine.(Moves); ok {
		a.Moves = m
	}
	return a, w
}

// Wiring is what Build made that the worker uses directly: the run
// service (nil when Deps.Engine stood in for it), the trigger service and
// the import service.
type Wiring struct {
	Runs     *runs.Service
	Triggers *triggers.Service
	Imports  *imports.Service
}

// PlaybookOptions are the rules a definition is held to: the built-in
// templates it may name, where its notify steps may post and the account
// fields it may read. Templates may read the declared fields (fields, nil
// when ACCOUNT_FIELDS is unset) and the measured ones; field conditions are
// held to them only when some are declared, so that definitions written
// before a declaration keep validating.
func PlaybookOptions(set *templates.Set, webhooks netguard.Policy, fields []accounts.Field) playbook.Options {
	declared := accounts.DeclaredFields(fields)
	opts := playbook.Options{Webhooks: webhooks, CheckTemplate: templates.Checker{AccountFields: declared}.Check}
	if fields != nil {
		opts.AccountFields = declared
	}
	if set != nil {
		opts.BuiltinTemplates = set.Names()
	}
	return opts
}
