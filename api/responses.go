package api

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/imports"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/timeline"
	"github.com/playbookd/playbookd/triggers"
)

// The API's answers are its own types, declared here against openapi.yaml:
// the store's rows carry no JSON names, so a column renamed or added there
// changes no answer until a converter here says so. Each converter copies a
// row field by field; lists keep nil as nil (null in the answer) and empty
// as empty ([]), as the rows have them.

// each converts a list, keeping a nil list nil.
func each[T, U any](in []T, conv func(T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = conv(v)
	}
	return out
}

// accountJSON is an account with its contacts and latest health.
type accountJSON struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	ARR            float64            `json:"arr"`
	Segment        string             `json:"segment"`
	CSMEmail       string             `json:"csm_email"`
	CSMName        string             `json:"csm_name"`
	Timezone       string             `json:"timezone"`
	ContractStart  *string            `json:"contract_start"`
	RenewalDate    *string            `json:"renewal_date"`
	LifecycleStage string             `json:"lifecycle_stage"`
	Status         string             `json:"status"`
	CustomFields   json.RawMessage    `json:"custom_fields"`
	Contacts       []contactJSON      `json:"contacts"`
	Health         *healthSummaryJSON `json:"health"` // null before the first snapshot
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
}

type contactJSON struct {
	ID           uuid.UUID `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	Unsubscribed bool      `json:"unsubscribed"`
}

type healthSummaryJSON struct {
	Score      float64   `json:"score"`
	Band       string    `json:"band"`
	Signals    []string  `json:"signals"`
	MeasuredAt time.Time `json:"measured_at"`
}

func accountResponse(a store.Account) accountJSON {
	out := accountJSON{ID: a.ID, Name: a.Name, ARR: a.ARR, Segment: a.Segment, CSMEmail: a.CSMEmail, CSMName: a.CSMName,
		Timezone: a.Timezone, ContractStart: a.ContractStart, RenewalDate: a.RenewalDate, LifecycleStage: a.LifecycleStage,
		Status: a.Status, CustomFields: a.CustomFields, Contacts: each(a.Contacts, contactResponse),
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if h := a.Health; h != nil {
		out.Health = &healthSummaryJSON{Score: h.Score, Band: h.Band, Signals: h.Signals, MeasuredAt: h.MeasuredAt}
	}
	return out
}

func contactResponse(c store.Contact) contactJSON {
	return contactJSON{ID: c.ID, Email: c.Email, Name: c.Name, Role: c.Role, Unsubscribed: c.Unsubscribed}
}

// savedAccountJSON is a saved account, with what could not follow the save.
type savedAccountJSON struct {
	accountJSON
	Warning string `json:"warning,omitempty"`
}

func savedAccountResponse(s triggers.SavedAccount) savedAccountJSON {
	return savedAccountJSON{accountJSON: accountResponse(s.Account), Warning: s.Warning}
}

// runJSON is a run's index row.
type runJSON struct {
	ID              uuid.UUID  `json:"id"`
	AccountID       string     `json:"account_id"`
	PlaybookKey     string     `json:"playbook"`
	PlaybookVersion int        `json:"version"`
	WorkflowID      string     `json:"workflow_id"`
	TemporalRunID   string     `json:"temporal_run_id"`
	Status          states.Run `json:"status"`
	Outcome         *string    `json:"outcome"`
	StartedAt       time.Time  `json:"started_at"`
	EndedAt         *time.Time `json:"ended_at"`
}

func runResponse(r store.Run) runJSON {
	return runJSON{ID: r.ID, AccountID: r.AccountID, PlaybookKey: r.PlaybookKey, PlaybookVersion: r.PlaybookVersion,
		WorkflowID: r.WorkflowID, TemporalRunID: r.TemporalRunID, Status: r.Status, Outcome: r.Outcome,
		StartedAt: r.StartedAt, EndedAt: r.EndedAt}
}

// runViewJSON is a run with its steps (the workflow's own answer, passed
// through) and its audit events.
type runViewJSON struct {
	runJSON
	TemporalUI    string         `json:"temporal_ui"`
	Progress      *runs.Progress `json:"steps,omitempty"`
	ProgressError string         `json:"steps_error,omitempty"`
	Events        []eventJSON    `json:"events"`
}

func runViewResponse(v runs.View) runViewJSON {
	return runViewJSON{runJSON: runResponse(v.Run), TemporalUI: v.TemporalUI, Progress: v.Progress,
		ProgressError: v.ProgressError, Events: each(v.Events, eventResponse)}
}

// eventJSON is one entry of an account's audit timeline.
type eventJSON struct {
	ID        int64          `json:"id"`
	AccountID string         `json:"account_id"`
	RunID     *uuid.UUID     `json:"run_id,omitempty"`
	Type      string         `json:"type"`
	Data      map[string]any `json:"data"`
	CreatedAt time.Time      `json:"created_at"`
}

func eventResponse(e store.Event) eventJSON {
	return eventJSON{ID: e.ID, AccountID: e.AccountID, RunID: e.RunID, Type: e.Type, Data: e.Data, CreatedAt: e.CreatedAt}
}

// approvalJSON is an approval with its recipients' drafts. Draft is the
// stored JSON of what the email is (template, roles), passed through.
type approvalJSON struct {
	ID            uuid.UUID           `json:"id"`
	RunID         uuid.UUID           `json:"run_id"`
	StepID        string              `json:"step_id"`
	AccountID     string              `json:"account_id"`
	AssigneeEmail string              `json:"assignee"`
	Level         int                 `json:"level"`
	Status        states.Approval     `json:"status"`
	Draft         json.RawMessage     `json:"draft"`
	Drafts        []approvalDraftJSON `json:"drafts"`
	Edits         json.RawMessage     `json:"edits,omitempty"`
	Comment       string              `json:"comment,omitempty"`
	DecidedBy     *string             `json:"decided_by,omitempty"`
	ExpiresAt     time.Time           `json:"expires_at"`
	CreatedAt     time.Time           `json:"created_at"`
	DecidedAt     *time.Time          `json:"decided_at,omitempty"`
}

// approvalDraftJSON is one recipient's email: as drafted, and once approved,
// as approved (null before).
type approvalDraftJSON struct {
	To   string `json:"to"`
	Name string `json:"name"`
	contentJSON
	Approved *contentJSON `json:"approved"`
}

// contentJSON is an email's subject and bodies (a message.Content).
type contentJSON struct {
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}

func approvalResponse(a store.Approval) approvalJSON {
	return approvalJSON{ID: a.ID, RunID: a.RunID, StepID: a.StepID, AccountID: a.AccountID, AssigneeEmail: a.AssigneeEmail,
		Level: a.Level, Status: a.Status, Draft: a.Draft, Drafts: each(a.Drafts, approvalDraftResponse), Edits: a.Edits,
		Comment: a.Comment, DecidedBy: a.DecidedBy, ExpiresAt: a.ExpiresAt, CreatedAt: a.CreatedAt, DecidedAt: a.DecidedAt}
}

func approvalDraftResponse(d store.ApprovalDraft) approvalDraftJSON {
	out := approvalDraftJSON{To: d.To, Name: d.Name, contentJSON: contentJSON(d.Content)}
	if d.Approved != nil {
		approved := contentJSON(*d.Approved)
		out.Approved = &approved
	}
	return out
}

// emailJSON is one outbox row.
type emailJSON struct {
	ID                uuid.UUID    `json:"id"`
	RunID             uuid.UUID    `json:"run_id"`
	StepID            string       `json:"step_id"`
	AccountID         string       `json:"account_id"`
	ContactID         *uuid.UUID   `json:"contact_id"`
	Recipient         string       `json:"to"`
	Kind              string       `json:"kind"`
	Template          string       `json:"template"`
	Subject           string       `json:"subject"`
	HTML              string       `json:"html"`
	Text              string       `json:"text"`
	Status            states.Email `json:"status"`
	Detail            string       `json:"detail,omitempty"`
	ProviderMessageID *string      `json:"provider_message_id,omitempty"`
	CreatedAt         time.Time    `json:"created_at"`
	SentAt            *time.Time   `json:"sent_at"`
	Delivery          string       `json:"delivery,omitempty"` // the last SendGrid event
	DeliveryAt        *time.Time   `json:"delivery_at,omitempty"`
}

func emailResponse(e store.Email) emailJSON {
	return emailJSON{ID: e.ID, RunID: e.RunID, StepID: e.StepID, AccountID: e.AccountID, ContactID: e.ContactID,
		Recipient: e.Recipient, Kind: e.Kind, Template: e.Template, Subject: e.Subject, HTML: e.HTML, Text: e.Text,
		Status: e.Status, Detail: e.Detail, ProviderMessageID: e.ProviderMessageID, CreatedAt: e.CreatedAt,
		SentAt: e.SentAt, Delivery: e.Delivery, DeliveryAt: e.DeliveryAt}
}

// taskJSON is a team member's to-do: a run's (run_id, step_id), or an
// ad-hoc one a person made (created_by; run_id and step_id null).
type taskJSON struct {
	ID            uuid.UUID   `json:"id"`
	RunID         *uuid.UUID  `json:"run_id"`
	StepID        *string     `json:"step_id"`
	AccountID     string      `json:"account_id"`
	AssigneeEmail string      `json:"assignee"`
	Title         string      `json:"title"`
	Description   string      `json:"description,omitempty"`
	Priority      string      `json:"priority"`
	Status        states.Task `json:"status"`
	DueAt         *time.Time  `json:"due_at"`
	CreatedAt     time.Time   `json:"created_at"`
	ClosedAt      *time.Time  `json:"closed_at"`
	Outcome       string      `json:"outcome,omitempty"`
	Note          string      `json:"note,omitempty"`
	SnoozedUntil  *time.Time  `json:"snoozed_until"`
	CreatedBy     *string     `json:"created_by"`
}

func taskResponse(t store.Task) taskJSON {
	out := taskJSON{ID: t.ID, RunID: t.RunID, AccountID: t.AccountID, AssigneeEmail: t.AssigneeEmail,
		Title: t.Title, Description: t.Description, Priority: t.Priority, Status: t.Status, DueAt: t.DueAt,
		CreatedAt: t.CreatedAt, ClosedAt: t.ClosedAt, Outcome: t.Outcome, Note: t.Note,
		SnoozedUntil: t.SnoozedUntil, CreatedBy: t.CreatedBy}
	if t.RunID != nil {
		step := t.StepID
		out.StepID = &step
	}
	return out
}

// firingJSON is a trigger that fired, as a health recording lists them.
type firingJSON struct {
	ID          int64      `json:"id"`
	AccountID   string     `json:"account_id"`
	PlaybookKey string     `json:"playbook"`
	Occasion    string     `json:"occasion"`
	Status      string     `json:"status"`
	RunID       *uuid.UUID `json:"run_id,omitempty"`
	Detail      string     `json:"detail,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

func firingResponse(f store.Firing) firingJSON {
	return firingJSON{ID: f.ID, AccountID: f.AccountID, PlaybookKey: f.PlaybookKey, Occasion: f.Occasion,
		Status: f.Status, RunID: f.RunID, Detail: f.Detail, CreatedAt: f.CreatedAt}
}

// importJSON is a bulk import and its progress. Errors is the stored
// report of refused rows, passed through.
type importJSON struct {
	ID         uuid.UUID       `json:"id"`
	Status     string          `json:"status"`
	Format     string          `json:"format"`
	Total      int             `json:"total"`
	Processed  int             `json:"processed"`
	Created    int             `json:"created"`
	Updated    int             `json:"updated"`
	Refused    int             `json:"refused"`
	Errors     json.RawMessage `json:"errors"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	FinishedAt *time.Time      `json:"finished_at"`
}

func importResponse(im store.Import) importJSON {
	return importJSON{ID: im.ID, Status: im.Status, Format: im.Format, Total: im.Total, Processed: im.Processed,
		Created: im.Created, Updated: im.Updated, Refused: im.Refused, Errors: im.Errors, CreatedAt: im.CreatedAt,
		UpdatedAt: im.UpdatedAt, FinishedAt: im.FinishedAt}
}

// startedImportJSON is a recorded import; warning says its workflow is
// not started yet.
type startedImportJSON struct {
	importJSON
	Warning string `json:"warning,omitempty"`
}

func startedImportResponse(s imports.Started) startedImportJSON {
	return startedImportJSON{importJSON: importResponse(s.Import), Warning: s.Warning}
}

// apiKeyJSON describes a key, never its secret.
type apiKeyJSON struct {
	ID          uuid.UUID  `json:"id"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	MemberEmail *string    `json:"team_member_email,omitempty"`
	Prefix      string     `json:"prefix"`
	CreatedAt   time.Time  `json:"created_at"`
	RevokedAt   *time.Time `json:"revoked_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
}

func apiKeyResponse(k store.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Name: k.Name, Role: k.Role, MemberEmail: k.MemberEmail, Prefix: k.Prefix,
		CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt}
}

// playbookVersionJSON is one version of a playbook: its definition as
// stored (canonical JSON) and as written.
type playbookVersionJSON struct {
	Key          string          `json:"key"`
	Version      int             `json:"version"`
	Name         string          `json:"name"`
	Status       states.Version  `json:"status"`
	Definition   json.RawMessage `json:"definition"`
	Source       string          `json:"source"`
	SourceFormat string          `json:"source_format"`
	Builtin      bool            `json:"builtin"`
	CreatedAt    time.Time       `json:"created_at"`
	PublishedAt  *time.Time      `json:"published_at"`
}

func playbookVersionResponse(v store.PlaybookVersion) playbookVersionJSON {
	return playbookVersionJSON{Key: v.Key, Version: v.Version, Name: v.Name, Status: v.Status, Definition: v.Definition,
		Source: v.Source, SourceFormat: v.SourceFormat, Builtin: v.Builtin, CreatedAt: v.CreatedAt, PublishedAt: v.PublishedAt}
}

// playbookSummaryJSON is a playbook across its versions.
type playbookSummaryJSON struct {
	Key              string `json:"key"`
	Name             string `json:"name"`
	PublishedVersion *int   `json:"published_version"`
	LatestVersion    int    `json:"latest_version"`
	Drafts           int    `json:"drafts"`
	Builtin          bool   `json:"builtin"`
	// RetiredAt: since when it takes no new enrolments; null when it does.
	RetiredAt *time.Time `json:"retired_at"`
}

func playbookSummaryResponse(p store.PlaybookSummary) playbookSummaryJSON {
	return playbookSummaryJSON{Key: p.Key, Name: p.Name, PublishedVersion: p.PublishedVersion,
		LatestVersion: p.LatestVersion, Drafts: p.Drafts, Builtin: p.Builtin, RetiredAt: p.RetiredAt}
}

// secretJSON is a secret's name and who wrote it, never its value.
type secretJSON struct {
	Name      string    `json:"name"`
	CreatedBy string    `json:"created_by"`
	UpdatedBy string    `json:"updated_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func secretResponse(s store.Secret) secretJSON {
	return secretJSON{Name: s.Name, CreatedBy: s.CreatedBy, UpdatedBy: s.UpdatedBy, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// teamMemberJSON is a member of the escalation ladder.
type teamMemberJSON struct {
	ID            uuid.UUID  `json:"id"`
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	Level         string     `json:"level"`
	ManagerEmail  *string    `json:"manager_email"`
	Role          string     `json:"role"`
	Timezone      string     `json:"timezone"`
	DeactivatedAt *time.Time `json:"deactivated_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func teamMemberResponse(m store.TeamMember) teamMemberJSON {
	return teamMemberJSON{ID: m.ID, Email: m.Email, Name: m.Name, Level: m.Level, ManagerEmail: m.ManagerEmail,
		Role: m.Role, Timezone: m.Timezone, DeactivatedAt: m.DeactivatedAt, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

// deactivationJSON is what deactivating a member moved.
type deactivationJSON struct {
	Member      teamMemberJSON `json:"member"`
	Successor   string         `json:"successor"`
	Accounts    []string       `json:"accounts"`
	Approvals   int            `json:"approvals"`
	Tasks       int            `json:"tasks"`
	Reports     int            `json:"reports"`
	KeysRevoked int            `json:"keys_revoked"`
}

func deactivationResponse(d store.Deactivation) deactivationJSON {
	return deactivationJSON{Member: teamMemberResponse(d.Member), Successor: d.Successor, Accounts: d.Accounts,
		Approvals: d.Approvals, Tasks: d.Tasks, Reports: d.Reports, KeysRevoked: d.KeysRevoked}
}

// noteJSON is a call, meeting or note logged on an account.
type noteJSON struct {
	ID         uuid.UUID `json:"id"`
	AccountID  string    `json:"account_id"`
	Kind       string    `json:"kind"`
	Body       string    `json:"body"`
	Author     string    `json:"author"`
	HappenedAt time.Time `json:"happened_at"`
	CreatedAt  time.Time `json:"created_at"`
}

func noteResponse(n store.Note) noteJSON {
	return noteJSON{ID: n.ID, AccountID: n.AccountID, Kind: n.Kind, Body: n.Body, Author: n.AuthorEmail,
		HappenedAt: n.HappenedAt, CreatedAt: n.CreatedAt}
}

// timelineEntryJSON is one entry of an account's timeline, with links to
// what it is about.
type timelineEntryJSON struct {
	Kind       string     `json:"kind"`
	Type       string     `json:"type"`
	At         time.Time  `json:"at"`
	Summary    string     `json:"summary"`
	By         string     `json:"by,omitempty"`
	Body       string     `json:"body,omitempty"`
	RunID      *uuid.UUID `json:"run_id,omitempty"`
	TaskID     *uuid.UUID `json:"task_id,omitempty"`
	ApprovalID *uuid.UUID `json:"approval_id,omitempty"`
	EmailID    *uuid.UUID `json:"email_id,omitempty"`
	NoteID     *uuid.UUID `json:"note_id,omitempty"`
	EventID    *int64     `json:"event_id,omitempty"`

	key store.TimelineKey // the next page's cursor, when this entry ends a page
}

func timelineEntryResponse(e timeline.Entry) timelineEntryJSON {
	return timelineEntryJSON{Kind: e.Kind, Type: e.Type, At: e.At, Summary: e.Summary, By: e.By, Body: e.Body,
		RunID: e.RunID, TaskID: e.TaskID, ApprovalID: e.ApprovalID, EmailID: e.EmailID, NoteID: e.NoteID, EventID: e.EventID,
		key: e.Key}
}
