package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/states"
)

// ErrNotPending refuses a decision on an approval that is already decided,
// expired or cancelled.
var ErrNotPending = errors.New("the approval is no longer pending")

// Approval is a drafted email waiting for a team member's decision.
type Approval struct {
	ID            uuid.UUID
	RunID         uuid.UUID
	WorkflowID    string
	TemporalRunID string
	StepID        string
	AccountID     string
	AssigneeEmail string
	Level         int
	Status        states.Approval
	Draft         json.RawMessage
	Drafts        []ApprovalDraft `db:"-"`
	Edits         json.RawMessage
	Comment       string
	DecidedBy     *string
	ExpiresAt     time.Time
	CreatedAt     time.Time
	DecidedAt     *time.Time
}

// ApprovalDraft is one recipient's email of an approval: as drafted, and
// once approved, as approved (the draft with the approver's edits), which is
// exactly what is sent to them.
type ApprovalDraft struct {
	To   string
	Name string
	message.Content
	Approved *message.Content
}

// NewApproval is the input of CreateApproval.
type NewApproval struct {
	ID            uuid.UUID // uuid.Nil: PostgreSQL picks one
	RunID         uuid.UUID
	StepID        string
	AccountID     string
	AssigneeLevel string
	Draft         json.RawMessage // what the email is: template and roles
	Drafts        []ApprovalDraft // one per recipient, in sending order
	ExpiresAt     time.Time
}

// ApprovalDecision is approved, rejected or expired, by whom.
type ApprovalDecision struct {
	Status  states.Approval
	By      string
	Comment string
	Edits   json.RawMessage
	// Approved is each recipient's approved content, by address.
	Approved map[string]message.Content
}

// CreateApproval stores the approval of a run step once; a second call
// returns the first.
func (s *Store) CreateApproval(ctx context.Context, in NewApproval) (Approval, error) {
	var a Approval
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		assigneeID, err := resolveAssignee(ctx, tx, in.AccountID, in.AssigneeLevel)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO approvals (id, run_id, step_id, account_id, assignee_id, draft, expires_at)
			VALUES (COALESCE($7, gen_random_uuid()), $1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, step_id) DO NOTHING`,
			in.RunID, in.StepID, in.AccountID, assigneeID, in.Draft, in.ExpiresAt, nilUUID(in.ID))
		if err != nil {
			return fmt.Errorf("insert approval: %w", err)
		}
		a, err = rowOf[Approval](ctx, tx, approvalSelect+` WHERE a.run_id = $1 AND a.step_id = $2`, in.RunID, in.StepID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			a.Drafts, err = drafts(ctx, tx, a.ID)
			return err
		}
		for i, d := range in.Drafts {
			if _, err := tx.Exec(ctx, `
				INSERT INTO approval_drafts (approval_id, recipient, position, name, subject, html, text)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.ID, d.To, i, d.Name, d.Subject, d.HTML, d.Text); err != nil {
				return fmt.Errorf("insert approval draft: %w", err)
			}
		}
		if a.Drafts, err = drafts(ctx, tx, a.ID); err != nil {
			return err
		}
		return appendEvent(ctx, tx, in.AccountID, &in.RunID, "approval_requested",
			map[string]any{"step_id": in.StepID, "approval_id": a.ID, "assignee": a.AssigneeEmail})
	})
	return a, err
}

// DecideApproval records approved, rejected or expired on a pending approval,
// with each recipient's approved content. A repeated identical decision (a
// retried activity) is accepted and changes nothing.
func (s *Store) DecideApproval(ctx context.Context, id uuid.UUID, d ApprovalDecision) (Approval, error) {
	var a Approval
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		current, err := rowOf[Approval](ctx, tx, approvalSelect+` WHERE a.id = $1 FOR UPDATE OF a`, id)
		if err != nil {
			return err
		}
		if current.Status != states.ApprovalPending {
			if current.Status == d.Status && (current.DecidedBy == nil && d.By == "" || current.DecidedBy != nil && *current.DecidedBy == d.By) {
				a = current
				a.Drafts, err = drafts(ctx, tx, id)
				return err
			}
			return ErrNotPending
		}
		_, err = tx.Exec(ctx, `
			UPDATE approvals SET status = $2, decided_by = NULLIF($3, ''), comment = $4, edits = $5, decided_at = now()
			WHERE id = $1`, id, d.Status, d.By, d.Comment, d.Edits)
		if err != nil {
			return fmt.Errorf("decide approval: %w", err)
		}
		for to, c := range d.Approved {
			tag, err := tx.Exec(ctx, `
				UPDATE approval_drafts SET approved_subject = $3, approved_html = $4, approved_text = $5
				WHERE approval_id = $1 AND recipient = $2`, id, to, c.Subject, c.HTML, c.Text)
			if err != nil {
				return fmt.Errorf("store approved content: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("approval %s has no draft for %s", id, to)
			}
		}
		if a, err = getApproval(ctx, tx, id); err != nil {
			return err
		}
		return appendEvent(ctx, tx, a.AccountID, &a.RunID, "approval_"+string(d.Status),
			map[string]any{"step_id": a.StepID, "approval_id": id, "by": d.By})
	})
	return a, err
}

// GetApproval returns one approval with its run's workflow identity and its
// drafts.
func (s *Store) GetApproval(ctx context.Context, id uuid.UUID) (Approval, error) {
	return getApproval(ctx, s.pool, id)
}

func getApproval(ctx context.Context, q querier, id uuid.UUID) (Approval, error) {
	a, err := rowOf[Approval](ctx, q, approvalSelect+` WHERE a.id = $1`, id)
	if err != nil {
		return a, err
	}
	a.Drafts, err = drafts(ctx, q, id)
	return a, err
}

// drafts returns an approval's drafts in sending order.
func drafts(ctx context.Context, q querier, id uuid.UUID) ([]ApprovalDraft, error) {
	byApproval, err := draftsOf(ctx, q, []uuid.UUID{id})
	return byApproval[id], err
}

// draftsOf returns the drafts of several approvals, each in sending order;
// every approval asked for has a list, empty when it has no drafts.
func draftsOf(ctx context.Context, q querier, ids []uuid.UUID) (map[uuid.UUID][]ApprovalDraft, error) {
	out := make(map[uuid.UUID][]ApprovalDraft, len(ids))
	for _, id := range ids {
		out[id] = []ApprovalDraft{}
	}
	rows, err := q.Query(ctx, `
		SELECT approval_id, recipient, name, subject, html, text, approved_subject, approved_html, approved_text
		FROM approval_drafts WHERE approval_id = ANY($1) ORDER BY approval_id, position`, ids)
	if err != nil {
		return nil, fmt.Errorf("list approval drafts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                  uuid.UUID
			d                   ApprovalDraft
			subject, html, text *string
		)
		if err := rows.Scan(&id, &d.To, &d.Name, &d.Subject, &d.HTML, &d.Text, &subject, &html, &text); err != nil {
			return nil, fmt.Errorf("scan approval draft: %w", err)
		}
		if subject != nil {
			d.Approved = &message.Content{Subject: *subject, HTML: *html, Text: *text}
		}
		out[id] = append(out[id], d)
	}
	return out, rows.Err()
}

// ApprovalFilter narrows ListApprovals.
type ApprovalFilter struct {
	AssigneeEmail string
	Status        states.Approval
	AccountID     string
	RunID         *uuid.UUID
	// ByDeadline orders by deadline, soonest first (the inbox), and the
	// keyset's At is the deadline; otherwise by creation.
	ByDeadline bool
	After      *Keyset
	Limit      int
}

// ListApprovals returns approvals, oldest first (or soonest deadline
// first): an inbox.
func (s *Store) ListApprovals(ctx context.Context, f ApprovalFilter) ([]Approval, error) {
	order := keysetOrder{at: "a.created_at", id: "a.id"}
	if f.ByDeadline {
		order.at = "a.expires_at"
	}
	out, err := page[Approval](ctx, s.pool, approvalSelect+`
		WHERE ($1 = '' OR t.email = $1) AND ($2 = '' OR a.status = $2)
		  AND ($3 = '' OR a.account_id = $3) AND ($4::uuid IS NULL OR a.run_id = $4)`,
		order, f.After, f.Limit, f.AssigneeEmail, f.Status, f.AccountID, f.RunID)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(out))
	for i, a := range out {
		ids[i] = a.ID
	}
	byApproval, err := draftsOf(ctx, s.pool, ids)
	for i := range out {
		out[i].Drafts = byApproval[out[i].ID]
	}
	return out, err
}

const approvalSelect = `
	SELECT a.id, a.run_id, r.workflow_id, r.temporal_run_id, a.step_id, a.account_id, t.email AS assignee_email,
	       a.level, a.status, a.draft, a.edits, a.comment, a.decided_by, a.expires_at, a.created_at, a.decided_at
	FROM approvals a JOIN team_members t ON t.id = a.assignee_id JOIN runs r ON r.id = a.run_id`

// Escalation is where an approval went when it climbed the ladder.
type Escalation struct {
	Approval     Approval
	ManagerEmail string // the approval's assignee now
	Task         Task
}

// ErrTopOfLadder says the assignee has no manager to escalate to.
var ErrTopOfLadder = errors.New("the assignee has no manager")

// EscalateApproval moves a pending approval to its assignee's manager at the
// given level with a new deadline, and gives the manager an urgent task. It
// is idempotent: repeating it for the same level returns the same result.
func (s *Store) EscalateApproval(ctx context.Context, id uuid.UUID, level int, expiresAt time.Time) (Escalation, error) {
	var out Escalation
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			curLevel   int
			assigneeID uuid.UUID
		)
		row := tx.QueryRow(ctx, `SELECT level, assignee_id FROM approvals WHERE id = $1 FOR UPDATE`, id)
		if err := row.Scan(&curLevel, &assigneeID); err != nil {
			return notFound(err)
		}
		current, err := rowOf[Approval](ctx, tx, approvalSelect+` WHERE a.id = $1`, id)
		if err != nil {
			return err
		}
		if current.Status != states.ApprovalPending {
			return ErrNotPending
		}
		if curLevel < level {
			managerID, err := activeManager(ctx, tx, assigneeID)
			if err != nil {
				return err
			}
			if managerID == nil {
				return ErrTopOfLadder
			}
			if _, err := tx.Exec(ctx, `UPDATE approvals SET assignee_id = $2, level = $3, expires_at = $4 WHERE id = $1`,
				id, *managerID, level, expiresAt); err != nil {
				return fmt.Errorf("escalate approval: %w", err)
			}
			if err := appendEvent(ctx, tx, current.AccountID, &current.RunID, "approval_escalated",
				map[string]any{"approval_id": id, "level": level, "step_id": current.StepID}); err != nil {
				return err
			}
		}
		if out.Approval, err = getApproval(ctx, tx, id); err != nil {
			return err
		}
		out.ManagerEmail = out.Approval.AssigneeEmail
		taskStep := fmt.Sprintf("%s/escalated-L%d", current.StepID, level)
		if _, err := tx.Exec(ctx, `
			INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title, description, priority, due_at)
			SELECT $1, $2, $3, assignee_id, $4, $5, 'urgent', $6 FROM approvals WHERE id = $7
			ON CONFLICT (run_id, step_id) DO NOTHING`,
			current.RunID, taskStep, current.AccountID,
			fmt.Sprintf("Approval escalated to you (level %d): %s for %s", level, current.StepID, current.AccountID),
			"The approval was not decided in time. Decide it with POST /v1/approvals/"+id.String()+"/decision.",
			expiresAt, id); err != nil {
			return fmt.Errorf("create escalation task: %w", err)
		}
		out.Task, err = rowOf[Task](ctx, tx, taskSelect+` WHERE k.run_id = $1 AND k.step_id = $2`, current.RunID, taskStep)
		return err
	})
	return out, err
}

// activeManager is the nearest active manager above a member (nil: none):
// a deactivated one gets no new work. It is locked against a deactivation
// at the same time, as resolveAssignee's pick is.
func activeManager(ctx context.Context, tx pgx.Tx, memberID uuid.UUID) (*uuid.UUID, error) {
	for range 3 {
		var managerID *uuid.UUID
		if err := tx.QueryRow(ctx, `
			WITH RECURSIVE up(id, manager_id, active, depth) AS (
				SELECT m.id, m.manager_id, m.deactivated_at IS NULL, 1
				FROM team_members t JOIN team_members m ON m.id = t.manager_id WHERE t.id = $1
				UNION ALL
				SELECT m.id, m.manager_id, m.deactivated_at IS NULL, up.depth + 1
				FROM team_members m JOIN up ON m.id = up.manager_id WHERE up.depth < 32
			)
			SELECT (SELECT id FROM up WHERE active ORDER BY depth LIMIT 1)`, memberID).Scan(&managerID); err != nil {
			return nil, fmt.Errorf("look up manager: %w", err)
		}
		if managerID == nil {
			return nil, nil
		}
		active, err := lockActive(ctx, tx, *managerID)
		if err != nil || active {
			return managerID, err
		}
	}
	return nil, errors.New("look up manager: the ladder keeps changing")
}

// nilUUID is NULL for uuid.Nil, so a column default applies.
func nilUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
