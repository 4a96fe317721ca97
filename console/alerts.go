package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
)

// Risk reaches the CSM: the top of the inbox says which accounts of theirs
// changed band or showed a risk signal, when, what that started and who
// holds the work it made. The list is read on each load (the alerts are
// written with the snapshot or event), so a red account is there on the
// next page load.

// alertsPage is how many alerts the inbox shows before a "Next" link.
const alertsPage = 10

type riskSection struct {
	Alerts []alertView
	// Mine: the signed-in member's own alerts, each of which they may mark
	// seen; Everyone: every account's (admin and ops with nobody's inbox
	// chosen), which nobody marks.
	Mine, Everyone bool
	Whose          string // the inbox's ?assignee=
	Next           string // the next page's URL
	CSRF           string
}

type alertView struct {
	store.RiskAlert
	Signals []signalView
	Started []startView
}

type startView struct {
	Playbook string
	State    string // what became of the firing, in words
	RunID    string
	Work     []workView
}

type workView struct {
	Kind string // approval or task
	What string // the step's name (an approval), the task's title
	Link string
	Who  string
	Due  *time.Time
}

// riskRoutes adds the alerts' own actions.
func (h *Handler) riskRoutes(signed *echo.Group) {
	signed.POST("/alerts/:id/seen", h.markAlertSeen)
}

// riskSection reads the alerts of the inbox asked for (whose: its
// ?assignee=, "" the signed-in person's own), newest first, a page at a time.
func (h *Handler) riskSection(c echo.Context, whose string, names *names) (riskSection, error) {
	ctx := c.Request().Context()
	me := current(c)
	var before int64
	if v := c.QueryParam("risk_before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return riskSection{}, echo.NewHTTPError(http.StatusBadRequest,
				"The query parameter risk_before must be a whole number from 1, as the Next link gives, or empty for the first page.")
		}
		before = n
	}
	p, err := h.app.RiskAlerts(ctx, me.Actor, whose, false, before, alertsPage)
	if err != nil {
		return riskSection{}, err
	}
	r := riskSection{Whose: whose, CSRF: me.CSRF, Everyone: p.Whose == "",
		Mine: me.Email != "" && p.Whose == me.Email}
	for _, a := range p.Alerts {
		r.Alerts = append(r.Alerts, h.alertView(ctx, a, names))
	}
	if p.Next != 0 {
		q := url.Values{"risk_before": {strconv.FormatInt(p.Next, 10)}}
		if whose != "" {
			q.Set("assignee", whose)
		}
		r.Next = Prefix + "/?" + q.Encode()
	}
	return r, nil
}

func (h *Handler) alertView(ctx context.Context, a store.RiskAlert, names *names) alertView {
	v := alertView{RiskAlert: a}
	for _, s := range a.Signals {
		v.Signals = append(v.Signals, signalView{Name: s, Words: signalMeaning(s), At: a.CreatedAt})
	}
	for _, st := range a.Started {
		sv := startView{Playbook: st.PlaybookKey, State: firingWords(st)}
		if st.RunID != nil {
			sv.RunID = st.RunID.String()
		}
		for _, w := range st.Work {
			wv := workView{Kind: w.Kind, Who: w.AssigneeName, Due: w.Due,
				What: names.step(ctx, w.RunID, w.StepID)}
			if w.Kind == store.AlertWorkApproval {
				wv.Link = Prefix + "/approvals/" + w.ID.String()
			} else {
				wv.What = w.Title
				wv.Link = Prefix + "/runs/" + w.RunID.String()
			}
			sv.Work = append(sv.Work, wv)
		}
		v.Started = append(v.Started, sv)
	}
	return v
}

// signalMeaning says what a risk signal means (seed 000's words).
func signalMeaning(name string) string {
	if words := signalWords[name]; words != "" {
		return words
	}
	return strings.ReplaceAll(name, "_", " ")
}

// firingWords says what became of a playbook an alert fired.
func firingWords(s store.AlertStart) string {
	switch s.Status {
	case store.FiringPending:
		return "starting"
	case store.FiringStarted:
		return "started"
	case store.FiringAlreadyLive:
		return "already running"
	default:
		if s.Detail != "" {
			return "not started: " + s.Detail
		}
		return "not started"
	}
}

// markAlertSeen takes an alert out of the member's own inbox (and next
// digest); the others it concerns still see it.
func (h *Handler) markAlertSeen(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.ErrNotFound
	}
	a, err := h.app.MarkRiskAlertSeen(c.Request().Context(), current(c).Actor, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, store.ErrNotYourAlert), errors.Is(err, app.ErrNoMember):
		return h.forbidden(c, "Only the people an alert is about mark it seen, each for themselves: the account's CSM and whoever holds the work it started.")
	case err != nil:
		return err
	}
	return h.redirect(c, Prefix+"/", "Marked seen: "+a.AccountName+" — "+a.Headline()+".")
}

// step names a run's step as people read it (its name, or its id).
func (n *names) step(ctx context.Context, runID uuid.UUID, stepID string) string {
	r := n.run(ctx, runID)
	if r.PlaybookKey == "" {
		return stepID
	}
	stepNames, err := n.h.app.StepNames(ctx, r.PlaybookKey, r.PlaybookVersion)
	if err != nil && n.err == nil {
		n.err = err
	}
	return playbook.StepTitle(stepNames, stepID)
}
