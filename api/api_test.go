package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/api"
	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/netguard"
	"github.com/playbookd/playbookd/internal/throttle"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/unsubscribe"
	"github.com/playbookd/playbookd/workflows"
)

const adminKey = "test-admin-key-0123456789"

// webhookSigner stands in for SendGrid's signing key.
var webhookSigner, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

var testLinks = unsubscribe.New("test-signing-key-of-at-least-32-chars", "http://cs.test")

var testSurveyLinks = survey.NewLinks("test-signing-key-of-at-least-32-chars", "http://cs.test")

// fakeTemporal behaves like the server for IDs: a second start of a live
// workflow ID is refused. Queries fail as if no worker were polling. Import
// workflows run for real, in the SDK's test environment with the real
// activities.
type fakeTemporal struct {
	mu        sync.Mutex // imports start runs from their own goroutines
	live      map[string]bool
	inputs    []workflows.RunInput
	signals   []string
	decisions []workflows.Decision
	progress  *workflows.Progress // what a progress query answers; nil: no worker
	acts      *activities.Activities
	imports   sync.WaitGroup
}

type fakeRun struct {
	client.WorkflowRun
	id string
}

func (r fakeRun) GetID() string    { return r.id }
func (r fakeRun) GetRunID() string { return "run-of-" + r.id }

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live[o.ID] {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("workflow execution already started", "", "")
	}
	f.live[o.ID] = true
	for _, a := range args {
		switch in := a.(type) {
		case workflows.RunInput:
			f.inputs = append(f.inputs, in)
		case workflows.AccountImportInput:
			f.imports.Add(1)
			go f.runImport(in)
		}
	}
	return fakeRun{id: o.ID}, nil
}

var quietTemporal = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// runImport runs an import workflow to its end, following continue-as-new.
func (f *fakeTemporal) runImport(in workflows.AccountImportInput) {
	defer f.imports.Done()
	for {
		var suite testsuite.WorkflowTestSuite
		suite.SetLogger(quietTemporal)
		env := suite.NewTestWorkflowEnvironment()
		env.SetTestTimeout(5 * time.Minute)
		env.RegisterWorkflowWithOptions(workflows.AccountImport, workflow.RegisterOptions{Name: workflows.AccountImportName})
		f.acts.Register(env)
		env.ExecuteWorkflow(workflows.AccountImportName, in)
		var next *workflow.ContinueAsNewError
		if !errors.As(env.GetWorkflowError(), &next) || converter.GetDefaultDataConverter().FromPayloads(next.Input, &in) != nil {
			return
		}
	}
}

func (f *fakeTemporal) startedInputs() []workflows.RunInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.inputs)
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, id, _, name string, _ any) error {
	f.signals = append(f.signals, name+" "+id)
	return nil
}

func (f *fakeTemporal) CancelWorkflow(_ context.Context, id, _ string) error {
	f.signals = append(f.signals, "cancel "+id)
	return nil
}

// UpdateWorkflow accepts every decision, as a pending approval's validator would.
func (f *fakeTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	d := o.Args[0].(workflows.Decision)
	f.decisions = append(f.decisions, d)
	return fakeUpdate{d: d}, nil
}

type fakeUpdate struct {
	client.WorkflowUpdateHandle
	d workflows.Decision
}

func (u fakeUpdate) Get(_ context.Context, v any) error {
	*v.(*workflows.DecisionResult) = workflows.DecisionResult{ApprovalID: u.d.ApprovalID, Status: states.Approval(u.d.Decision + "d")}
	return nil
}

// QueryWorkflow answers with progress when a test set it.
func (f *fakeTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	if f.progress == nil {
		return nil, errors.New("no worker polling in this test")
	}
	payloads, err := converter.GetDefaultDataConverter().ToPayloads(f.progress)
	if err != nil {
		return nil, err
	}
	return queryAnswer{payloads}, nil
}

type queryAnswer struct{ payloads *commonpb.Payloads }

func (a queryAnswer) HasValue() bool { return true }
func (a queryAnswer) Get(v any) error {
	return converter.GetDefaultDataConverter().FromPayloads(a.payloads, v)
}

type harness struct {
	srv      *httptest.Server
	pool     *pgxpool.Pool
	temporal *fakeTemporal
	readyErr error
	// mismatch receives responses that do not match openapi.yaml.
	mismatch func(format string, args ...any)
}

// newHarness serves the API over a fresh database; options change its
// configuration (the throttle of failed authentications is off unless one
// sets it: most tests send many requests without a key on purpose).
func newHarness(t testing.TB, options ...func(*api.Config)) *harness {
	t.Helper()
	return newHarnessWithModel(t, health.Presets[health.DefaultModel], options...)
}

// newHarnessWithModel is newHarness scoring health with another model.
func newHarnessWithModel(t testing.TB, model health.Model, options ...func(*api.Config)) *harness {
	t.Helper()
	return newHarnessWithDeps(t, func(d *app.Deps) { d.Health = model }, options...)
}

// newHarnessWithDeps is newHarness with the application's dependencies
// changed by deps.
func newHarnessWithDeps(t testing.TB, deps func(*app.Deps), options ...func(*api.Config)) *harness {
	t.Helper()
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	set, err := templates.Builtin()
	require.NoError(t, err)
	_, err = catalog.Seed(context.Background(), st, app.PlaybookOptions(set, netguard.Policy{}, nil))
	require.NoError(t, err)
	h := &harness{pool: pool, temporal: &fakeTemporal{live: map[string]bool{}}, mismatch: t.Errorf}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := app.Deps{Store: st, Temporal: h.temporal, TaskQueue: "q", Namespace: "default",
		TemporalUIURL: "http://ui.test", Health: health.Presets[health.DefaultModel], Templates: set, Log: log, SurveyLinks: testSurveyLinks,
		// Most tests send many requests without a key on purpose.
		AuthFailures: throttle.New(throttle.Options{Every: time.Nanosecond, Burst: 1 << 30, Clients: 1})}
	deps(&d)
	a, wired := app.Build(d)
	h.temporal.acts = &activities.Activities{Imports: wired.Imports, Log: log}
	// Before the database is dropped: imports still running finish first.
	t.Cleanup(h.temporal.imports.Wait)
	cfg := api.Config{
		App:                a,
		Ready:              []api.Check{{Name: "postgres", Ping: st.Ping}, {Name: "temporal", Ping: func(context.Context) error { return h.readyErr }}},
		AdminKey:           adminKey,
		Links:              testLinks,
		SendGridWebhookKey: &webhookSigner.PublicKey,
		Log:                log,
		// Every response of every API test is checked against openapi.yaml.
		CheckResponses: func(err error) { h.mismatch("response does not match openapi.yaml: %v", err) },
	}
	for _, o := range options {
		o(&cfg)
	}
	h.srv = httptest.NewServer(api.New(cfg))
	t.Cleanup(h.srv.Close)
	return h
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a JSON request with the admin key.
func (h *harness) do(t *testing.T, method, path, body string) response {
	t.Helper()
	contentType := ""
	if body != "" {
		contentType = "application/json"
	}
	return h.request(t, adminKey, method, path, contentType, body)
}

// request sends a request with a key and a content type ("": none).
func (h *harness) request(t *testing.T, key, method, path, contentType, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return roundTrip(t, req)
}

// roundTrip sends a request and reads the answer, decoding a JSON body.
func roundTrip(t testing.TB, req *http.Request) response {
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (h *harness) seed(t *testing.T) {
	t.Helper()
	require.Equal(t, 201, h.do(t, "POST", "/v1/team", `{"email":"lead@cs.test","name":"Lee Lead","level":"senior_csm"}`).status)
	require.Equal(t, 201, h.do(t, "POST", "/v1/team", `{"email":"Casey@CS.test","name":"Casey","level":"csm","manager_email":"lead@cs.test"}`).status)
	// Past onboarding, so that creating it starts nothing by itself (triggers
	// have their own tests) and runs can be started by hand.
	r := h.do(t, "POST", "/v1/accounts", `{"id":"acme","name":"Acme","arr":150000,"csm_email":"casey@cs.test",
		"timezone":"America/New_York","renewal_date":"2027-09-01","lifecycle_stage":"adoption",
		"contacts":[{"email":"pat@acme.test","name":"Pat","role":"champion"}]}`)
	require.Equal(t, 201, r.status, r.raw)
}

func TestTeamAccountsAndRunsSlice(t *testing.T) {
	h := newHarness(t)
	h.seed(t)

	// Upserts answer 200 when the row existed.
	r := h.do(t, "POST", "/v1/team", `{"email":"casey@cs.test","name":"Casey Jones","level":"csm","manager_email":"lead@cs.test"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "lead@cs.test", r.body["manager_email"])

	r = h.do(t, "GET", "/v1/accounts/acme", "")
	require.Equal(t, 200, r.status)
	require.Equal(t, "enterprise", r.body["segment"], "segment derives from ARR")
	require.Equal(t, "2027-09-01", r.body["renewal_date"])
	require.Equal(t, "casey@cs.test", r.body["csm_email"])
	require.Len(t, r.body["contacts"], 1)

	r = h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	runID := r.body["id"].(string)
	require.Equal(t, "/v1/runs/"+runID, r.header.Get("Location"))
	require.Equal(t, "playbook/onboarding/account/acme", r.body["workflow_id"])
	require.Equal(t, "running", r.body["status"])

	r = h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 409, r.status, r.raw)
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	require.Equal(t, runID, r.body["run_id"])

	r = h.do(t, "GET", "/v1/runs/"+runID, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Contains(t, r.body["steps_error"], "no worker")
	require.Equal(t, "http://ui.test/namespaces/default/workflows/playbook%2Fonboarding%2Faccount%2Facme/run-of-playbook%2Fonboarding%2Faccount%2Facme/history", r.body["temporal_ui"])
	events := r.body["events"].([]any)
	require.Equal(t, "run_started", events[0].(map[string]any)["type"])

	var rows int
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT count(*) FROM runs`).Scan(&rows))
	require.Equal(t, 1, rows)

	r = h.do(t, "GET", "/v1/tasks?assignee=casey@cs.test", "")
	require.Equal(t, 200, r.status)
	require.Empty(t, r.body["items"])
}

func TestNotFound(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/v1/accounts/ghost", "/v1/runs/" + uuid.NewString(), "/v1/no-such-route"} {
		r := h.do(t, "GET", path, "")
		require.Equal(t, 404, r.status, path)
		require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), path)
	}
}

// Every malformed request gets a 4xx problem naming the field, and nothing
// is written.
func TestBadInputIsRefusedAndNothingWritten(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"empty body", "POST", "/v1/team", "", 400, "body"},
		{"malformed JSON", "POST", "/v1/team", `{"email":`, 400, "body"},
		{"not an object", "POST", "/v1/team", `[1,2]`, 400, "body"},
		{"two objects", "POST", "/v1/team", `{"email":"a@b.test","name":"A","level":"csm"}{}`, 400, "body"},
		{"unknown field", "POST", "/v1/team", `{"email":"a@b.test","name":"A","level":"csm","boss":"x"}`, 400, "boss"},
		{"wrong type", "POST", "/v1/team", `{"email":"a@b.test","name":7,"level":"csm"}`, 400, "name"},
		{"team missing email", "POST", "/v1/team", `{"name":"A","level":"csm"}`, 422, "email"},
		{"team bad email", "POST", "/v1/team", `{"email":"nope","name":"A","level":"csm"}`, 422, "email"},
		{"team bad level", "POST", "/v1/team", `{"email":"a@b.test","name":"A","level":"boss"}`, 422, "level"},
		{"team unknown manager", "POST", "/v1/team", `{"email":"a@b.test","name":"A","level":"csm","manager_email":"ghost@cs.test"}`, 422, "manager_email"},
		{"team self manager", "POST", "/v1/team", `{"email":"a@b.test","name":"A","level":"csm","manager_email":"a@b.test"}`, 422, "manager_email"},
		{"team manager loop", "POST", "/v1/team", `{"email":"lead@cs.test","name":"Lee","level":"senior_csm","manager_email":"casey@cs.test"}`, 422, "manager_email"},
		{"account missing id", "POST", "/v1/accounts", `{"name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"UTC"}`, 422, "id"},
		{"account bad id", "POST", "/v1/accounts", `{"id":"a b","name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"UTC"}`, 422, "id"},
		{"account missing arr", "POST", "/v1/accounts", `{"id":"b","name":"B","csm_email":"casey@cs.test","timezone":"UTC"}`, 422, "arr"},
		{"account negative arr", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":-5,"csm_email":"casey@cs.test","timezone":"UTC"}`, 422, "arr"},
		{"account arr string", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":"lots","csm_email":"casey@cs.test","timezone":"UTC"}`, 400, "arr"},
		{"account bad segment", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"segment":"huge","csm_email":"casey@cs.test","timezone":"UTC"}`, 422, "segment"},
		{"account unknown csm", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"csm_email":"ghost@cs.test","timezone":"UTC"}`, 422, "csm_email"},
		{"account bad timezone", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"Mars/Base"}`, 422, "timezone"},
		{"account bad date", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"UTC","renewal_date":"03/01/2027"}`, 422, "renewal_date"},
		{"account renewal in year 9999", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"UTC","renewal_date":"9999-12-31"}`, 422, "renewal_date"},
		{"simulation of year 9999", "POST", "/v1/playbooks/renewal/simulate", `{"account":{"segment":"smb","timezone":"UTC","renewal_date":"9999-12-31"}}`, 422, "account.renewal_date"},
		{"simulation from year 1", "POST", "/v1/playbooks/renewal/simulate", `{"account_id":"acme","start":"0001-01-01T00:00:00Z"}`, 422, "start"},
		{"account bad status", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"UTC","status":"gone"}`, 422, "status"},
		{"account custom fields not object", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"UTC","custom_fields":[1]}`, 400, "custom_fields"},
		{"contact bad role", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"UTC","contacts":[{"email":"x@b.test","role":"boss"}]}`, 422, "contacts[0].role"},
		{"contact twice", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"UTC","contacts":[{"email":"x@b.test","role":"user"},{"email":"X@b.test","role":"admin"}]}`, 422, "contacts[1].email"},
		{"contact unknown field", "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"UTC","contacts":[{"email":"x@b.test","role":"user","age":3}]}`, 400, "contacts[0].age"},
		{"run missing playbook", "POST", "/v1/runs", `{"account_id":"acme"}`, 422, "playbook"},
		{"run missing account", "POST", "/v1/runs", `{"playbook":"onboarding"}`, 422, "account_id"},
		{"run unknown playbook", "POST", "/v1/runs", `{"playbook":"nope","account_id":"acme"}`, 422, "playbook"},
		{"run unknown account", "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"ghost"}`, 422, "account_id"},
		{"run unknown version", "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme","version":9}`, 422, "version"},
		{"run negative version", "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme","version":-1}`, 422, "version"},
		{"run bad path id", "GET", "/v1/runs/not-a-uuid", "", 400, "id"},
		{"emails bad run id", "GET", "/v1/emails?run_id=zzz", "", 400, "run_id"},
		{"emails bad status", "GET", "/v1/emails?status=lost", "", 400, "status"},
		{"emails bad kind", "GET", "/v1/emails?kind=marketing", "", 400, "kind"},
		{"tasks bad status", "GET", "/v1/tasks?status=maybe", "", 400, "status"},
		{"playbook bad version", "GET", "/v1/playbooks/onboarding?version=x", "", 400, "version"},
		{"timeline bad version", "GET", "/v1/playbooks/onboarding/timeline.svg?version=0", "", 400, "version"},
		{"timeline unknown parameter", "GET", "/v1/playbooks/onboarding/timeline.svg?acount_id=acme", "", 400, "acount_id"},
		{"publish bad version", "POST", "/v1/playbooks/onboarding/versions/v1/publish", "", 400, "version"},
		{"approvals bad status", "GET", "/v1/approvals?status=maybe", "", 400, "status"},
		{"decision bad id", "POST", "/v1/approvals/xyz/decision", `{"decision":"approve"}`, 400, "id"},
		{"decision edits subject too long", "POST", "/v1/approvals/" + uuid.NewString() + "/decision",
			`{"decision":"approve","edits":{"subject":"` + strings.Repeat("x", templates.MaxSubjectChars+1) + `"}}`, 422, "edits.subject"},
		{"decision edits html too large", "POST", "/v1/approvals/" + uuid.NewString() + "/decision",
			`{"decision":"approve","edits":{"html":"` + strings.Repeat("x", templates.MaxHTMLBytes+1) + `","text":"x"}}`, 422, "edits.html"},
		{"decision edits subject with CR LF", "POST", "/v1/approvals/" + uuid.NewString() + "/decision",
			`{"decision":"approve","edits":{"subject":"Hi\r\nBcc: all@example.test"}}`, 422, "edits.subject"},
		{"decision edits subject with a tab", "POST", "/v1/approvals/" + uuid.NewString() + "/decision",
			`{"decision":"approve","edits":{"subject":"Hi\tthere"}}`, 422, "edits.subject"},
		{"decision edits html without text", "POST", "/v1/approvals/" + uuid.NewString() + "/decision",
			`{"decision":"approve","edits":{"html":"<p>New</p>"}}`, 422, "edits.text"},
		{"decision edits text with NUL", "POST", "/v1/approvals/" + uuid.NewString() + "/decision",
			`{"decision":"approve","edits":{"text":"a\u0000b"}}`, 400, "edits.text"},
		{"event unknown field", "POST", "/v1/accounts/acme/events", `{"name":"x","when":"now"}`, 400, "when"},
		{"run action bad id", "POST", "/v1/runs/nope/cancel", "", 400, "id"},
		{"oversized body", "POST", "/v1/team", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, ""},
	}
	before := h.counts(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, tt.method, tt.path, tt.body)
			require.Equal(t, tt.status, r.status, r.raw)
			require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
			require.EqualValues(t, tt.status, r.body["status"])
			if tt.field != "" {
				require.Contains(t, fieldsOf(r.body), tt.field, r.raw)
			}
		})
	}
	require.Equal(t, before, h.counts(t), "a refused request wrote something")
}

func TestWrongContentTypeIsRefused(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest("POST", h.srv.URL+"/v1/team", strings.NewReader(`email=a`))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 415, resp.StatusCode)
}

func TestAdminKeyRequired(t *testing.T) {
	h := newHarness(t)
	for _, auth := range []string{"", "Bearer wrong-key", adminKey} {
		req, _ := http.NewRequest("GET", h.srv.URL+"/v1/tasks", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, 401, resp.StatusCode, "Authorization %q", auth)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	}
	resp, err := http.Get(h.srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, "/healthz is outside key auth")
}

func TestReadyzReportsEachDependency(t *testing.T) {
	h := newHarness(t)
	get := func() (int, map[string]any) {
		resp, err := http.Get(h.srv.URL + "/readyz")
		require.NoError(t, err)
		defer resp.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body
	}
	status, body := get()
	require.Equal(t, 200, status)
	require.Equal(t, map[string]any{"postgres": "ok", "temporal": "ok"}, body)
	h.readyErr = errors.New("connection refused")
	status, body = get()
	require.Equal(t, 503, status)
	require.Equal(t, "connection refused", body["temporal"])
}

func fieldsOf(body map[string]any) []string {
	var out []string
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

func (h *harness) counts(t *testing.T) map[string]int {
	out := map[string]int{}
	for _, table := range []string{"team_members", "accounts", "contacts", "runs", "tasks", "emails", "events", "playbook_versions", "approvals", "secrets"} {
		var n int
		require.NoError(t, h.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
		out[table] = n
	}
	return out
}
