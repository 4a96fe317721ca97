package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// storeVersion stores a definition (JSON) as the key's next version,
// published when asked.
func storeVersion(t *testing.T, l storetest.Ladder, def string, publish bool) {
	t.Helper()
	var head struct{ Key, Name string }
	require.NoError(t, json.Unmarshal([]byte(def), &head))
	v, err := l.Store.CreatePlaybookVersion(context.Background(), store.NewPlaybookVersion{Key: head.Key, Name: head.Name,
		Definition: json.RawMessage(def), Source: def, SourceFormat: "json"})
	require.NoError(t, err)
	if publish {
		_, err = l.Store.PublishPlaybookVersion(context.Background(), head.Key, v.Version)
		require.NoError(t, err)
	}
}

// ladderRun writes a run of acme with SQL: started and ended days ago
// (ended < 0: live), with its outcome.
func ladderRun(t *testing.T, l storetest.Ladder, key string, version int, outcome string, started, ended float64) {
	t.Helper()
	id := uuid.New()
	status, end := "running", any(nil)
	if ended >= 0 {
		status, end = "completed", ended
	}
	_, err := l.Pool.Exec(context.Background(), `INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, outcome, started_at, ended_at)
		VALUES ($1, $2, $3, $4, $5, 'r', $6, NULLIF($7, ''), now() - make_interval(secs => $8 * 86400),
		        CASE WHEN $9::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $9::float8 * 86400) END)`,
		id, l.AccountID, key, version, id.String(), status, outcome, started, end)
	require.NoError(t, err)
}

// Onboarding plays show the time to first login and first value, expansion
// plays the ARR of their ended runs' accounts, each figure counted by hand
// from the rows written here; the page opens on the published version and
// leaves drafts nobody ran out of "every version".
func TestAnalyticsValueFigures(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := l.Pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	welcome := `{"key":"welcome-flow","name":"Welcome","trigger":{"on":"account_created"},"steps":[{"id":"hello","task":{"title":"Hello","assignee":"csm"}}]}`
	storeVersion(t, l, welcome, true)
	storeVersion(t, l, strings.Replace(welcome, `"Hello"`, `"Hi"`, 1), false) // a draft nobody ran
	storeVersion(t, l, `{"key":"grow","name":"Grow","trigger":{"on":"expansion"},"steps":[{"id":"ask","task":{"title":"Ask","assignee":"csm"}}]}`, true)

	// welcome-flow: r1 started 10 days ago (live), r2 5 days ago (ended), both of acme,
	// which logged in 8 days ago (2 days into r1, before r2) and got value
	// 4 days ago (6 days into r1, 1 into r2).
	ladderRun(t, l, "welcome-flow", 1, "", 10, -1)
	ladderRun(t, l, "welcome-flow", 1, "completed", 5, 1)
	exec(`INSERT INTO events (account_id, type, created_at) VALUES ($1, 'event:first_login', now() - interval '8 days'),
		($1, 'event:first_value', now() - interval '4 days')`, l.AccountID)
	// grow: started 20 days ago, ended 10 days ago; acme paid 100,000, then
	// 130,000 from 15 days ago and 150,000 from 5 days ago.
	// (The history is written before the run ends: ARR at a run's start and
	// end is fixed when it ends.)
	exec(`DELETE FROM arr_history WHERE account_id = $1`, l.AccountID)
	exec(`INSERT INTO arr_history (account_id, arr, status, valid_from) VALUES ($1, 100000, 'active', now() - interval '30 days'),
		($1, 130000, 'active', now() - interval '15 days'), ($1, 150000, 'active', now() - interval '5 days')`, l.AccountID)
	ladderRun(t, l, "grow", 1, "completed", 20, 10)

	ops := signedIn(t, srv, adminKey)
	html := mustGet(t, ops, "/console/playbooks/welcome-flow/analytics")
	for _, s := range []string{`<option value="1" selected>Version 1 (published)</option>`, `<option value="2">Version 2 (draft)</option>`,
		"Time to first value", "<dt>First login</dt><dd>1 of the 2 runs (50 %), median 2 days</dd>",
		"<dt>First value</dt><dd>2 of the 2 runs (100 %), median 3.5 days</dd>", `id="compare"`} {
		require.Contains(t, html, s)
	}
	require.NotContains(t, html, "Version 2 <small>", "the published version alone")
	require.NotContains(t, html, `id="arr-h"`, "no ARR for an onboarding play")

	html = mustGet(t, ops, "/console/playbooks/welcome-flow/analytics?version=all")
	require.Contains(t, html, `<option value="all" selected>`)
	require.Contains(t, html, "drafts no run started are left out (version ")
	require.Contains(t, html, `analytics?version=2&amp;from=`)
	require.NotContains(t, html, "Version 2 <small>", "the idle draft is left out")
	html = mustGet(t, ops, "/console/playbooks/welcome-flow/analytics?version=2")
	require.Contains(t, html, "Version 2 <small>draft</small>", "shown when asked")
	require.Contains(t, html, "none of the 0 runs yet")

	html = mustGet(t, ops, "/console/playbooks/grow/analytics")
	for _, s := range []string{`id="arr-h"`, "<dt>When the runs started</dt><dd>$100,000</dd>", "<dt>When they ended</dt><dd>$130,000</dd>",
		"<dt>Gained</dt><dd>&#43;$30,000</dd>", "<dt>Now</dt><dd>$150,000</dd>", "<dt>Accounts that grew</dt><dd>1 of 1</dd>"} {
		require.Contains(t, html, s)
	}
	require.NotContains(t, html, "Time to first value")

	resp, html := ops.get("/console/playbooks/grow/analytics?version=x")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, html, "or all for every version")
}

// longNames is a playbook whose step name and outcomes are long, to see
// that no label is cut off.
const longNames = `{"key":"long-names","name":"Long names","steps":[
	{"id":"a-very-long-step-identifier-that-keeps-going-and-going","name":"Call the champion and the executive sponsor about the quarterly business review","task":{"title":"Call","assignee":"csm"}},
	{"id":"wait-a-while","wait":"30d"},
	{"id":"and-then-a-second-step-with-an-equally-long-identifier","at":"45d","task":{"title":"Follow up with every stakeholder","assignee":"csm"}}]}`

// Bar labels are never cut and the timeline picture fits its box, at a
// phone's and a laptop's width; the picture, opened on its own, has a
// title (its tooltip) on every mark.
func TestAnalyticsLabelsAndTimelineFitInABrowser(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	storeVersion(t, l, longNames, true)
	ladderRun(t, l, "long-names", 1, "exited:champion-left-and-no-replacement-was-named-within-thirty-days", 9, 2)
	ladderRun(t, l, "long-names", 1, "completed", 9, 1)
	ladderRun(t, l, "long-names", 1, "", 3, -1)

	ctx := browsertest.New(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/sign-in"), keySignIn(adminKey)))
	// Every box listed that is not inside its container (and the viewport).
	const outside = `(sel, container) => [...document.querySelectorAll(sel)].flatMap(el => {
		const b = el.getBoundingClientRect(), c = el.closest(container).getBoundingClientRect();
		const ok = b.width > 0 && b.left >= c.left - 0.5 && b.right <= c.right + 0.5 && b.top >= c.top - 0.5 && b.bottom <= c.bottom + 0.5
			&& b.left >= 0 && b.right <= document.documentElement.clientWidth;
		return ok ? [] : [(el.textContent || el.id) + " " + JSON.stringify(b) + " in " + JSON.stringify(c)];
	})`
	for _, width := range []int64{360, browsertest.Desktop} {
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(srv.URL+"/console/playbooks/long-names/analytics"), chromedp.WaitVisible("main h1")))
		labels, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.bars text.bar-label").length`))
		require.NoError(t, err)
		require.Equal(t, 8, labels, "the two outcomes' labels, and the two tasks' three each")
		cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(`+outside+`)("svg.bars text", "svg")`))
		require.NoError(t, err)
		require.Empty(t, cut, "labels and values cut off at %d px", width)
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](pageChecks))
		require.NoError(t, err)
		require.Empty(t, problems, "analytics at %d px", width)
		browsertest.Screenshot(ctx, t, "analytics-long-names", width)

		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/playbooks/long-names/versions/1?segment=smb"),
			chromedp.WaitVisible("#timeline")))
		// The image has loaded: its natural width is the drawing's.
		var natural int
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && natural == 0; time.Sleep(100 * time.Millisecond) {
			natural, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector("#timeline").naturalWidth`))
			require.NoError(t, err)
		}
		require.Greater(t, natural, 0, "the picture loads")
		cut, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`(`+outside+`)("#timeline", "figure")`))
		require.NoError(t, err)
		require.Empty(t, cut, "the picture at %d px", width)
		browsertest.Screenshot(ctx, t, "editor-timeline-fit", width)
	}

	// On its own the picture is a document: each mark's <title> is its tooltip.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/playbooks/long-names/versions/1/timeline.svg?segment=smb")))
	titled, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.querySelectorAll("g.mark").length,
		[...document.querySelectorAll("g.mark")].filter(g => g.firstElementChild && g.firstElementChild.tagName === "title" && g.firstElementChild.textContent.trim()).length]`))
	require.NoError(t, err)
	require.Equal(t, 3, titled[0], "a mark per step")
	require.Equal(t, titled[0], titled[1], "every mark has a title")
}
