package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/store"
)

// riskAlertJSON is an account's band change or new risk signal, with what
// it started and who holds that work.
type riskAlertJSON struct {
	ID          int64            `json:"id"`
	AccountID   string           `json:"account_id"`
	AccountName string           `json:"account_name"`
	CSMEmail    string           `json:"csm_email"`
	BandFrom    *string          `json:"band_from"`
	BandTo      *string          `json:"band_to"`
	Score       *float64         `json:"score"`
	Signals     []string         `json:"signals"`
	Headline    string           `json:"headline"`
	Worse       bool             `json:"worse"`
	CreatedAt   time.Time        `json:"created_at"`
	SeenAt      *time.Time       `json:"seen_at"`
	Started     []alertStartJSON `json:"started"`
}

type alertStartJSON struct {
	Playbook string          `json:"playbook"`
	Status   string          `json:"status"`
	RunID    *uuid.UUID      `json:"run_id"`
	Detail   string          `json:"detail,omitempty"`
	Work     []alertWorkJSON `json:"open_work"`
}

type alertWorkJSON struct {
	Kind     string     `json:"kind"`
	ID       uuid.UUID  `json:"id"`
	StepID   string     `json:"step_id"`
	Title    string     `json:"title,omitempty"`
	Assignee string     `json:"assignee"`
	Level    int        `json:"level,omitempty"`
	Due      *time.Time `json:"due_at"`
}

func riskAlertResponse(a store.RiskAlert) riskAlertJSON {
	out := riskAlertJSON{ID: a.ID, AccountID: a.AccountID, AccountName: a.AccountName, CSMEmail: a.CSMEmail,
		BandFrom: a.BandFrom, BandTo: a.BandTo, Score: a.Score, Signals: a.Signals, Headline: a.Headline(),
		Worse: a.Worse(), CreatedAt: a.CreatedAt, SeenAt: a.SeenAt, Started: []alertStartJSON{}}
	if out.Signals == nil {
		out.Signals = []string{}
	}
	for _, s := range a.Started {
		st := alertStartJSON{Playbook: s.PlaybookKey, Status: s.Status, RunID: s.RunID, Detail: s.Detail, Work: []alertWorkJSON{}}
		for _, w := range s.Work {
			st.Work = append(st.Work, alertWorkJSON{Kind: w.Kind, ID: w.ID, StepID: w.StepID, Title: w.Title,
				Assignee: w.AssigneeEmail, Level: w.Level, Due: w.Due})
		}
		out.Started = append(out.Started, st)
	}
	return out
}

// listRiskAlerts lists the risk alerts of an inbox, newest first: a csm
// key's own (or of someone below it), unseen unless seen=true is asked.
func (h *handlers) listRiskAlerts(c echo.Context) error {
	pg, before, err := pageAfter[int64](c)
	if err != nil {
		return err
	}
	q := queryFilter{c: c}
	seen := q.enum("seen", []string{"true", "false"}) == "true"
	if err := q.err(); err != nil {
		return err
	}
	p, err := h.app.RiskAlerts(c.Request().Context(), actorOf(c), q.assignee(), seen, before, pg.limit)
	if err != nil {
		return err
	}
	out := list[riskAlertJSON]{Items: each(p.Alerts, riskAlertResponse)}
	if out.Items == nil {
		out.Items = []riskAlertJSON{}
	}
	if p.Next != 0 {
		raw, _ := json.Marshal(p.Next)
		out.NextCursor = base64.RawURLEncoding.EncodeToString(raw)
	}
	return c.JSON(http.StatusOK, out)
}

// markRiskAlertSeen takes an alert out of the caller's inbox and digest;
// only a key that is a member's marks its member's own alerts.
func (h *handlers) markRiskAlertSeen(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return problem(http.StatusNotFound, "risk alert not found")
	}
	a, err := h.app.MarkRiskAlertSeen(c.Request().Context(), actorOf(c), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return problem(http.StatusNotFound, "risk alert not found")
	case errors.Is(err, store.ErrNotYourAlert), errors.Is(err, app.ErrNoMember):
		return problem(http.StatusForbidden, err.Error())
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, riskAlertResponse(a))
}
