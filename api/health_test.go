package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/health"
)

// started lists the playbooks the fake Temporal was asked to start for an account.
func (h *harness) started(account string) []string {
	var out []string
	for _, in := range h.temporal.startedInputs() {
		if in.AccountID == account {
			out = append(out, in.PlaybookKey)
		}
	}
	return out
}

func triggeredKeys(body map[string]any) []string {
	var out []string
	items, _ := body["triggered"].([]any)
	for _, f := range items {
		out = append(out, f.(map[string]any)["playbook"].(string)+":"+f.(map[string]any)["status"].(string))
	}
	return out
}

func TestHealthSnapshotsScoreTriggerAndKeepHistory(t *testing.T) {
	h := newHarness(t)
	h.seed(t)

	// Seed 003's hand-worked example (health/health_test.go): 74, yellow.
	r := h.do(t, "POST", "/v1/accounts/acme/health", `{
		"active_users": 80, "licensed_users": 100, "features_used": 12, "total_features": 20,
		"logins_per_week": 4, "expected_logins_per_week": 5,
		"email_response_rate": 0.5, "meeting_attendance_rate": 0.8, "qbr_participation": true, "days_since_last_contact": 7,
		"ticket_volume": 5, "ticket_baseline": 10, "critical_tickets": 1, "total_tickets": 10, "support_csat": 4.5,
		"nps": 40, "csat": 4, "sentiment": 0.6,
		"payment_status": "current", "expansion_revenue_ratio": 0.1, "renewal_budget_confirmed": false}`)
	require.Equal(t, 201, r.status, r.raw)
	require.EqualValues(t, 74, r.body["score"])
	require.Equal(t, "yellow", r.body["band"])
	require.Equal(t, false, r.body["renormalised"])
	require.Len(t, r.body["components"], 5)
	require.Equal(t, []string{"at-risk:started"}, triggeredKeys(r.body), "entering yellow starts at-risk")

	// Bad input: every problem named, nothing stored.
	before := h.historyLen(t, "acme")
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"active_users": 5, "nps": 300, "payment_status": "paid"}`)
	require.Equal(t, 422, r.status, r.raw)
	require.ElementsMatch(t, []string{"licensed_users", "nps", "payment_status"}, fieldsOf(r.body))
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{}`)
	require.Equal(t, 422, r.status, r.raw)
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"nps": "high"}`)
	require.Equal(t, 400, r.status, r.raw)
	require.Equal(t, []string{"nps"}, fieldsOf(r.body))
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"score": 50, "measured_at": "yesterday"}`)
	require.Equal(t, 422, r.status, r.raw)
	require.Equal(t, []string{"measured_at"}, fieldsOf(r.body))
	require.Equal(t, before, h.historyLen(t, "acme"))
	require.Equal(t, 404, h.do(t, "POST", "/v1/accounts/nope/health", `{"score": 50}`).status)

	// Only some components: the rest are left out and the weights renormalised.
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"active_users": 20, "licensed_users": 100, "support_csat": 1}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, true, r.body["renormalised"])
	require.Contains(t, r.body["left_out"], "engagement")
	require.Equal(t, "red", r.body["band"])
	// 80 active users to 20 is a usage decline too: its play starts with the recovery.
	require.ElementsMatch(t, []string{"red-recovery:started", "usage-decline:started"}, triggeredKeys(r.body))

	// A second red snapshot is no band change: nothing more starts.
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"score": 30}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Empty(t, triggeredKeys(r.body))
	require.ElementsMatch(t, []string{"at-risk", "red-recovery", "usage-decline"}, h.started("acme"))

	// Green: live runs are told (their exit rules end them as recovered).
	signalsBefore := len(h.temporal.signals)
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"score": 85}`)
	require.Equal(t, 201, r.status, r.raw)
	require.EqualValues(t, 3, r.body["notified_runs"])
	require.Contains(t, h.temporal.signals[signalsBefore:], "account-changed playbook/red-recovery/account/acme")

	// Back-dating before the latest snapshot is refused.
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"score": 85, "measured_at": "2020-01-01T00:00:00Z"}`)
	require.Equal(t, 422, r.status, r.raw)

	// History, newest first, in pages.
	r = h.do(t, "GET", "/v1/accounts/acme/health?limit=3", "")
	require.Equal(t, 200, r.status, r.raw)
	items := r.body["items"].([]any)
	require.Len(t, items, 3)
	require.EqualValues(t, 85, items[0].(map[string]any)["score"])
	cursor := r.body["next_cursor"].(string)
	r = h.do(t, "GET", "/v1/accounts/acme/health?limit=3&cursor="+cursor, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Len(t, r.body["items"], 1)
	require.EqualValues(t, 74, r.body["items"].([]any)[0].(map[string]any)["score"])
	require.Nil(t, r.body["next_cursor"])
	require.Equal(t, 400, h.do(t, "GET", "/v1/accounts/acme/health?cursor=bogus", "").status)

	r = h.do(t, "GET", "/v1/accounts/acme", "")
	require.EqualValues(t, 85, r.body["health"].(map[string]any)["score"])
}

func (h *harness) historyLen(t *testing.T, account string) int {
	var n int
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT count(*) FROM health_snapshots WHERE account_id = $1`, account).Scan(&n))
	return n
}

func TestRiskSignalsFromSnapshotsAndEvents(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	// A playbook CS ops made for one signal.
	r := h.send(t, "POST", "/v1/playbooks", "application/yaml", `key: champion-lost
name: Champion lost
trigger: {on: risk_signal, signal: champion_left}
steps:
  - id: find-new-champion
    task: {title: Find a new champion, assignee: csm, due: 3d}
`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/champion-lost/versions/1/publish", "").status)

	// Usage down a quarter from its peak in 30 days.
	at := time.Now().Add(-20 * 24 * time.Hour).UTC().Format(time.RFC3339)
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"active_users": 80, "licensed_users": 100, "measured_at": "`+at+`"}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Empty(t, r.body["new_signals"])
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"active_users": 60, "licensed_users": 100, "payment_status": "overdue"}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, []any{"usage_decline", "payment_overdue"}, r.body["new_signals"])
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"active_users": 59, "licensed_users": 100, "payment_status": "overdue"}`)
	require.Equal(t, []any{"usage_decline", "payment_overdue"}, r.body["signals"])
	require.Empty(t, r.body["new_signals"], "still declining is not a new signal")

	// Three high-priority tickets in 14 days are a support spike, once.
	var spikes []any
	for i := range 4 {
		r = h.do(t, "POST", "/v1/accounts/acme/events", fmt.Sprintf(`{"name":"ticket_opened","data":{"priority":"high","n":%d}}`, i))
		require.Equal(t, 202, r.status, r.raw)
		spikes = append(spikes, r.body["risk_signal"])
	}
	require.Equal(t, []any{nil, nil, "support_spike", nil}, spikes)
	r = h.do(t, "POST", "/v1/accounts/acme/events", `{"name":"ticket_opened","data":{"priority":"low"}}`)
	require.Nil(t, r.body["risk_signal"])

	// Champion left: a signal, and the playbook triggered by it starts.
	require.NotContains(t, h.started("acme"), "champion-lost")
	r = h.do(t, "POST", "/v1/accounts/acme/events", `{"name":"champion_left","data":{"email":"pat@acme.test"}}`)
	require.Equal(t, 202, r.status, r.raw)
	require.Equal(t, "champion_left", r.body["risk_signal"])
	require.Contains(t, h.started("acme"), "champion-lost")
	r = h.do(t, "POST", "/v1/accounts/acme/events", `{"name":"champion_left"}`)
	require.Equal(t, 1, strings.Count(strings.Join(h.started("acme"), ","), "champion-lost"), "one live run per account and playbook")
}

func TestAccountTriggersOnboardingRenewalAndExpansion(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	soon := time.Now().AddDate(0, 0, 60).Format(time.DateOnly)
	far := time.Now().AddDate(0, 0, 300).Format(time.DateOnly)

	// New, in onboarding: onboarding starts. Renewing in 60 days: renewal too.
	r := h.do(t, "POST", "/v1/accounts", `{"id":"newco","name":"NewCo","arr":12000,"csm_email":"casey@cs.test",
		"timezone":"Europe/Berlin","renewal_date":"`+soon+`"}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, []string{"onboarding", "renewal"}, h.started("newco"))
	// Saving it again starts nothing new.
	r = h.do(t, "POST", "/v1/accounts", `{"id":"newco","name":"NewCo","arr":12000,"csm_email":"casey@cs.test",
		"timezone":"Europe/Berlin","renewal_date":"`+soon+`"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, []string{"onboarding", "renewal"}, h.started("newco"))

	// An established account imported mid-life: not onboarded; renewal far off.
	r = h.do(t, "POST", "/v1/accounts", `{"id":"oldco","name":"OldCo","arr":40000,"csm_email":"casey@cs.test",
		"timezone":"Europe/Berlin","renewal_date":"`+far+`","lifecycle_stage":"adoption"}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Empty(t, h.started("oldco"))
	// Its renewal date moves inside the window: the renewal starts.
	r = h.do(t, "POST", "/v1/accounts", `{"id":"oldco","name":"OldCo","arr":40000,"csm_email":"casey@cs.test",
		"timezone":"Europe/Berlin","renewal_date":"`+soon+`","lifecycle_stage":"adoption"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, []string{"renewal"}, h.started("oldco"))

	// Healthy with broad feature use: expansion; the measure is kept as a
	// field the expansion playbook reads.
	r = h.do(t, "POST", "/v1/accounts/oldco/health", `{"active_users": 90, "licensed_users": 100, "features_used": 16, "total_features": 20, "logins_per_week": 5, "expected_logins_per_week": 5}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, true, r.body["expansion_ready"])
	require.Equal(t, []string{"expansion:started"}, triggeredKeys(r.body))
	r = h.do(t, "GET", "/v1/accounts/oldco", "")
	require.EqualValues(t, 80, r.body["custom_fields"].(map[string]any)["feature_adoption_pct"])
	require.EqualValues(t, 90, r.body["custom_fields"].(map[string]any)["seats_used_pct"])
}

func TestListAccountsFiltersAndPages(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	for i := range 5 {
		arr := 10000 + i*30000 // smb, mid_market x2, enterprise x2
		r := h.do(t, "POST", "/v1/accounts", fmt.Sprintf(`{"id":"co-%d","name":"Co %d","arr":%d,"csm_email":"lead@cs.test",
			"timezone":"UTC","lifecycle_stage":"adoption"}`, i, i, arr))
		require.Equal(t, 201, r.status, r.raw)
	}
	require.Equal(t, 201, h.do(t, "POST", "/v1/accounts/co-1/health", `{"score": 20}`).status)

	ids := func(path string) ([]string, string) {
		r := h.do(t, "GET", path, "")
		require.Equal(t, 200, r.status, r.raw)
		var out []string
		for _, it := range r.body["items"].([]any) {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		next, _ := r.body["next_cursor"].(string)
		return out, next
	}
	got, _ := ids("/v1/accounts?segment=mid_market")
	require.Equal(t, []string{"co-1", "co-2"}, got)
	got, _ = ids("/v1/accounts?band=red")
	require.Equal(t, []string{"co-1"}, got)
	got, _ = ids("/v1/accounts?csm=LEAD@cs.test&band=none")
	require.Equal(t, []string{"co-0", "co-2", "co-3", "co-4"}, got)

	var all []string
	path := "/v1/accounts?limit=2"
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		got, next := ids(path)
		all = append(all, got...)
		if next == "" {
			break
		}
		path = "/v1/accounts?limit=2&cursor=" + next
	}
	require.Equal(t, []string{"acme", "co-0", "co-1", "co-2", "co-3", "co-4"}, all)

	r := h.do(t, "GET", "/v1/accounts?segment=huge&band=blue&limit=0", "")
	require.Equal(t, 400, r.status, r.raw)
	r = h.do(t, "GET", "/v1/accounts?segment=huge&band=blue", "")
	require.ElementsMatch(t, []string{"segment", "band"}, fieldsOf(r.body))
}

func TestPortfolioMetrics(t *testing.T) {
	h := newHarness(t)
	h.seed(t) // acme, 150k
	ctx := context.Background()
	for _, a := range []string{`"id":"b","arr":100000`, `"id":"c","arr":50000`, `"id":"d","arr":20000`} {
		r := h.do(t, "POST", "/v1/accounts", `{`+a+`,"name":"X","csm_email":"casey@cs.test","timezone":"UTC","lifecycle_stage":"adoption"}`)
		require.Equal(t, 201, r.status, r.raw)
	}
	// All four were customers a year and a half ago...
	_, err := h.pool.Exec(ctx, `UPDATE arr_history SET valid_from = now() - interval '540 days'`)
	require.NoError(t, err)
	// ...then acme expanded, b shrank, d churned; e joined this year.
	for _, a := range []string{`"id":"acme","arr":180000`, `"id":"b","arr":80000`, `"id":"d","arr":20000,"status":"churned"`, `"id":"e","arr":999000`} {
		r := h.do(t, "POST", "/v1/accounts", `{`+a+`,"name":"X","csm_email":"casey@cs.test","timezone":"UTC","lifecycle_stage":"adoption"}`)
		require.Equal(t, 200+boolInt(strings.Contains(a, `"e"`)), r.status, r.raw)
	}
	require.Equal(t, 201, h.do(t, "POST", "/v1/accounts/b/health", `{"score": 40}`).status)
	require.Equal(t, 201, h.do(t, "POST", "/v1/accounts/c/health", `{"score": 90}`).status)
	// One recovery run ended recovered after two days.
	_, err = h.pool.Exec(ctx, `UPDATE runs SET status = 'completed', outcome = 'recovered', started_at = now() - interval '2 days', ended_at = now()
		WHERE account_id = 'b' AND playbook_key = 'red-recovery'`)
	require.NoError(t, err)

	r := h.do(t, "GET", "/v1/metrics/portfolio", "")
	require.Equal(t, 200, r.status, r.raw)
	bands := r.body["bands"].(map[string]any)
	require.EqualValues(t, map[string]any{"green": 1.0, "yellow": 0.0, "orange": 0.0, "red": 1.0, "unscored": 2.0}, bands, "active accounts: acme, b, c, e")
	ret := r.body["retention"].(map[string]any)
	// Cohort at start: acme 150k, b 100k, c 50k, d 20k = 320k, 4 logos.
	// GRR: kept min(180,150)+min(80,100)+50+0 = 280k / 320k = 87.5 %.
	// NRR: 180+80+50+0 = 310k / 320k = 96.9 %. Logos: 3/4 = 75 %.
	require.EqualValues(t, 4, ret["accounts_at_start"])
	require.EqualValues(t, 320000, ret["arr_at_start"])
	require.EqualValues(t, 87.5, ret["grr_pct"])
	require.EqualValues(t, 96.9, ret["nrr_pct"])
	require.EqualValues(t, 75, ret["logo_retention_pct"])
	var recovery map[string]any
	for _, p := range r.body["playbooks"].([]any) {
		if p.(map[string]any)["playbook"] == "red-recovery" {
			recovery = p.(map[string]any)
		}
	}
	require.NotNil(t, recovery, "%v", r.body["playbooks"])
	outcome := recovery["outcomes"].([]any)[0].(map[string]any)
	require.Equal(t, "recovered", outcome["outcome"])
	require.EqualValues(t, 1, outcome["count"])
	require.InDelta(t, 2*24*3600, outcome["median_duration_seconds"], 5)

	r = h.do(t, "GET", "/v1/metrics/portfolio?from=2026-13-01&to=x", "")
	require.Equal(t, 400, r.status)
	require.ElementsMatch(t, []string{"from", "to"}, fieldsOf(r.body))
	require.True(t, slices.Contains([]int{400}, h.do(t, "GET", "/v1/metrics/portfolio?from=2026-05-01&to=2026-01-01", "").status))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// firings counts an account's recorded firings of a playbook.
func (h *harness) firings(t *testing.T, account, playbook string) int {
	var n int
	require.NoError(t, h.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM trigger_firings WHERE account_id = $1 AND playbook_key = $2`, account, playbook).Scan(&n))
	return n
}

// A playbook for the adoption stage starts when an account's lifecycle
// stage changes to adoption, by a save or an import, once per change:
// saving or importing the same stage again starts nothing.
func TestStageChangedTriggerOnSaveAndImport(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.send(t, "POST", "/v1/playbooks", "application/yaml", `key: adoption
name: Adoption (Day 30-90 after onboarding)
trigger: {on: stage_changed, from: onboarding, to: adoption}
steps:
  - id: adoption-review
    task: {title: Review feature adoption, assignee: csm, due: 7d}
`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/adoption/versions/1/publish", "").status)

	account := func(id, stage string) string {
		return fmt.Sprintf(`{"id":%q,"name":"Co %s","arr":12000,"csm_email":"casey@cs.test","timezone":"UTC","lifecycle_stage":%q}`, id, id, stage)
	}
	require.Equal(t, 201, h.do(t, "POST", "/v1/accounts", account("newco", "onboarding")).status)
	require.Equal(t, []string{"onboarding"}, h.started("newco"))
	for range 2 {
		r = h.do(t, "POST", "/v1/accounts", account("newco", "adoption"))
		require.Equal(t, 200, r.status, r.raw)
	}
	require.Equal(t, []string{"onboarding", "adoption"}, h.started("newco"))
	require.Equal(t, 1, h.firings(t, "newco", "adoption"), "the second save changes nothing")

	// Imported twice (an import cut short is sent again): one change, one firing.
	require.Equal(t, 201, h.do(t, "POST", "/v1/accounts", account("impco", "onboarding")).status)
	for range 2 {
		r = h.do(t, "POST", "/v1/accounts/import", "["+account("impco", "adoption")+","+account("oldco", "adoption")+"]")
		require.Equal(t, 202, r.status, r.raw)
		require.Equal(t, "done", h.waitImport(t, r.header.Get("Location"))["status"])
	}
	require.Equal(t, []string{"onboarding", "adoption"}, h.started("impco"))
	require.Equal(t, 1, h.firings(t, "impco", "adoption"))
	require.Empty(t, h.started("oldco"), "created in adoption: no stage changed")
}

// POST /v1/accounts/{id}/events with champion_left starts the built-in
// champion-change play, once per event.
func TestEventTriggerStartsTheChampionChangePlay(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/accounts/acme/events", `{"name":"first_login"}`)
	require.Equal(t, 202, r.status, r.raw)
	require.Empty(t, h.started("acme"))

	r = h.do(t, "POST", "/v1/accounts/acme/events", `{"name":"champion_left","data":{"email":"pat@acme.test"}}`)
	require.Equal(t, 202, r.status, r.raw)
	require.Equal(t, []string{"champion-change"}, h.started("acme"))
	require.Equal(t, 1, h.firings(t, "acme", "champion-change"))

	r = h.do(t, "POST", "/v1/accounts/acme/events", `{"name":"champion_left"}`)
	require.Equal(t, 202, r.status, r.raw)
	require.Equal(t, 2, h.firings(t, "acme", "champion-change"), "a second departure is its own occasion")
	require.Equal(t, []string{"champion-change"}, h.started("acme"), "while the first play is live, no second run")
}

// Under seed 004's four bands an account entering orange (high risk,
// 50-69) is stored, listed, counted and alerted as orange, and starts the
// playbooks that wait for it; every answer matches openapi.yaml.
func TestOrangeBandUnderAFourBandModel(t *testing.T) {
	h := newHarnessWithModel(t, health.Presets["seed-004"])
	h.seed(t)
	r := h.send(t, "POST", "/v1/playbooks", "application/yaml",
		"key: high-risk\nname: High risk\ntrigger: {on: health_band, to: orange}\nsteps:\n  - {id: plan, task: {title: Recovery plan, assignee: senior_csm}}\n")
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/high-risk/versions/1/publish", "").status)

	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"score": 75}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, "yellow", r.body["band"], "70-89 is yellow under seed 004")
	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"score": 55}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, "orange", r.body["band"])
	require.Contains(t, triggeredKeys(r.body), "high-risk:started")

	acct := h.do(t, "GET", "/v1/accounts/acme", "")
	require.Equal(t, 200, acct.status, acct.raw)
	require.Equal(t, "orange", acct.body["health"].(map[string]any)["band"])
	listed := items(t, h.do(t, "GET", "/v1/accounts?band=orange", ""))
	require.Len(t, listed, 1)
	require.Equal(t, "acme", listed[0]["id"])
	require.Empty(t, items(t, h.do(t, "GET", "/v1/accounts?band=yellow", "")))

	r = h.do(t, "GET", "/v1/metrics/portfolio", "")
	require.Equal(t, 200, r.status, r.raw)
	require.EqualValues(t, 1, r.body["bands"].(map[string]any)["orange"])

	alerts := items(t, h.do(t, "GET", "/v1/alerts", ""))
	require.NotEmpty(t, alerts)
	require.Equal(t, "yellow", alerts[0]["band_from"])
	require.Equal(t, "orange", alerts[0]["band_to"])
	require.Equal(t, true, alerts[0]["worse"])
	require.Equal(t, "Health fell from yellow to orange (score 55)", alerts[0]["headline"])
}
