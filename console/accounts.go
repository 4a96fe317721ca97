package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/text"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/triggers"
)

const accountsPage = 50

// accountBands are the band filters the list accepts: every band, and none
// for accounts without a snapshot.
var accountBands = append(slices.Clone(health.BandNames), "none")

// bandOptions are the band filter's choices, best first: the model's bands
// (orange only under four), the one asked for even when the model no longer
// gives it (snapshots keep theirs), and none.
func bandOptions(model health.Bands, selected string) []string {
	var out []string
	for _, b := range health.BandNames {
		if slices.Contains(model.Names(), b) || b == selected {
			out = append(out, b)
		}
	}
	return append(out, "none")
}

type accountListData struct {
	Filter store.AccountFilter
	// Scope is "mine" (the signed-in member's book: theirs and the accounts
	// of those below them) or "all"; Book says whether there is a book to
	// switch to (a session without a member has none).
	Scope    string
	Book     bool
	Accounts []store.Account
	Next     string // the next page's URL
	Segments []string
	Bands    []string
	Statuses []string
	CSMs     []store.TeamMember
}

// accountList lists accounts with filters and a search, a page at a time.
// A csm's list opens on their book ("My accounts"), with a switch to all;
// admin and ops open on all.
func (h *Handler) accountList(c echo.Context) error {
	ctx := c.Request().Context()
	me := current(c).Actor
	q := c.QueryParams()
	f := store.AccountFilter{
		Segment: known(q.Get("segment"), accounts.Segments), Band: known(q.Get("band"), accountBands),
		CSMEmail: strings.ToLower(strings.TrimSpace(q.Get("csm"))), Status: known(q.Get("status"), accounts.Statuses),
		Search: strings.TrimSpace(q.Get("q")), After: q.Get("after"), Limit: accountsPage + 1,
	}
	d := accountListData{Scope: known(q.Get("scope"), []string{"mine", "all"}), Book: me.Email != ""}
	if d.Scope == "" {
		d.Scope = "all"
		if me.Role == team.RoleCSM && d.Book {
			d.Scope = "mine"
		}
	}
	if d.Scope == "mine" && d.Book {
		f.BookOf = me.Email
	}
	rows, err := h.app.Accounts.ListAccounts(ctx, f)
	if err != nil {
		return err
	}
	d.Filter, d.Accounts, d.Segments, d.Bands, d.Statuses = f, rows, accounts.Segments, bandOptions(h.app.Bands, f.Band), accounts.Statuses
	if len(rows) > accountsPage {
		d.Accounts = rows[:accountsPage]
		next := url.Values{}
		for k, v := range map[string]string{"segment": f.Segment, "band": f.Band, "csm": f.CSMEmail, "status": f.Status,
			"q": f.Search, "scope": d.Scope, "after": rows[accountsPage-1].ID} {
			if v != "" {
				next.Set(k, v)
			}
		}
		d.Next = Prefix + "/accounts?" + next.Encode()
	}
	if d.CSMs, err = h.app.Team.ListTeamMembers(ctx, "", 500); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "accounts", page{Title: "Accounts", Nav: "accounts", Data: d})
}

// known keeps a filter value the list knows, and drops any other (a select
// offers only those).
func known(v string, values []string) string {
	if slices.Contains(values, v) {
		return v
	}
	return ""
}

type accountData struct {
	store.Account
	History   []store.HealthSnapshot // oldest first
	Chart     chart
	Signals   []signalView
	Live      []store.Run
	Past      []store.Run
	Emails    []store.Email
	Tasks     []store.Task
	TasksOf   string // whose tasks these are, when not everyone's
	Events    []store.Event
	Playbooks []store.PlaybookSummary // those that can be started
	MayRun    bool                    // the person may start, pause and cancel runs
	// The start and event forms, as sent and refused.
	Start     startForm
	Event     eventForm
	LiveRunID string // the live run a start collided with
	// Loops: posting events, new tasks, notes and the timeline (loops.go).
	Loops loopsData
	// The next pages of the runs and the emails ("": the last), newest
	// first (pages.go).
	NextRuns, NextEmails string
}

type startForm struct{ Playbook, Error string }

type eventForm struct{ Name, Data, NameError, DataError string }

type signalView struct {
	Name, Words string
	At          time.Time
}

// Health points on an account's chart; older ones are left out.
const chartPoints = 90

// accountPage shows an account: health history, risk signals, contacts,
// runs, emails, tasks and events, and for ops the actions on them.
func (h *Handler) accountPage(c echo.Context) error {
	return h.showAccount(c, http.StatusOK, nil)
}

func (h *Handler) showAccount(c echo.Context, status int, sent *accountData) error {
	ctx := c.Request().Context()
	me := current(c).Actor
	acct, err := h.app.Accounts.GetAccount(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no account with this id.")
	}
	if err != nil {
		return err
	}
	d := accountData{Account: acct, MayRun: may(me, team.Operators...)}
	if sent != nil {
		d.Start, d.Event, d.LiveRunID = sent.Start, sent.Event, sent.LiveRunID
	}
	history, err := h.app.Accounts.HealthHistory(ctx, acct.ID, 0, chartPoints)
	if err != nil {
		return err
	}
	slices.Reverse(history)
	d.History = history
	d.Chart = healthChart(acct.Name, history, h.app.Bands, h.zone(c))
	runsAfter, err := keysetQuery(c, "runs_after")
	if err != nil {
		return err
	}
	emailsAfter, err := keysetQuery(c, "emails_after")
	if err != nil {
		return err
	}
	runList, err := h.app.Lists.ListRuns(ctx, store.RunFilter{AccountID: acct.ID, After: runsAfter, Limit: accountListPage + 1})
	if err != nil {
		return err
	}
	runList, d.NextRuns = pageOn(c, runList, "runs_after", func(r store.Run) store.Keyset { return store.Keyset{At: r.StartedAt, ID: r.ID} })
	for _, r := range runList {
		if live(r) {
			d.Live = append(d.Live, r)
		} else {
			d.Past = append(d.Past, r)
		}
	}
	if d.Emails, err = h.app.ListEmails(ctx, me, store.EmailFilter{AccountID: acct.ID, Kind: store.EmailToCustomer, Latest: true,
		After: emailsAfter, Limit: accountListPage + 1}); err != nil {
		return err
	}
	d.Emails, d.NextEmails = pageOn(c, d.Emails, "emails_after", func(e store.Email) store.Keyset { return store.Keyset{At: e.CreatedAt, ID: e.ID} })
	if d.Tasks, d.TasksOf, err = h.accountTasks(c, acct); err != nil {
		return err
	}
	if d.Events, err = h.app.Accounts.AccountEvents(ctx, acct.ID, 50); err != nil {
		return err
	}
	d.Signals = signals(acct, d.Events)
	var sentLoops *loopsData
	if sent != nil {
		sentLoops = &sent.Loops
	}
	if d.Loops, err = h.accountLoops(c, acct, sentLoops); err != nil {
		return err
	}
	if d.MayRun {
		if d.Playbooks, err = h.startable(c); err != nil {
			return err
		}
	}
	return h.render(c, status, "account", page{Title: acct.Name, Nav: "accounts", Data: d})
}

// accountTasks lists the account's tasks the person may see: everyone's
// for ops, for a csm their own and, when the account's CSM is below them
// in the ladder, the CSM's.
func (h *Handler) accountTasks(c echo.Context, acct store.Account) ([]store.Task, string, error) {
	ctx, me := c.Request().Context(), current(c).Actor
	f := store.TaskFilter{AccountID: acct.ID, Limit: 100}
	list, err := h.app.Tasks.List(ctx, me, f)
	if err != nil || me.Role != team.RoleCSM {
		return list, "", err
	}
	whose := "yours"
	if acct.CSMEmail != me.Email {
		f.AssigneeEmail = acct.CSMEmail
		theirs, err := h.app.Tasks.List(ctx, me, f)
		switch {
		case errors.Is(err, team.ErrNotInLadder):
		case err != nil:
			return nil, "", err
		default:
			list, whose = append(list, theirs...), "yours and "+acct.CSMName+"'s"
		}
	}
	slices.SortFunc(list, func(a, b store.Task) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return list, whose, nil
}

// startable lists the playbooks with a published version.
func (h *Handler) startable(c echo.Context) ([]store.PlaybookSummary, error) {
	all, err := h.app.Playbooks.List(c.Request().Context(), "", 500)
	// A retired playbook takes no new enrolments: not offered (a start is refused).
	return slices.DeleteFunc(all, func(p store.PlaybookSummary) bool { return p.PublishedVersion == nil || p.RetiredAt != nil }), err
}

func live(r store.Run) bool { return r.Status.Live() }

// signalWords say what each risk signal of seed 000 means.
var signalWords = map[string]string{
	"usage_decline":        "Usage fell by a quarter or more within 30 days.",
	"support_spike":        "Three or more high-priority tickets within 14 days.",
	"champion_left":        "The champion left the company.",
	"payment_overdue":      "A payment is overdue.",
	"competitor_mentioned": "A competitor was mentioned.",
}

// signals are the risk signals the account shows now: those of its latest
// health snapshot and those its recent events raised.
func signals(acct store.Account, events []store.Event) []signalView {
	var out []signalView
	seen := map[string]bool{}
	add := func(name string, at time.Time) {
		if seen[name] {
			return
		}
		seen[name] = true
		words := signalWords[name]
		if words == "" {
			words = strings.ReplaceAll(name, "_", " ")
		}
		out = append(out, signalView{Name: name, Words: words, At: at})
	}
	if acct.Health != nil {
		for _, s := range acct.Health.Signals {
			add(s, acct.Health.MeasuredAt)
		}
	}
	for _, e := range events { // newest first
		if name, ok := e.Data["signal"].(string); ok && e.Type == "risk_signal" && time.Since(e.CreatedAt) < 30*24*time.Hour {
			add(name, e.CreatedAt)
		}
	}
	return out
}

// startRun starts a playbook for the account through runs.Service, as POST
// /v1/runs does.
func (h *Handler) startRun(c echo.Context) error {
	key := c.FormValue("playbook")
	sent := &accountData{Start: startForm{Playbook: key}}
	if !oneLine(key) { // a key is one line, as the API's is
		sent.Start.Error = "The playbook is one line: choose one from the list."
		return h.showAccount(c, http.StatusUnprocessableEntity, sent)
	}
	run, err := h.app.Runs.Start(c.Request().Context(), runs.StartInput{PlaybookKey: key, AccountID: c.Param("id")})
	var liveRun *runs.LiveRunError
	switch {
	case errors.As(err, &liveRun):
		sent.Start.Error = "Already live: this account has a live run of " + key + ". Cancel it or wait for it to end."
		if liveRun.RunID != nil {
			sent.LiveRunID = liveRun.RunID.String()
		}
		return h.showAccount(c, http.StatusConflict, sent)
	case errors.Is(err, runs.ErrUnknownAccount):
		return echo.NewHTTPError(http.StatusNotFound, "There is no account with this id.")
	case err != nil:
		_, msg, ok := runs.Refusal(err)
		if !ok {
			return err
		}
		sent.Start.Error = sentence(msg)
		return h.showAccount(c, http.StatusUnprocessableEntity, sent)
	}
	return h.redirect(c, fmt.Sprintf("%s/runs/%s", Prefix, run.ID), "Started "+run.PlaybookKey+" (version "+fmt.Sprint(run.PlaybookVersion)+").")
}

// postEvent records an account event through app.ReportEvent, as POST
// /v1/accounts/{id}/events does: delivered to live runs, triggers fired; a
// csm for the accounts of their ladder. The run page's buttons send back
// (the run's page) to return to.
func (h *Handler) postEvent(c echo.Context) error {
	form := eventForm{Name: strings.TrimSpace(c.FormValue("name")), Data: normaliseNewlines(c.FormValue("data"))}
	data, dataErr := eventData(form.Data)
	if dataErr != "" {
		form.DataError = dataErr
	}
	for _, bad := range triggers.CheckEvent(form.Name, data) {
		if bad.Field == "name" {
			form.NameError = sentence(bad.Message)
		} else if form.DataError == "" {
			form.DataError = sentence(bad.Message)
		}
	}
	if form.NameError != "" || form.DataError != "" {
		return h.showAccount(c, http.StatusUnprocessableEntity, &accountData{Event: form})
	}
	rep, err := h.app.ReportEvent(c.Request().Context(), current(c).Actor, c.Param("id"), form.Name, data)
	switch {
	case errors.Is(err, runs.ErrUnknownAccount):
		return echo.NewHTTPError(http.StatusNotFound, "There is no account with this id.")
	case errors.Is(err, team.ErrNotInLadder):
		return h.forbidden(c, "You report events for the accounts of your escalation ladder: yours and those of the people below you.")
	case err != nil:
		return err
	}
	msg := fmt.Sprintf("Recorded %s; delivered to %d live run(s).", form.Name, rep.DeliveredTo)
	if rep.Signal != "" {
		msg += " It raised the risk signal " + rep.Signal + "."
	}
	back := accountURL(c.Param("id"))
	if next := safeNext(c.FormValue("back")); next != Prefix+"/" {
		back = next
	}
	return h.redirect(c, back, msg)
}

// maxEventFields is the OpenAPI document's bound on an event's data.
const maxEventFields = 100

// eventData reads the event form's data: empty, or a JSON object of at
// most maxEventFields fields without control characters in any string or
// key, as the API's edge requires of every body.
func eventData(raw string) (map[string]any, string) {
	if strings.TrimSpace(raw) == "" {
		return nil, ""
	}
	var data map[string]any
	dec := json.NewDecoder(strings.NewReader(raw))
	if err := dec.Decode(&data); err != nil || dec.More() || data == nil {
		return nil, `Data is a JSON object, such as {"priority": "high"}, or nothing.`
	}
	if len(data) > maxEventFields {
		return nil, fmt.Sprintf("At most %d fields.", maxEventFields)
	}
	if problem := jsonProblem(data, 1); problem != "" {
		return nil, problem
	}
	return data, ""
}

// maxDataDepth: the API's edge takes JSON nested 16 deep, the body being
// the first level and the data the second.
const maxDataDepth = 15

// jsonProblem finds what the API's edge refuses in any JSON body: a
// control character but tab, CR and LF in a string or a key (escaped, as
// \u0007, it passes the form's own check), nesting past its depth.
func jsonProblem(v any, depth int) string {
	if depth > maxDataDepth {
		return fmt.Sprintf("Data nests objects and lists at most %d deep.", maxDataDepth)
	}
	switch v := v.(type) {
	case string:
		if text.ControlIndex(v, true) >= 0 {
			return "Data must not contain control characters such as NUL (\\u0000) or escape (\\u001b)."
		}
	case map[string]any:
		for k, e := range v {
			if p := jsonProblem(k, depth); p != "" {
				return p
			}
			if p := jsonProblem(e, depth+1); p != "" {
				return p
			}
		}
	case []any:
		for _, e := range v {
			if p := jsonProblem(e, depth+1); p != "" {
				return p
			}
		}
	}
	return ""
}

// showAccountLoops shows the account page again with a loops form as sent
// and refused.
func (h *Handler) showAccountLoops(c echo.Context, status int, sent *loopsData) error {
	return h.showAccount(c, status, &accountData{Loops: *sent})
}
