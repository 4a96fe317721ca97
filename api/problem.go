package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/approvals"
	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/tasks"
	"github.com/playbookd/playbookd/team"
)

// FieldError names one bad input and says what is expected.
type FieldError struct {
	Field   string `json:"field"`
	Line    int    `json:"line,omitempty"` // in a YAML/JSON playbook source
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem detail, with per-field errors.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	// ErrorCount is how many errors there are when Errors lists only the
	// first playbook.MaxReportedErrors of them.
	ErrorCount int `json:"error_count,omitempty"`
	// RunID points at the live run behind a 409 on POST /v1/runs.
	RunID string `json:"run_id,omitempty"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

func problem(status int, detail string, errs ...FieldError) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs}
}

// unprocessable is a 422 listing the bad fields: the first
// playbook.MaxReportedErrors, and how many there are when there are more, so
// that an answer stays small whatever the request.
func unprocessable(errs []FieldError) *Problem {
	p := problem(http.StatusUnprocessableEntity, "the request has invalid fields", errs...)
	if len(errs) > playbook.MaxReportedErrors {
		p.Errors, p.ErrorCount = errs[:playbook.MaxReportedErrors], len(errs)
		p.Detail = fmt.Sprintf("the request has %d invalid fields; the first %d are listed", len(errs), playbook.MaxReportedErrors)
	}
	return p
}

// fieldErrors collects validation errors.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return unprocessable(fe)
}

const problemContentType = "application/problem+json"

// errorHandler is the one place errors become HTTP answers.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := domainProblem(err)
		var he *echo.HTTPError
		switch {
		case p != nil:
		case errors.As(err, &he):
			detail := http.StatusText(he.Code)
			if msg, ok := he.Message.(string); ok {
				detail = msg
			}
			p = problem(he.Code, detail)
		default:
			log.ErrorContext(c.Request().Context(), "request failed", "error", err,
				"method", c.Request().Method, "path", c.Path(), "request_id", requestID(c))
			p = problem(http.StatusInternalServerError, "an internal error occurred; it has been logged")
		}
		if len(p.Errors) > playbook.MaxReportedErrors { // whatever the route, an answer stays small
			p.Detail = fmt.Sprintf("%s (%d errors; the first %d are listed)", p.Detail, len(p.Errors), playbook.MaxReportedErrors)
			p.Errors, p.ErrorCount = p.Errors[:playbook.MaxReportedErrors], len(p.Errors)
		}
		p.Instance = c.Request().URL.Path
		c.Response().Header().Set(echo.HeaderContentType, problemContentType)
		if c.Request().Method == http.MethodHead {
			err = c.NoContent(p.Status)
		} else {
			err = c.JSON(p.Status, p)
		}
		if err != nil {
			log.ErrorContext(c.Request().Context(), "write error response", "error", err)
		}
	}
}

// domainProblem is the answer to an error of a domain service (or a
// Problem a handler made); nil for any other error, a 500. Errors that
// name a field of one route's request (a start's unknown playbook, an
// account's unknown CSM) are mapped by that route's handler, which knows
// the field.
func domainProblem(err error) *Problem {
	var (
		p     *Problem
		bad   *invalid.Error
		perrs playbook.Errors
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, team.ErrNotInLadder):
		return problem(http.StatusForbidden, err.Error())
	case errors.Is(err, approvals.ErrNotFound), errors.Is(err, tasks.ErrNotFound), errors.Is(err, catalog.ErrNotFound):
		return problem(http.StatusNotFound, err.Error())
	case errors.Is(err, approvals.ErrNotPending), errors.Is(err, tasks.ErrClosed), errors.Is(err, catalog.ErrArchived), errors.Is(err, catalog.ErrKeyTaken),
		errors.Is(err, runs.ErrNotLive):
		return problem(http.StatusConflict, err.Error())
	case errors.As(err, &bad):
		fields := make([]FieldError, len(bad.Errors))
		for i, fe := range bad.Errors {
			fields[i] = FieldError{Field: fe.Field, Message: fe.Message}
		}
		return unprocessable(fields)
	case errors.Is(err, tasks.ErrTooLong):
		return unprocessable([]FieldError{{Field: "note", Message: err.Error()}})
	case errors.As(err, &perrs):
		return definitionProblem(perrs)
	}
	return peopleProblem(err)
}

// notFoundAs answers 404 naming what a plain read did not find.
func notFoundAs(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return problem(http.StatusNotFound, what+" not found")
	}
	return err
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
