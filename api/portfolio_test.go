package api_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// pulse asks the accounts' champions for an NPS, then for a CSAT.
const pulse = `key: pulse
name: Pulse
steps:
  - id: ask
    at: 0d
    email: {template: getting-started, to: [champion]}
  - id: rate
    at: 1d
    email: {template: getting-started, to: [champion]}
  - id: rest
    wait: 1d
`

// The portfolio and playbook analytics report surveys by segment, with
// nulls where nothing was sent or answered; every response is checked
// against openapi.yaml by the harness.
func TestSurveyFigures(t *testing.T) {
	h := newHarness(t)
	h.seed(t) // acme: enterprise
	ctx := context.Background()
	r := h.do(t, "POST", "/v1/accounts", `{"id":"small","name":"Small","arr":1000,"csm_email":"casey@cs.test","timezone":"UTC","lifecycle_stage":"adoption"}`)
	require.Equal(t, 201, r.status, r.raw)
	r = h.send(t, "POST", "/v1/playbooks", "application/yaml", pulse)
	require.Equal(t, 201, r.status, r.raw)

	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := h.pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	run := func(account string) uuid.UUID {
		id := uuid.New()
		exec(`INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, started_at)
			VALUES ($1, $2, 'pulse', 1, $3, 'r', 'running', now() - interval '2 days')`, id, account, id.String())
		return id
	}
	// An email written yesterday; answered an hour ago with score, unless -1.
	survey := func(runID uuid.UUID, account, step, kind, status string, score int, category string) {
		id := uuid.New()
		exec(`INSERT INTO emails (id, run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status, survey, created_at)
			VALUES ($1, $2, $3, $4, $6, 't', 's', 'h', 't', $5, $7, now() - interval '1 day')`, id, runID, step, account, status, id.String()+"@x.test", kind)
		if score >= 0 {
			exec(`INSERT INTO survey_responses (email_id, run_id, step_id, recipient, account_id, kind, score, category, created_at)
				SELECT id, run_id, step_id, recipient, account_id, survey, $2, $3, now() - interval '1 hour' FROM emails WHERE id = $1`, id, score, category)
		}
	}
	acme, small := run("acme"), run("small")
	survey(acme, "acme", "ask", "nps", "sent", 10, "promoter")
	survey(acme, "acme", "ask", "nps", "sent", 5, "detractor")
	survey(acme, "acme", "ask", "nps", "sent", -1, "") // unanswered
	survey(small, "small", "rate", "csat", "captured", 4, "promoter")
	survey(small, "small", "rate", "csat", "failed", -1, "") // never went out

	type figures struct {
		Segment  string
		Sent     int
		Answered int
		Rate     *float64 `json:"response_rate_pct"`
		NPS      *struct {
			Score                                      float64
			Responses, Promoters, Passives, Detractors int
		}
		CSAT *struct {
			Mean      float64
			Responses int
		}
	}
	pct := func(p float64) *float64 { return &p }
	nps := func(score float64, responses, promoters, detractors int) *struct {
		Score                                      float64
		Responses, Promoters, Passives, Detractors int
	} {
		return &struct {
			Score                                      float64
			Responses, Promoters, Passives, Detractors int
		}{score, responses, promoters, 0, detractors}
	}
	csat := func(mean float64, responses int) *struct {
		Mean      float64
		Responses int
	} {
		return &struct {
			Mean      float64
			Responses int
		}{mean, responses}
	}
	none := func(segment string) figures { return figures{Segment: segment} }

	r = h.do(t, "GET", "/v1/metrics/portfolio", "")
	require.Equal(t, 200, r.status, r.raw)
	var portfolio struct{ Surveys []figures }
	require.NoError(t, json.Unmarshal([]byte(r.raw), &portfolio))
	require.Equal(t, []figures{
		// 4 went out, 3 answered (75 %); NPS 10 and 5: 1 promoter, 1
		// detractor of 2 = 0; CSAT 4.
		{"all", 4, 3, pct(75), nps(0, 2, 1, 1), csat(4, 1)},
		{"enterprise", 3, 2, pct(66.7), nps(0, 2, 1, 1), nil}, // 2 of 3
		none("mid_market"),
		{"smb", 1, 1, pct(100), nil, csat(4, 1)},
	}, portfolio.Surveys)

	// A year ago: nothing sent, nothing answered.
	r = h.do(t, "GET", "/v1/metrics/portfolio?from="+nowDate(-400)+"&to="+nowDate(-300), "")
	require.Equal(t, 200, r.status, r.raw)
	require.NoError(t, json.Unmarshal([]byte(r.raw), &portfolio))
	require.Equal(t, []figures{none("all"), none("enterprise"), none("mid_market"), none("smb")}, portfolio.Surveys)

	r = h.do(t, "GET", "/v1/playbooks/pulse/analytics", "")
	require.Equal(t, 200, r.status, r.raw)
	var analytics struct {
		Versions []struct {
			Steps []struct {
				ID      string
				Surveys []figures
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.raw), &analytics))
	steps := analytics.Versions[0].Steps
	require.Equal(t, "ask", steps[0].ID)
	require.Equal(t, []figures{{"all", 3, 2, pct(66.7), nps(0, 2, 1, 1), nil}, {"enterprise", 3, 2, pct(66.7), nps(0, 2, 1, 1), nil},
		none("mid_market"), none("smb")}, steps[0].Surveys)
	require.Equal(t, []figures{{"all", 1, 1, pct(100), nil, csat(4, 1)}, none("enterprise"), none("mid_market"),
		{"smb", 1, 1, pct(100), nil, csat(4, 1)}}, steps[1].Surveys)
	require.Nil(t, steps[2].Surveys, "rest is no survey")
	require.Contains(t, r.raw, `"id":"rest","kind":"wait","recorded":false,"passed":0,"reached":null,"skipped":null,`)
	require.Contains(t, r.raw, `"surveys":null}`)
}
