package api_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

const customPlaybook = `key: quick-hello
name: Quick hello
steps:
  - id: pause
    wait: 30s
  - id: hello
    email: {template: welcome, to: [champion]}
  - id: follow-up
    task: {title: Follow up on the hello, assignee: csm, due: 1d}
`

// send posts a body of the given content type with the admin key.
func (h *harness) send(t *testing.T, method, path, contentType, body string) response {
	t.Helper()
	return h.request(t, adminKey, method, path, contentType, body)
}

func TestPlaybookLifecycleAndRunsPinTheirVersion(t *testing.T) {
	h := newHarness(t)
	h.seed(t)

	r := h.do(t, "GET", "/v1/playbooks", "")
	require.Equal(t, 200, r.status)
	require.Len(t, r.body["items"], 20, "the twenty built-ins are seeded")

	r = h.send(t, "POST", "/v1/playbooks/validate", "application/yaml", customPlaybook)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, true, r.body["valid"])

	r = h.send(t, "POST", "/v1/playbooks", "application/yaml", customPlaybook)
	require.Equal(t, 201, r.status, r.raw)
	require.EqualValues(t, 1, r.body["version"])
	require.Equal(t, "draft", r.body["status"])

	// A draft cannot be run, a published version can.
	r = h.do(t, "POST", "/v1/runs", `{"playbook":"quick-hello","account_id":"acme"}`)
	require.Equal(t, 422, r.status, r.raw)
	r = h.do(t, "POST", "/v1/playbooks/quick-hello/versions/1/publish", "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "published", r.body["status"])

	// Version 2 replaces version 1; the archived one cannot come back.
	r = h.send(t, "POST", "/v1/playbooks", "application/yaml", strings.Replace(customPlaybook, "wait: 30s", "wait: 45s", 1))
	require.Equal(t, 201, r.status, r.raw)
	require.EqualValues(t, 2, r.body["version"])
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/quick-hello/versions/2/publish", "").status)
	require.Equal(t, 409, h.do(t, "POST", "/v1/playbooks/quick-hello/versions/1/publish", "").status)
	require.Equal(t, 404, h.do(t, "POST", "/v1/playbooks/quick-hello/versions/9/publish", "").status)

	r = h.do(t, "GET", "/v1/playbooks/quick-hello?version=1", "")
	require.Equal(t, "archived", r.body["status"])
	require.Contains(t, r.body["source"], "wait: 30s", "the source CS ops wrote is kept")

	r = h.do(t, "POST", "/v1/runs", `{"playbook":"quick-hello","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	require.EqualValues(t, 2, r.body["version"])
	in := h.temporal.inputs[len(h.temporal.inputs)-1]
	require.Equal(t, "quick-hello", in.Definition.Key, "the definition travels in the workflow input")
	require.Equal(t, "45s", in.Definition.Steps[0].Wait.String())

	// The database refuses to change a published definition.
	_, err := h.pool.Exec(context.Background(), `UPDATE playbook_versions SET source = 'x' WHERE key = 'quick-hello' AND version = 2`)
	require.ErrorContains(t, err, "cannot change")
}

func TestInvalidPlaybookListsEveryErrorAndWritesNothing(t *testing.T) {
	h := newHarness(t)
	before := h.counts(t)
	bad := "key: Bad Key\nname: ''\nsteps:\n  - id: a\n    approval: {assignee: cms, email: {template: nope, to: [boss]}}\n  - id: a\n    start_playbook: {key: ghost}\n"
	for _, path := range []string{"/v1/playbooks/validate", "/v1/playbooks"} {
		r := h.send(t, "POST", path, "application/yaml", bad)
		require.Equal(t, 422, r.status, r.raw)
		require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
		fields := fieldsOf(r.body)
		for _, want := range []string{"key", "name", "steps[0].approval.assignee", "steps[0].approval.email.template",
			"steps[0].approval.email.to[0]", "steps[1].id"} {
			require.Contains(t, fields, want, r.raw)
		}
	}
	r := h.send(t, "POST", "/v1/playbooks", "application/yaml", "key: k\nname: K\nsteps: [{id: a, start_playbook: {key: ghost}}]\n")
	require.Equal(t, 422, r.status)
	require.Contains(t, r.raw, `unknown playbook \"ghost\"`)
	// A notify step may not post to the API itself (server-side request forgery).
	r = h.send(t, "POST", "/v1/playbooks", "application/yaml", "key: k\nname: K\nsteps: [{id: a, notify: {url: 'https://127.0.0.1:8080/v1/keys', message: hi}}]\n")
	require.Equal(t, 422, r.status)
	require.Contains(t, fieldsOf(r.body), "steps[0].notify.url", r.raw)
	require.Contains(t, r.raw, "127.0.0.1 is a loopback address")
	r = h.send(t, "POST", "/v1/playbooks", "text/html", customPlaybook)
	require.Equal(t, 415, r.status)
	require.Equal(t, before, h.counts(t))
}

func TestEventsPauseResumeCancelReachTheRun(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	runID := r.body["id"].(string)
	wf := "playbook/onboarding/account/acme"

	r = h.do(t, "POST", "/v1/accounts/acme/events", `{"name":"first_login","data":{"user":"pat"}}`)
	require.Equal(t, 202, r.status, r.raw)
	require.EqualValues(t, 1, r.body["delivered_to_runs"])
	require.Equal(t, 422, h.do(t, "POST", "/v1/accounts/acme/events", `{"name":"First Login"}`).status)
	require.Equal(t, 404, h.do(t, "POST", "/v1/accounts/ghost/events", `{"name":"first_login"}`).status)

	for _, action := range []string{"pause", "resume", "cancel"} {
		r = h.do(t, "POST", "/v1/runs/"+runID+"/"+action, "")
		require.Equal(t, 202, r.status, r.raw)
	}
	// Updating the account tells its live runs.
	r = h.do(t, "POST", "/v1/accounts", `{"id":"acme","name":"Acme","arr":150000,"csm_email":"casey@cs.test","timezone":"America/New_York","status":"churned"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, []string{"event " + wf, "pause " + wf, "resume " + wf, "cancel " + wf, "account-changed " + wf}, h.temporal.signals)

	r = h.do(t, "GET", "/v1/runs?account_id=acme&status=running", "")
	require.Equal(t, 200, r.status)
	require.Len(t, r.body["items"], 1)
	require.Equal(t, 400, h.do(t, "GET", "/v1/runs?status=weird", "").status)
}

func TestApprovalDecisionErrors(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status)
	runID := r.body["id"].(string)
	ctx := context.Background()
	var approvalID string
	require.NoError(t, h.pool.QueryRow(ctx, `
		INSERT INTO approvals (run_id, step_id, account_id, assignee_id, draft, expires_at, status)
		SELECT $1, 'qbr-invitation', 'acme', csm_id, '{}', now() + interval '4 hours', 'approved' FROM accounts WHERE id = 'acme'
		RETURNING id`, runID).Scan(&approvalID))

	r = h.do(t, "GET", "/v1/approvals?assignee=casey@cs.test", "")
	require.Equal(t, 200, r.status)
	require.Len(t, r.body["items"], 1)

	r = h.do(t, "POST", "/v1/approvals/"+approvalID+"/decision", `{"decision":"approve"}`)
	require.Equal(t, 409, r.status, "already decided")
	require.Equal(t, 404, h.do(t, "POST", "/v1/approvals/00000000-0000-0000-0000-000000000000/decision", `{"decision":"approve"}`).status)
	require.Equal(t, 422, h.do(t, "POST", "/v1/approvals/"+approvalID+"/decision", `{"decision":"maybe"}`).status)
	require.Equal(t, 422, h.do(t, "POST", "/v1/approvals/"+approvalID+"/decision", `{"decision":"reject","edits":{"subject":"x"}}`).status)
}

// The inbox shows each recipient's draft and, once approved, who approved
// it and the content approved for each recipient; edits that could not be
// sent as approved are a 422 before the run hears of them.
func TestApprovalsShowEachRecipientsDraftAndWhatWasApproved(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	run := uuid.MustParse(r.body["id"].(string))
	ctx := context.Background()
	st := store.New(h.pool)
	draft := func(to, name string) store.ApprovalDraft {
		text := "Hi " + name + ",\n\nShall we review the quarter?\n"
		return store.ApprovalDraft{To: to, Name: name, Content: message.Content{
			Subject: "QBR", HTML: templates.Layout("QBR", text), Text: text}}
	}
	create := func(step, what string) store.Approval {
		a, err := st.CreateApproval(ctx, store.NewApproval{RunID: run, StepID: step, AccountID: "acme", AssigneeLevel: "csm",
			Draft: json.RawMessage(what), ExpiresAt: time.Now().Add(time.Hour),
			Drafts: []store.ApprovalDraft{draft("ann@acme.test", "Ann"), draft("pat@acme.test", "Pat")}})
		require.NoError(t, err)
		return a
	}
	approved := create("qbr", `{"template":"qbr-invite"}`)
	_, err := st.DecideApproval(ctx, approved.ID, store.ApprovalDecision{Status: "approved", By: "casey@cs.test", Comment: "ok",
		Approved: map[string]message.Content{
			"ann@acme.test": {Subject: "QBR?", HTML: "<p>Hi Ann</p>", Text: "Hi Ann"},
			"pat@acme.test": {Subject: "QBR?", HTML: "<p>Hi Pat</p>", Text: "Hi Pat"},
		}})
	require.NoError(t, err)

	r = h.do(t, "GET", "/v1/approvals?status=approved", "")
	require.Equal(t, 200, r.status, r.raw)
	item := r.body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "casey@cs.test", item["decided_by"])
	require.NotNil(t, item["decided_at"])
	require.Equal(t, "ok", item["comment"])
	drafts := item["drafts"].([]any)
	require.Len(t, drafts, 2)
	for i, name := range []string{"Ann", "Pat"} {
		d := drafts[i].(map[string]any)
		require.Equal(t, strings.ToLower(name)+"@acme.test", d["to"])
		require.Equal(t, "Hi "+name+",\n\nShall we review the quarter?\n", d["text"], "the draft as the CSM saw it")
		require.Equal(t, map[string]any{"subject": "QBR?", "html": "<p>Hi " + name + "</p>", "text": "Hi " + name},
			d["approved"], "and what was approved, which is what is sent")
	}

	pending := create("ebr", `{"template":"qbr-invite"}`).ID.String()
	sendgrid := create("sg", `{"template":"","sendgrid_template_id":"d-123"}`).ID.String()
	r = h.do(t, "GET", "/v1/approvals?status=pending", "")
	require.Equal(t, 200, r.status, r.raw)
	require.Nil(t, r.body["items"].([]any)[0].(map[string]any)["drafts"].([]any)[0].(map[string]any)["approved"])
	for _, tt := range []struct {
		name, id, body, field string
	}{
		{"laid-out text over the html bound", pending, `{"decision":"approve","edits":{"text":"` + strings.Repeat("<", templates.MaxTextBytes) + `"}}`, "edits.html"},
		{"edits of a SendGrid template", sendgrid, `{"decision":"approve","edits":{"subject":"Hi"}}`, "edits"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, "POST", "/v1/approvals/"+tt.id+"/decision", tt.body)
			require.Equal(t, 422, r.status, r.raw)
			require.Equal(t, []string{tt.field}, fieldsOf(r.body), r.raw)
		})
	}
	require.Empty(t, h.temporal.decisions, "the run heard of no refused decision")
	r = h.do(t, "POST", "/v1/approvals/"+pending+"/decision", `{"decision":"approve","edits":{"subject":"QBR?","text":"Hi all"}}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Len(t, h.temporal.decisions, 1)
}

func TestSimulateShowsTheSameTimelineWithoutSideEffects(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	before := h.counts(t)

	r := h.do(t, "POST", "/v1/playbooks/onboarding/simulate", `{"account_id":"acme","start":"2026-01-05T09:00:00Z",
		"events":[{"name":"first_login","at":"2d"}],
		"decisions":[{"step_id":"qbr-invitation","decision":"approve","at":"1h","edits":{"subject":"QBR?"}}]}`)
	require.Equal(t, 200, r.status, r.raw)
	timeline := r.body["timeline"].([]any)
	entry := func(step, action string) map[string]any {
		for _, e := range timeline {
			m := e.(map[string]any)
			if m["step_id"] == step && m["action"] == action {
				return m
			}
		}
		return nil
	}
	call := entry("welcome-call", "task")
	require.NotNil(t, call, "acme is enterprise: a welcome call")
	require.Equal(t, "2026-01-05T09:00:00Z", call["at"])
	require.Equal(t, []any{"casey@cs.test"}, call["to"])
	require.Equal(t, "Welcome call", call["step_name"], "the step's name in the definition")
	require.Nil(t, entry("zero-logins", "task"), "first_login on day 2")
	qbr := entry("qbr-invitation", "email")
	require.Equal(t, "91d4h", qbr["offset"], "approved on a Saturday; the window opens Monday 09:00 in New York (13:00 UTC in April)")
	require.Equal(t, []any{"pat@acme.test"}, qbr["to"], "only contacts that exist")
	require.Equal(t, []any{map[string]any{"to": "pat@acme.test", "subject": "QBR?",
		"text": qbr["emails"].([]any)[0].(map[string]any)["text"]}}, qbr["emails"], "the approver's subject")
	require.Contains(t, qbr["emails"].([]any)[0].(map[string]any)["text"], "Hi Pat,")
	require.Equal(t, "89d1h", entry("qbr-invitation", "decision")["offset"], "an hour after the approval appeared")
	shift := entry("qbr-invitation", "shift")
	require.Equal(t, "held for the send window (mon-fri 09:00-17:00, America/New_York) until 2026-04-06T13:00:00Z", shift["detail"])
	require.Equal(t, "skipped: segment is enterprise, not smb", entry("welcome-email", "skip")["detail"])
	require.Equal(t, "completed", r.body["outcome"])

	// A made-up smb account needs no stored data.
	r = h.do(t, "POST", "/v1/playbooks/onboarding/simulate", `{"start":"2026-01-05T09:00:00Z","account":{"segment":"smb","name":"Tiny Co",
		"csm_name":"Casey","contacts":[{"email":"a@b.test","name":"Ann","role":"champion"}]}}`)
	require.Equal(t, 200, r.status, r.raw)
	timeline = r.body["timeline"].([]any)
	welcome := entry("welcome-email", "email")["emails"].([]any)[0].(map[string]any)
	require.Equal(t, "Welcome to your onboarding, Tiny Co", welcome["subject"])
	require.Contains(t, welcome["text"], "Hi Ann,")
	require.Equal(t, before, h.counts(t), "a simulation writes nothing")

	for _, bad := range []struct{ body, field string }{
		{`{}`, "account_id"},
		{`{"account_id":"acme","account":{"segment":"smb"}}`, "account_id"},
		{`{"account":{"segment":"huge"}}`, "account.segment"},
		{`{"account_id":"acme","start":"yesterday"}`, "start"},
		{`{"account_id":"acme","decisions":[{"step_id":"x","decision":"maybe","at":"1d"}]}`, "decisions[0].decision"},
		{`{"account_id":"acme","decisions":[{"step_id":"welcome-call","decision":"approve","at":"1d"}]}`, "decisions[0].step_id"},
		{`{"account_id":"ghost"}`, "account_id"},
	} {
		r = h.do(t, "POST", "/v1/playbooks/onboarding/simulate", bad.body)
		require.Equal(t, 422, r.status, bad.body+" → "+r.raw)
		require.Contains(t, fieldsOf(r.body), bad.field, r.raw)
	}
	require.Equal(t, 404, h.do(t, "POST", "/v1/playbooks/nope/simulate", `{"account_id":"acme"}`).status)
}

func TestTimelineSVG(t *testing.T) {
	h := newHarness(t)
	r := h.do(t, "GET", "/v1/playbooks/onboarding/timeline.svg?segment=smb", "")
	require.Equal(t, 200, r.status)
	require.Equal(t, "image/svg+xml", r.header.Get("Content-Type"))
	require.Contains(t, r.raw, ">welcome-email<")
	require.NotContains(t, r.raw, ">welcome-call<")
	require.NoError(t, xml.Unmarshal([]byte(r.raw), new(struct{})), "well-formed XML")
	require.Equal(t, 400, h.do(t, "GET", "/v1/playbooks/onboarding/timeline.svg?segment=galactic", "").status)
	require.Equal(t, 404, h.do(t, "GET", "/v1/playbooks/nope/timeline.svg", "").status)

	// The renewal's branches each get a lane, not only the path taken.
	r = h.do(t, "GET", "/v1/playbooks/renewal/timeline.svg?segment=enterprise", "")
	require.Equal(t, 200, r.status)
	require.Equal(t, 13, strings.Count(r.raw, `class="lane"`), "steps, then/else of five ifs, then of the two re-checks' zone plans")
	require.Contains(t, r.raw, ">then: health_score &lt; 60 (not taken)<")
	require.Contains(t, r.raw, ">await-signature: wait for contract_signed ≤ 30d<")
}

// ?account_id= draws that account's own timeline: its segment, and its own
// renewal date for a playbook counted from it.
func TestTimelineSVGOfAnAccount(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	renewal := time.Now().UTC().AddDate(0, 0, 200)
	r := h.do(t, "POST", "/v1/accounts", fmt.Sprintf(`{"id":"dated","name":"Dated Inc","arr":50000,"csm_email":"casey@cs.test",
		"timezone":"UTC","renewal_date":%q,"lifecycle_stage":"adoption"}`, renewal.Format(time.DateOnly)))
	require.Equal(t, 201, r.status, r.raw)
	r = h.do(t, "GET", "/v1/playbooks/renewal/timeline.svg?account_id=dated", "")
	require.Equal(t, 200, r.status, r.raw)
	require.Contains(t, r.raw, "Dated Inc (dated, mid_market) if enrolled now")
	require.Contains(t, r.raw, ">ebr-invitation: approval by csm", "mid-market steps")
	require.NotContains(t, r.raw, ">renewal-reminder", "no smb step")
	kickoff := renewal.AddDate(0, 0, -120).Format(time.DateOnly)
	require.Contains(t, r.raw, kickoff+" 09:00 UTC · task · renewal-kickoff", "T-120 of its own renewal date")
	require.Contains(t, r.raw, renewal.Format(time.DateOnly)+" 09:00 UTC · if · renewal-day")

	require.Equal(t, 201, h.do(t, "POST", "/v1/accounts", `{"id":"undated","name":"Undated","arr":5000,"csm_email":"casey@cs.test",
		"timezone":"UTC","lifecycle_stage":"adoption"}`).status)
	for _, c := range []struct {
		query  string
		status int
		field  string
	}{
		{"account_id=ghost", 404, ""},
		{"account_id=undated", 422, "account_id"},
		{"account_id=acme&segment=smb", 400, "segment"},
		{"accountid=acme", 400, "accountid"},
		{"segment=smb&color=red", 400, "color"},
	} {
		r := h.do(t, "GET", "/v1/playbooks/renewal/timeline.svg?"+c.query, "")
		require.Equal(t, c.status, r.status, c.query+" → "+r.raw)
		require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
		if c.field != "" {
			require.Equal(t, []string{c.field}, fieldsOf(r.body), c.query)
		}
	}
}

func TestSchemaIsServed(t *testing.T) {
	h := newHarness(t)
	r := h.do(t, "GET", "/v1/playbooks/schema.json", "")
	require.Equal(t, 200, r.status)
	require.Equal(t, "https://json-schema.org/draft/2020-12/schema", r.body["$schema"])
	// What is served is what playbook's tests hold to the validator.
	want, err := json.Marshal(playbook.Schema())
	require.NoError(t, err)
	require.JSONEq(t, string(want), r.raw)
}

// CS ops can look up what templates may use, with types, and the schema
// says where.
func TestTemplateFieldsAreServed(t *testing.T) {
	h := newHarness(t)
	r := h.do(t, "GET", "/v1/playbooks/template-fields", "")
	require.Equal(t, 200, r.status, r.raw)
	byName := map[string]map[string]any{}
	for _, f := range r.body["items"].([]any) {
		byName[f.(map[string]any)["name"].(string)] = f.(map[string]any)
	}
	// The data's fields and the always declared (measured) account fields.
	require.Len(t, byName, len(templates.Fields())+2)
	require.Equal(t, "string", byName[".Account.Fields.seats_used_pct"]["type"])
	require.Equal(t, "string", byName[".Contact.FirstName"]["type"])
	require.Contains(t, byName[".Contact.FirstName"]["description"], `"there"`)
	require.Equal(t, "integer", byName[".Health.Score"]["type"])
	require.Contains(t, byName, ".Account.RenewalDate")
	for _, name := range []string{".Metrics.ActiveUsers", ".Metrics.LicensedUsers", ".Metrics.SeatUtilisation", ".Metrics.NPS"} {
		require.Equal(t, "integer", byName[name]["type"], name)
		require.Contains(t, byName[name]["description"], "missing when not measured", name)
	}
	require.Equal(t, "map", byName[".Metrics.Components"]["type"])
	r = h.do(t, "GET", "/v1/playbooks/schema.json", "")
	require.Contains(t, r.raw, "GET /v1/playbooks/template-fields")
}

// A template that would fail at send time is refused when the definition
// is validated, created or published: 422 naming the template, the part and
// the line.
func TestTemplatesAreTypeCheckedBeforeAnySend(t *testing.T) {
	h := newHarness(t)
	bad := `key: nonsense
name: Nonsense
templates:
  - name: note
    subject: Hello {{.Account.Name}}
    html: |
      <p>Hi {{.Contact.FirstName}},</p>
      <p>{{.Nonsense.Thing}}</p>
    text: Hi {{.Contact.FirstName}}
steps:
  - id: hello
    email: {template: note, to: champion}
`
	for _, path := range []string{"/v1/playbooks/validate", "/v1/playbooks"} {
		r := h.send(t, "POST", path, "application/yaml", bad)
		require.Equal(t, 422, r.status, r.raw)
		require.Equal(t, []any{map[string]any{"field": "templates[0].html", "line": float64(8),
			"message": `template "note", line 2 of the html: .Nonsense is not a field of the data; fields: Account, Contact, CSM, Health, Metrics, Survey`}},
			r.body["errors"])
	}

	// A draft stored before templates were checked cannot be published.
	def, err := playbook.Parse([]byte(bad), playbook.Options{BuiltinTemplates: []string{"welcome"}})
	require.NoError(t, err, "without the type-check it passes")
	canonical, err := json.Marshal(def)
	require.NoError(t, err)
	_, err = store.New(h.pool).CreatePlaybookVersion(context.Background(), store.NewPlaybookVersion{
		Key: def.Key, Name: def.Name, Definition: canonical, Source: bad, SourceFormat: "yaml"})
	require.NoError(t, err)
	r := h.do(t, "POST", "/v1/playbooks/nonsense/versions/1/publish", "")
	require.Equal(t, 422, r.status, r.raw)
	require.Contains(t, r.raw, `line 2 of the html: .Nonsense is not a field of the data`)
	require.Contains(t, r.raw, `"line":8`)

	// Every error has its line, those found against the published playbooks too.
	r = h.send(t, "POST", "/v1/playbooks/validate", "application/yaml", "key: k\nname: K\nsteps:\n  - id: a\n    wait: 1d\n  - id: b\n    start_playbook: {key: ghost}\n")
	require.Equal(t, 422, r.status, r.raw)
	require.Equal(t, []any{map[string]any{"field": "steps[1].start_playbook.key", "line": float64(7),
		"message": `unknown playbook "ghost": no published playbook has this key`}}, r.body["errors"])
}

func TestCompleteTaskSignalsItsRun(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status)
	var taskID string
	require.NoError(t, h.pool.QueryRow(context.Background(), `
		INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title)
		SELECT $1, 'welcome-call', 'acme', csm_id, 'Welcome call' FROM accounts WHERE id = 'acme' RETURNING id`,
		r.body["id"]).Scan(&taskID))

	r = h.do(t, "POST", "/v1/tasks/"+taskID+"/complete", `{"outcome":"held","note":"went well"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "completed", r.body["status"])
	require.Equal(t, "held", r.body["outcome"])
	require.Equal(t, []string{"event playbook/onboarding/account/acme"}, h.temporal.signals)

	require.Equal(t, 200, h.do(t, "POST", "/v1/tasks/"+taskID+"/complete", `{"outcome":"held"}`).status, "a repeated completion is fine")
	require.Equal(t, 409, h.do(t, "POST", "/v1/tasks/"+taskID+"/complete", `{"outcome":"other"}`).status)
	require.Equal(t, 404, h.do(t, "POST", "/v1/tasks/00000000-0000-0000-0000-000000000000/complete", `{}`).status)
	require.Equal(t, 400, h.do(t, "POST", "/v1/tasks/"+taskID+"/complete", `{"outcome":"x","extra":1}`).status)
}

func TestUnsubscribeLinkPageAndOneClick(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status)
	var emailID uuid.UUID
	require.NoError(t, h.pool.QueryRow(context.Background(), `
		INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status)
		VALUES ($1, 'welcome-email', 'acme', 'pat@acme.test', 'welcome', 'Hi', '', '', 'captured') RETURNING id`,
		r.body["id"]).Scan(&emailID))
	token := testLinks.Token(emailID)

	get := func(method, query string) (int, string) {
		req, _ := http.NewRequest(method, h.srv.URL+"/v1/unsubscribe?"+query, strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req) // no API key: recipients click this
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	status, page := get("GET", "token="+token)
	require.Equal(t, 200, status)
	require.Contains(t, page, "pat@acme.test")
	require.Contains(t, page, "about Acme.", "the account's name, as its emails say it")
	require.NotContains(t, page, "about acme", "not its internal id")
	require.Contains(t, page, `<form method="post">`)
	var unsubscribed bool
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT unsubscribed FROM contacts WHERE email = 'pat@acme.test'`).Scan(&unsubscribed))
	require.False(t, unsubscribed, "opening the link (or a mail scanner) does not unsubscribe")

	status, page = get("POST", "token="+token)
	require.Equal(t, 200, status)
	require.Contains(t, page, "You are unsubscribed")
	require.Contains(t, page, "about Acme.")
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT unsubscribed FROM contacts WHERE email = 'pat@acme.test'`).Scan(&unsubscribed))
	require.True(t, unsubscribed)
	var reason string
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT reason FROM suppressions WHERE email = 'pat@acme.test'`).Scan(&reason))
	require.Equal(t, "unsubscribe", reason)
	status, _ = get("POST", "token="+token)
	require.Equal(t, 200, status, "twice is fine")

	status, _ = get("POST", "token="+token+"x")
	require.Equal(t, 400, status)
	status, _ = get("GET", "token="+testLinks.Token(uuid.New()))
	require.Equal(t, 404, status)
}

// definitionWithSteps writes a YAML definition of n top-level steps, each
// from a format given its index.
func definitionWithSteps(n int, step string) string {
	var b strings.Builder
	b.WriteString("key: big\nname: Big\nsteps:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, step, i)
	}
	return b.String()
}

func TestDefinitionsOverTheLimitsAreRefusedAndNothingWritten(t *testing.T) {
	h := newHarness(t)
	before := h.counts(t)
	// The attack: a 100 KB title anchored once and used 60 times, ~6 MB
	// expanded, which made every run's workflow input too large for Temporal.
	bomb := "key: bomb\nname: Bomb\nsteps:\n  - {id: t0, task: {title: &t " + strings.Repeat("x", 100_000) + ", assignee: csm}}\n" +
		definitionWithSteps(60, "  - {id: t%d-again, task: {title: *t, assignee: csm}}\n")[len("key: big\nname: Big\nsteps:\n"):]
	deepSteps := "{id: s0, wait: 1d}"
	for i := 1; i <= 8; i++ {
		deepSteps = fmt.Sprintf("{id: s%d, if: {segment: [smb]}, then: [%s]}", i, deepSteps)
	}
	tests := []struct{ name, body, field, message string }{
		{"alias bomb", bomb, "body", "once its aliases are expanded, the definition is larger than the limit of 262144 bytes (256 KiB)"},
		{"too many steps", definitionWithSteps(501, "  - {id: s%d, wait: 1d}\n"), "steps", "the definition has 501 steps (nested ones included); the limit is 500"},
		{"steps nest too deep", "key: deep\nname: Deep\nsteps: [" + deepSteps + "]\n", "steps[0]" + strings.Repeat(".then[0]", 7) + ".then",
			"steps nest 9 levels deep here (then, else, repeat.steps, on_timeout); the limit is 8"},
		{"conditions nest too deep", "key: deep\nname: Deep\nsteps: [{id: a, wait: 1d, when: " + strings.Repeat("{not: ", 8) + "{segment: [smb]}" + strings.Repeat("}", 8) + "}]\n",
			"steps[0].when" + strings.Repeat(".not", 8), "conditions nest 9 levels deep here (all, any, not); the limit is 8"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v1/playbooks/validate", "/v1/playbooks"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				r := h.send(t, "POST", path, "application/yaml", tt.body)
				require.Equal(t, 422, r.status, r.raw)
				require.Contains(t, messagesOf(r.body), tt.field+": "+tt.message, r.raw)
			})
		}
	}
	require.Equal(t, before, h.counts(t))
}

// 60,000 invalid steps (the attack took 699 s to answer 31 MB): the answer
// lists the first errors and counts them all.
func TestManyErrorsAreCappedAndCounted(t *testing.T) {
	h := newHarness(t)
	r := h.send(t, "POST", "/v1/playbooks/validate", "application/yaml", definitionWithSteps(60_000, "- {id: B%d}\n"))
	require.Equal(t, 422, r.status)
	require.Len(t, r.body["errors"], 100)
	// Two per step (bad id, no action), too many steps, too large as JSON.
	require.EqualValues(t, 120_002, r.body["error_count"])
	require.Equal(t, "the playbook definition has 120002 error(s); the first 100 are listed", r.body["detail"])
	require.Contains(t, fieldsOf(r.body), "steps", "the limit is among the first errors")

	r = h.send(t, "POST", "/v1/playbooks/validate", "application/yaml", definitionWithSteps(50, "- {id: B%d}\n"))
	require.Len(t, r.body["errors"], 100, "exactly the cap: no count")
	require.NotContains(t, r.body, "error_count")
}

// A version stored before the limits existed can be neither published nor
// run: its workflow input could be over what Temporal accepts.
func TestStoredDefinitionOverTheLimitsCannotRun(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	ctx := context.Background()
	st := store.New(h.pool)
	def := playbook.Definition{Key: "legacy", Name: "Legacy"}
	for i := 0; i <= playbook.MaxSteps; i++ {
		def.Steps = append(def.Steps, playbook.Step{ID: fmt.Sprintf("s%d", i), Wait: new(playbook.Duration)})
	}
	raw, err := json.Marshal(def)
	require.NoError(t, err)
	for range 2 {
		_, err = st.CreatePlaybookVersion(ctx, store.NewPlaybookVersion{Key: "legacy", Name: "Legacy", Definition: raw, Source: string(raw), SourceFormat: "json"})
		require.NoError(t, err)
	}
	_, err = st.PublishPlaybookVersion(ctx, "legacy", 1)
	require.NoError(t, err)

	r := h.do(t, "POST", "/v1/runs", `{"playbook":"legacy","account_id":"acme"}`)
	require.Equal(t, 422, r.status, r.raw)
	require.Contains(t, messagesOf(r.body), "playbook: the playbook version is over the definition limits; publish a version within them: legacy v1: steps: the definition has 501 steps (nested ones included); the limit is 500")
	require.Empty(t, h.temporal.inputs, "no workflow is started")

	r = h.do(t, "POST", "/v1/playbooks/legacy/versions/2/publish", "")
	require.Equal(t, 422, r.status, r.raw)
	require.Contains(t, fieldsOf(r.body), "steps")
	r = h.do(t, "GET", "/v1/playbooks/legacy?version=2", "")
	require.Equal(t, "draft", r.body["status"])
}

func messagesOf(body map[string]any) []string {
	var out []string
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		m := e.(map[string]any)
		out = append(out, m["field"].(string)+": "+m["message"].(string))
	}
	return out
}

// Publishing answers with what it does beyond the version itself, the
// warnings the console's publish page shows: a duplicate keeps its
// original's trigger, so each account it enrols would get both.
func TestPublishAnswersWithTheConsolesWarnings(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/playbooks/onboarding/duplicate", `{"key":"onboarding-plus","name":"Onboarding plus"}`)
	require.Equal(t, 201, r.status, r.raw)
	r = h.do(t, "POST", fmt.Sprintf("/v1/playbooks/onboarding-plus/versions/%v/publish", r.body["version"]), "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "published", r.body["status"])
	warnings := r.body["warnings"].([]any)
	require.Len(t, warnings, 1, r.raw)
	w := warnings[0].(map[string]any)
	require.Equal(t, "shared_trigger", w["code"])
	require.Equal(t, []any{"onboarding"}, w["playbooks"])
	require.Contains(t, w["message"], "its trigger also starts onboarding")

	r = h.do(t, "POST", "/v1/playbooks", "{\"key\":\"quiet\",\"name\":\"Quiet\",\"steps\":[{\"id\":\"a\",\"wait\":\"1d\"}]}")
	require.Equal(t, 201, r.status, r.raw)
	r = h.do(t, "POST", "/v1/playbooks/quiet/versions/1/publish", "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, []any{}, r.body["warnings"], "no trigger, nothing beyond itself")
}
