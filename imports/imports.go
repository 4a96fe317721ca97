// Package imports runs bulk account imports. The rows, read and checked by
// the API, are stored with the import before it is answered; a Temporal
// workflow (workflows.AccountImport) then saves them batch by batch through
// the trigger service, so every row fires its triggers. Progress is kept in
// PostgreSQL, and no process holds an import in memory: a restarted API or
// worker, or a second replica, loses nothing.
package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/triggers"
	"github.com/playbookd/playbookd/workflows"
)

// Limits: a file of MaxRows takes a few minutes at most. BatchSize rows are
// saved by one activity, between progress updates.
const (
	MaxRows   = 50_000
	BatchSize = 250
)

// Sentinel errors of Start.
var (
	ErrNoRows      = errors.New("the import has no rows")
	ErrTooManyRows = fmt.Errorf("at most %d rows per import", MaxRows)
)

// FieldError says what is wrong with one field of a row.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// UnknownCSM refuses a row whose CSM is not a team member.
var UnknownCSM = FieldError{Field: "csm_email", Message: "no team member has this email; add them with POST /v1/team"}

// Row is one row of an import as read: the account to save, or its errors.
type Row struct {
	Row     int    // 1-based data row (CSV: line number minus one)
	ID      string // the account id as given, for the report
	Errors  []FieldError
	Account store.UpsertAccount // when Errors is empty
}

// refusal is a refused row in the import's report.
type refusal struct {
	Row    int          `json:"row"`
	ID     string       `json:"id,omitempty"`
	Errors []FieldError `json:"errors"`
}

func (r refusal) json() (json.RawMessage, error) {
	// PostgreSQL's jsonb cannot hold NUL, which a refused id may have.
	r.ID = strings.ReplaceAll(r.ID, "\x00", "\uFFFD")
	return json.Marshal(r)
}

// Store is what imports need from PostgreSQL.
type Store interface {
	CreateImport(ctx context.Context, id uuid.UUID, format string, rows []store.ImportRow) (store.Import, error)
	GetImport(ctx context.Context, id uuid.UUID) (store.Import, error)
	MarkImportStarted(ctx context.Context, id uuid.UUID) error
	UnstartedImports(ctx context.Context, n int) ([]store.Import, error)
	PendingImportRows(ctx context.Context, id uuid.UUID, first, last int) ([]store.ImportRow, error)
	RefuseImportRow(ctx context.Context, ref store.ImportRowRef, report json.RawMessage) error
	CountImportBatch(ctx context.Context, id uuid.UUID, batch, first, last int) error
	FailImport(ctx context.Context, id uuid.UUID) error
}

// Saver saves an account with the triggers it fires (triggers.Service).
type Saver interface {
	SaveAccount(ctx context.Context, in store.UpsertAccount) (triggers.SavedAccount, error)
}

// Temporal starts import workflows.
type Temporal interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// Service records imports, starts their workflows and applies their batches.
type Service struct {
	Store     Store
	Triggers  Saver
	Temporal  Temporal
	TaskQueue string
	Log       *slog.Logger
}

// Started is a recorded import. Warning says its workflow could not be
// started yet: the trigger sweep (or the next import) starts it.
type Started struct {
	store.Import
	Warning string `json:"warning,omitempty"`
}

// Start records an import with its rows, then starts its workflow. A later
// row with the id of an earlier one is refused: a file cannot say two
// things about one account.
func (s *Service) Start(ctx context.Context, format string, rows []Row) (Started, error) {
	switch {
	case len(rows) == 0:
		return Started{}, ErrNoRows
	case len(rows) > MaxRows:
		return Started{}, ErrTooManyRows
	}
	markDuplicates(rows)
	stored := make([]store.ImportRow, len(rows))
	for i, r := range rows {
		stored[i].Row = r.Row
		var err error
		if len(r.Errors) > 0 {
			stored[i].Refusal, err = refusal{Row: r.Row, ID: r.ID, Errors: r.Errors}.json()
		} else {
			stored[i].Account, err = json.Marshal(r.Account)
		}
		if err != nil {
			return Started{}, fmt.Errorf("row %d: %w", r.Row, err)
		}
	}
	im, err := s.Store.CreateImport(ctx, uuid.New(), format, stored)
	if err != nil {
		return Started{}, err
	}
	// The rows are stored: a client that hangs up now does not stop the start.
	ctx = context.WithoutCancel(ctx)
	if err := s.start(ctx, im); err != nil {
		s.Log.WarnContext(ctx, "import recorded; its workflow starts with the next sweep", "import_id", im.ID, "error", err)
		return Started{Import: im, Warning: "recorded; it starts with the next trigger sweep: " + err.Error()}, nil
	}
	if _, err := s.StartPending(ctx); err != nil {
		s.Log.WarnContext(ctx, "earlier imports not started", "error", err)
	}
	return Started{Import: im}, nil
}

// start starts an import's workflow, or finds it started.
func (s *Service) start(ctx context.Context, im store.Import) error {
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        workflows.AccountImportWorkflowID(im.ID.String()),
		TaskQueue: s.TaskQueue,
		// One workflow per import, ever: a start after it ended is refused too.
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.AccountImportName, workflows.AccountImportInput{ImportID: im.ID.String(), Rows: im.Total, BatchSize: BatchSize})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &already) {
		return fmt.Errorf("start import workflow: %w", err)
	}
	return s.Store.MarkImportStarted(ctx, im.ID)
}

// StartPending starts the workflows of imports recorded while Temporal was
// unreachable. Two callers at once start nothing twice: the workflow ID is
// the import's.
func (s *Service) StartPending(ctx context.Context) (int, error) {
	started := 0
	for {
		pending, err := s.Store.UnstartedImports(ctx, 100)
		if err != nil || len(pending) == 0 {
			return started, err
		}
		for _, im := range pending {
			if err := s.start(ctx, im); err != nil {
				return started, fmt.Errorf("import %s: %w", im.ID, err)
			}
			started++
		}
	}
}

// Get returns an import and its progress.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (store.Import, error) {
	return s.Store.GetImport(ctx, id)
}

// ApplyBatch saves the rows of a batch that are not applied yet, then adds
// the batch to the import's counts; beat is called before each row (the
// activity's heartbeat). An error that may pass (PostgreSQL, Temporal) is
// returned, for the batch to be retried; a row the database refuses for its
// content is refused, not retried.
func (s *Service) ApplyBatch(ctx context.Context, in contract.ImportBatchInput, beat func()) (contract.ImportBatchResult, error) {
	var res contract.ImportBatchResult
	id, err := uuid.Parse(in.ImportID)
	if err != nil || in.Batch < 0 || in.BatchSize <= 0 {
		return res, fmt.Errorf("batch %d of %q: %w", in.Batch, in.ImportID, contract.ErrNoSuchImport)
	}
	first, last := in.Batch*in.BatchSize+1, (in.Batch+1)*in.BatchSize
	rows, err := s.Store.PendingImportRows(ctx, id, first, last)
	if err != nil {
		return res, err
	}
	for _, r := range rows {
		beat()
		applied, err := s.apply(ctx, store.ImportRowRef{ImportID: id, Row: r.Row}, r)
		if err != nil {
			return res, fmt.Errorf("row %d: %w", r.Row, err)
		}
		if applied {
			res.Applied++
		}
	}
	err = s.Store.CountImportBatch(ctx, id, in.Batch, first, last)
	if errors.Is(err, store.ErrNotFound) {
		return res, fmt.Errorf("import %s: %w", id, contract.ErrNoSuchImport)
	}
	return res, err
}

// apply saves or refuses one row; false: an earlier attempt applied it.
func (s *Service) apply(ctx context.Context, ref store.ImportRowRef, r store.ImportRow) (bool, error) {
	if r.Account == nil { // refused when read: its report is stored
		return true, s.Store.RefuseImportRow(ctx, ref, nil)
	}
	var in store.UpsertAccount
	if err := json.Unmarshal(r.Account, &in); err != nil {
		return true, s.refuse(ctx, ref, in.ID, FieldError{Field: "row", Message: "unreadable: " + err.Error()})
	}
	in.ImportRow = &ref
	_, err := s.Triggers.SaveAccount(ctx, in)
	switch {
	case errors.Is(err, store.ErrImportRowApplied):
		return false, nil
	case errors.Is(err, store.ErrUnknownCSM):
		return true, s.refuse(ctx, ref, in.ID, UnknownCSM)
	case errors.Is(err, store.ErrInactiveMember):
		return true, s.refuse(ctx, ref, in.ID, FieldError{Field: "csm_email", Message: "this team member is deactivated: choose an active CSM"})
	case store.IsContentError(err):
		s.Log.WarnContext(ctx, "import row not saved", "import_id", ref.ImportID, "row", ref.Row, "error", err)
		return true, s.refuse(ctx, ref, in.ID, FieldError{Field: "row", Message: "not saved: " + err.Error()})
	}
	return err == nil, err
}

func (s *Service) refuse(ctx context.Context, ref store.ImportRowRef, accountID string, fe FieldError) error {
	report, err := refusal{Row: ref.Row, ID: accountID, Errors: []FieldError{fe}}.json()
	if err != nil {
		return err
	}
	return s.Store.RefuseImportRow(ctx, ref, report)
}

// Fail marks an import failed: its workflow cannot go on.
func (s *Service) Fail(ctx context.Context, importID string) error {
	id, err := uuid.Parse(importID)
	if err != nil {
		return fmt.Errorf("%q: %w", importID, contract.ErrNoSuchImport)
	}
	return s.Store.FailImport(ctx, id)
}

// markDuplicates refuses a later row with an id seen before.
func markDuplicates(rows []Row) {
	first := map[string]int{}
	for i := range rows {
		if rows[i].ID == "" || len(rows[i].Errors) > 0 {
			continue
		}
		if at, ok := first[rows[i].ID]; ok {
			rows[i].Errors = []FieldError{{Field: "id", Message: fmt.Sprintf("also on row %d; each account once per import", at)}}
			continue
		}
		first[rows[i].ID] = rows[i].Row
	}
}
