package store

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playbookd/playbookd/survey"
)

// ErrNoSurvey: the outbox row a survey answer names does not exist, or did
// not carry a survey of the answer's kind. An unknown row is also
// ErrNotFound.
var ErrNoSurvey = errors.New("no survey of this kind went out in that email")

// NewSurveyResponse is a verified answer (survey.Answer) to record.
type NewSurveyResponse struct {
	EmailID  uuid.UUID
	Kind     string
	Score    int
	Category string // survey.Category of Kind and Score
	Comment  string // optional, at most survey.MaxComment characters
	// Firings are the triggers a new response fires; each occasion is ended
	// with the id of the response's event, so each response fires once.
	Firings []NewFiring
}

// SurveyResponse is one recorded answer: once per run, step and recipient.
type SurveyResponse struct {
	ID        int64
	EmailID   uuid.UUID
	RunID     uuid.UUID
	StepID    string
	Recipient string
	AccountID string
	ContactID *uuid.UUID
	Kind      string
	Score     int
	Category  string
	Comment   string
	CreatedAt time.Time
}

// EventData is the data of the account event a new response emits
// (survey.EventName), as recorded and as handed to live runs.
func (r SurveyResponse) EventData() map[string]any {
	return map[string]any{"kind": r.Kind, "score": r.Score, "category": r.Category, "step_id": r.StepID, "response_id": r.ID}
}

const surveyResponseColumns = `id, email_id, run_id, step_id, recipient, account_id, contact_id, kind, score::int AS score,
	category, comment, created_at`

// surveyEmail is the outbox row a survey answer names.
type surveyEmail struct {
	RunID     uuid.UUID
	StepID    string
	Recipient string
	AccountID string
	ContactID *uuid.UUID
	Survey    *string
}

// lookUpSurveyEmail reads the outbox row of a survey of the kind.
func lookUpSurveyEmail(ctx context.Context, q querier, emailID uuid.UUID, kind string) (surveyEmail, error) {
	e, err := rowOf[surveyEmail](ctx, q, `
		SELECT run_id, step_id, recipient, account_id, contact_id, survey FROM emails WHERE id = $1`, emailID)
	if errors.Is(err, ErrNotFound) {
		return e, fmt.Errorf("%w: email %s: %w", ErrNoSurvey, emailID, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("read email %s: %w", emailID, err)
	}
	if e.Survey == nil || *e.Survey != kind {
		return e, fmt.Errorf("%w: email %s asked no %s question", ErrNoSurvey, emailID, kind)
	}
	return e, nil
}

// existingSurveyResponse is the response already recorded for the email or
// for its run, step and recipient; ErrNotFound for none.
func existingSurveyResponse(ctx context.Context, q querier, emailID uuid.UUID, e surveyEmail) (SurveyResponse, error) {
	return rowOf[SurveyResponse](ctx, q, `SELECT `+surveyResponseColumns+` FROM survey_responses
		WHERE email_id = $1 OR (run_id, step_id, recipient) = ($2, $3, $4)
		ORDER BY id LIMIT 1`, emailID, e.RunID, e.StepID, e.Recipient)
}

// RecordSurveyResponse records an answer once per run, step and recipient,
// in one transaction with what a new answer sets off: the account event
// survey.EventName (data: SurveyResponse.EventData) and its firings. The
// constraints decide "once": a repeated or concurrent answer inserts
// nothing, writes nothing else and gets the first response, with created
// false. ErrNoSurvey when the email did not carry a survey of this kind;
// survey.ErrScore for a score or category that does not fit the kind;
// survey.ErrCommentTooLong.
func (s *Store) RecordSurveyResponse(ctx context.Context, in NewSurveyResponse) (SurveyResponse, bool, error) {
	if category, err := survey.Category(in.Kind, in.Score); err != nil {
		return SurveyResponse{}, false, err
	} else if category != in.Category {
		return SurveyResponse{}, false, fmt.Errorf("%w: %s %d is %s, not %s", survey.ErrScore, in.Kind, in.Score, category, in.Category)
	}
	if utf8.RuneCountInString(in.Comment) > survey.MaxComment {
		return SurveyResponse{}, false, survey.ErrCommentTooLong
	}
	var (
		out     SurveyResponse
		created bool
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		e, err := lookUpSurveyEmail(ctx, tx, in.EmailID, in.Kind)
		if err != nil {
			return err
		}
		// No conflict target: the email's and the (run, step, recipient)
		// uniques both make a repeat insert nothing. A concurrent answer
		// waits here for the first one's transaction, then inserts nothing.
		out, err = rowOf[SurveyResponse](ctx, tx, `
			INSERT INTO survey_responses (email_id, run_id, step_id, recipient, account_id, contact_id, kind, score, category, comment)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT DO NOTHING
			RETURNING `+surveyResponseColumns,
			in.EmailID, e.RunID, e.StepID, e.Recipient, e.AccountID, e.ContactID, in.Kind, in.Score, in.Category, in.Comment)
		if errors.Is(err, ErrNotFound) {
			out, err = existingSurveyResponse(ctx, tx, in.EmailID, e)
			if err != nil {
				return fmt.Errorf("read the first survey response of email %s: %w", in.EmailID, err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("insert survey response: %w", err)
		}
		created = true
		return recordAccountEvent(ctx, tx, out.AccountID, &out.RunID, survey.EventName, out.EventData(), in.Firings)
	})
	if err != nil {
		return SurveyResponse{}, false, err
	}
	return out, created, nil
}

// SurveyResponseOf is the response recorded for a survey email, nil for
// none yet (it reads, never writes: a survey page shown before an answer).
// ErrNoSurvey as RecordSurveyResponse.
func (s *Store) SurveyResponseOf(ctx context.Context, emailID uuid.UUID, kind string) (*SurveyResponse, error) {
	e, err := lookUpSurveyEmail(ctx, s.pool, emailID, kind)
	if err != nil {
		return nil, err
	}
	r, err := existingSurveyResponse(ctx, s.pool, emailID, e)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the survey response of email %s: %w", emailID, err)
	}
	return &r, nil
}

// SurveyScores are an account's scores of a kind answered since a moment,
// oldest first: what its NPS or mean CSAT is computed from.
func (s *Store) SurveyScores(ctx context.Context, accountID, kind string, since time.Time) ([]int, error) {
	rows, _ := s.pool.Query(ctx, `SELECT score::int FROM survey_responses
		WHERE account_id = $1 AND kind = $2 AND created_at >= $3 ORDER BY created_at, id`, accountID, kind, since)
	scores, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("read survey scores of %s: %w", accountID, err)
	}
	return scores, nil
}
