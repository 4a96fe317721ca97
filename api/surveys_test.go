package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
)

// surveyRun starts a run of onboarding for acme: the run survey emails
// are stored under.
func surveyRun(t *testing.T, h *harness) string {
	t.Helper()
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	return r.body["id"].(string)
}

// surveyEmail stores a captured survey email of the run, as the worker does
// for a survey step, and returns its id (what a survey link signs).
func surveyEmail(t *testing.T, h *harness, runID, step, recipient, kind string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.NoError(t, h.pool.QueryRow(context.Background(), `
		INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status, survey)
		VALUES ($1, $2, 'acme', $3, 'nps-survey', 'How are we doing?', '', '', 'captured', $4) RETURNING id`,
		runID, step, recipient, kind).Scan(&id))
	return id
}

func surveyToken(email uuid.UUID, kind string, score int) string {
	return testSurveyLinks.Token(survey.Answer{EmailID: email, Kind: kind, Score: score})
}

// surveyRows is what an answer may change: the tables of harness.counts,
// the responses, the account's events of answers, its snapshots and
// firings.
func surveyRows(t *testing.T, h *harness) map[string]int {
	out := h.counts(t)
	for name, query := range map[string]string{
		"survey_responses": `SELECT count(*) FROM survey_responses`,
		"answer events":    `SELECT count(*) FROM events WHERE type = 'event:survey_response'`,
		"health_snapshots": `SELECT count(*) FROM health_snapshots`,
		"trigger_firings":  `SELECT count(*) FROM trigger_firings`,
	} {
		var n int
		require.NoError(t, h.pool.QueryRow(context.Background(), query).Scan(&n))
		out[name] = n
	}
	return out
}

// postSurvey sends the survey form as a browser does, with an Accept header
// ("": none).
func postSurvey(t *testing.T, h *harness, form url.Values, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", h.srv.URL+survey.Path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp, readAll(t, resp)
}

// readAll reads and closes an answer's body.
func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(raw)
}

// A GET never records: every score's link opened (as mail scanners open
// every link of an email), by GET and by HEAD, records no answer, no
// event, no snapshot and no firing. The page shows the question with the
// picked score and a form posting back, without script, fit for a phone.
func TestSurveyGetNeverRecords(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/accounts/acme/health", `{"active_users":80,"licensed_users":100,"nps":10}`)
	require.Equal(t, 201, r.status, r.raw)
	email := surveyEmail(t, h, surveyRun(t, h), "nps", "pat@acme.test", survey.NPS)
	before := surveyRows(t, h)
	signals := len(h.temporal.signals)

	for _, score := range survey.Scores(survey.NPS) {
		target := testSurveyLinks.URL(survey.Answer{EmailID: email, Kind: survey.NPS, Score: score})
		target = strings.TrimPrefix(target, "http://cs.test")
		for _, method := range []string{"GET", "HEAD"} {
			resp, page := sendRaw(t, h, method, target)
			what := fmt.Sprintf("%s score %d", method, score)
			if method == "HEAD" {
				require.Less(t, resp.StatusCode, 500, what)
				continue
			}
			require.Equal(t, http.StatusOK, resp.StatusCode, what)
			requirePageHeaders(t, resp, page, what)
			require.Contains(t, page, "<h1>How likely are you to recommend us to a colleague?</h1>", what)
			require.Contains(t, page, fmt.Sprintf(`<li class="chosen" aria-current="true">%d</li>`, score), what)
			require.Equal(t, 1, strings.Count(page, `class="chosen"`), what)
			require.Contains(t, page, `<form method="post">`, "%s: the form posts back to the link's own address", what)
			require.NotContains(t, page, "action=", what)
			require.Contains(t, page, `<input type="hidden" name="token" value="`+surveyToken(email, survey.NPS, score)+`">`, what)
			require.Contains(t, page, `<textarea id="comment" name="comment" maxlength="2000"`, what)
			require.NotContains(t, page, "Acme", "%s: nothing about the account", what)
			require.NotContains(t, page, "pat@acme.test", what)
		}
	}
	require.Equal(t, before, surveyRows(t, h), "opening the links recorded something")
	require.Len(t, h.temporal.signals, signals, "opening the links told a run something")
}

// POST records the answer once, with its event, its health input and the
// event delivered to the account's live run; a second POST (another score's
// link, another comment) changes nothing and shows the first answer.
func TestSurveyPostRecordsOnce(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/accounts/acme/health", `{"active_users":80,"licensed_users":100,"nps":-50}`)
	require.Equal(t, 201, r.status, r.raw)
	run := surveyRun(t, h)
	email := surveyEmail(t, h, run, "nps", "pat@acme.test", survey.NPS)
	before := surveyRows(t, h)

	resp, page := postSurvey(t, h, url.Values{"token": {surveyToken(email, survey.NPS, 9)}, "comment": {"Great onboarding.\r\nThanks!"}}, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	requirePageHeaders(t, resp, page, "thanks")
	require.Contains(t, page, "<h1>Thank you</h1>")
	require.Contains(t, page, "Your answer, <strong>9</strong>, is recorded.")
	after := surveyRows(t, h)
	// events: the answer's, the new snapshot's health_recorded, and the
	// built-in promoter-advocacy's playbook_triggered and run_started.
	for name, n := range map[string]int{"survey_responses": 1, "answer events": 1, "events": 4, "health_snapshots": 1} {
		require.Equal(t, before[name]+n, after[name], name)
	}
	var advocacy int
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT count(*) FROM runs WHERE playbook_key = 'promoter-advocacy'`).Scan(&advocacy))
	require.Equal(t, 1, advocacy, "a promoter's answer starts the built-in promoter-advocacy")
	var comment, category string
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT comment, category FROM survey_responses WHERE email_id = $1`, email).Scan(&comment, &category))
	require.Equal(t, "Great onboarding.\nThanks!", comment)
	require.Equal(t, survey.Promoter, category)
	var data []byte
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT data FROM events WHERE type = 'event:survey_response'`).Scan(&data))
	var event map[string]any
	require.NoError(t, json.Unmarshal(data, &event))
	require.Equal(t, "nps", event["kind"])
	require.Equal(t, 9.0, event["score"])
	require.Equal(t, "promoter", event["category"])
	require.Equal(t, "nps", event["step_id"])
	require.NotNil(t, event["response_id"])
	require.Contains(t, h.temporal.signals, "event playbook/onboarding/account/acme", "the live run got the event")
	r = h.do(t, "GET", "/v1/accounts/acme/health?limit=1", "")
	require.Equal(t, 200, r.status, r.raw)
	inputs := r.body["items"].([]any)[0].(map[string]any)["inputs"].(map[string]any)
	require.Equal(t, 100.0, inputs["nps"], "the account's NPS of its answers of the year")
	require.Equal(t, 80.0, inputs["active_users"], "the other inputs as they were")

	for _, again := range []url.Values{
		{"token": {surveyToken(email, survey.NPS, 9)}, "comment": {"Once more"}},
		{"token": {surveyToken(email, survey.NPS, 0)}, "comment": {"Actually, no"}},
	} {
		resp, page = postSurvey(t, h, again, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, page)
		require.Contains(t, page, "<h1>We already have your answer</h1>")
		require.Contains(t, page, "You answered <strong>9</strong>.")
	}
	require.Equal(t, after, surveyRows(t, h), "a second answer changed something")
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT comment FROM survey_responses WHERE email_id = $1`, email).Scan(&comment))
	require.Equal(t, "Great onboarding.\nThanks!", comment, "the first comment stands")

	resp, page = sendRaw(t, h, "GET", survey.Path+"?token="+url.QueryEscape(surveyToken(email, survey.NPS, 3)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, "<h1>We already have your answer</h1>")
	require.Contains(t, page, `<li class="chosen" aria-current="true">9</li>`, "the first answer, not the link's score")
	require.NotContains(t, page, "<form")
}

// Links that are not ours, or of no survey, and forms that cannot be
// recorded are refused with a page in plain words (problem+json to a client
// that asks for JSON), and record nothing; a comment too long comes back in
// the form, so nothing typed is lost.
func TestSurveyRefusals(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	run := surveyRun(t, h)
	email := surveyEmail(t, h, run, "nps", "pat@acme.test", survey.NPS)
	good := surveyToken(email, survey.NPS, 8)
	// A token for score 10 with the signature of score 8: a vote changed.
	tampered := strings.Replace(good, ".8.", ".10.", 1)
	require.NotEqual(t, good, tampered)
	before := surveyRows(t, h)

	links := []struct {
		name, token string
		status      int
	}{
		{"no token", "", 400},
		{"a tampered score", tampered, 400},
		{"a damaged token", good + "x", 400},
		{"a truncated token", good[:len(good)/2], 400},
		{"another key's link", survey.NewLinks("another-signing-key-of-at-least-32-chars", "").Token(survey.Answer{EmailID: email, Kind: survey.NPS, Score: 8}), 400},
		{"an unsubscribe link's token", testLinks.Token(email), 400},
		{"a link of no email", surveyToken(uuid.New(), survey.NPS, 8), 404},
		{"a link of another kind", surveyToken(email, survey.CSAT, 5), 404},
	}
	for _, tt := range links {
		resp, page := sendRaw(t, h, "GET", survey.Path+"?token="+url.QueryEscape(tt.token))
		require.Equal(t, tt.status, resp.StatusCode, "GET %s", tt.name)
		requirePageHeaders(t, resp, page, "GET "+tt.name)
		require.Contains(t, page, "<h1>This link does not work</h1>", tt.name)

		resp, page = postSurvey(t, h, url.Values{"token": {tt.token}, "comment": {"hi"}}, "")
		require.Equal(t, tt.status, resp.StatusCode, "POST %s", tt.name)
		requirePageHeaders(t, resp, page, "POST "+tt.name)
		require.Contains(t, page, "<h1>This link does not work</h1>", tt.name)
	}
	resp, body := postSurvey(t, h, url.Values{"token": {tampered}}, "application/json")
	require.Equal(t, 400, resp.StatusCode)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), body)

	forms := []struct {
		name, contentType, body string
		status                  int
		says                    string
	}{
		{"a comment too long", "application/x-www-form-urlencoded",
			url.Values{"token": {good}, "comment": {strings.Repeat("é", survey.MaxComment+1)}}.Encode(), 400, "Your comment is too long"},
		{"a comment with NUL", "application/x-www-form-urlencoded", "token=" + url.QueryEscape(good) + "&comment=a%00b", 400, "control character"},
		{"JSON", "application/json", `{"token":"` + good + `"}`, 415, "This form cannot be read"},
		{"no media type", "", "token=" + url.QueryEscape(good), 415, "This form cannot be read"},
		{"a form too large", "application/x-www-form-urlencoded", "token=" + url.QueryEscape(good) + "&comment=" + strings.Repeat("x", 70<<10), 413, "too large"},
		{"a form that does not parse", "application/x-www-form-urlencoded", "token=%zz", 400, "could not be read"},
	}
	for _, tt := range forms {
		req, err := http.NewRequest("POST", h.srv.URL+survey.Path, strings.NewReader(tt.body))
		require.NoError(t, err)
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		page := readAll(t, resp)
		require.Equal(t, tt.status, resp.StatusCode, "%s: %s", tt.name, page)
		requirePageHeaders(t, resp, page, tt.name)
		require.Contains(t, page, tt.says, tt.name)
	}
	_, page := postSurvey(t, h, url.Values{"token": {good}, "comment": {strings.Repeat("é", survey.MaxComment+1)}}, "")
	require.Contains(t, page, `<li class="chosen" aria-current="true">8</li>`, "the form again")
	require.Contains(t, page, strings.Repeat("é", survey.MaxComment+1)+"</textarea>", "with the comment kept")
	require.Equal(t, before, surveyRows(t, h), "a refused answer recorded something")

	// The bound counts a line break as one character, as a browser's
	// maxlength does, though it sends CR LF.
	long := strings.Repeat("Line\r\n", survey.MaxComment/5)
	resp, page = postSurvey(t, h, url.Values{"token": {good}, "comment": {long}}, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Contains(t, page, "<h1>Thank you</h1>")
}

// A promoter's answer starts the published playbook triggered by promoters'
// answers, not the one triggered by detractors'.
func TestSurveyAnswerFiresItsCategorysPlaybook(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	st := store.New(h.pool)
	for key, category := range map[string]string{"promoter-thanks": survey.Promoter, "detractor-save": survey.Detractor} {
		def := fmt.Sprintf(`{"key":%q,"name":%q,"trigger":{"on":"survey_response","category":%q},"steps":[{"id":"s","at":"0d","check_health":{}}]}`,
			key, key, category)
		_, _, err := st.SeedPlaybook(context.Background(), store.NewPlaybookVersion{Key: key, Name: key,
			Definition: json.RawMessage(def), Source: def, SourceFormat: "json"})
		require.NoError(t, err)
	}
	email := surveyEmail(t, h, surveyRun(t, h), "nps", "pat@acme.test", survey.NPS)
	resp, page := postSurvey(t, h, url.Values{"token": {surveyToken(email, survey.NPS, 10)}}, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, page)

	var started []string
	for _, in := range h.temporal.startedInputs() {
		started = append(started, in.Definition.Key)
	}
	require.Contains(t, started, "promoter-thanks")
	require.NotContains(t, started, "detractor-save")
	r := h.do(t, "GET", "/v1/runs?account_id=acme&playbook=promoter-thanks", "")
	require.Equal(t, 200, r.status, r.raw)
	require.Len(t, r.body["items"], 1)
	var occasion string
	require.NoError(t, h.pool.QueryRow(context.Background(),
		`SELECT occasion FROM trigger_firings WHERE playbook_key = 'promoter-thanks'`).Scan(&occasion))
	require.Regexp(t, `^survey_response:promoter#event-\d+$`, occasion)
}

// The survey page fits a 360 px phone in a real browser, with its style
// under its policy, and answers with no script on the page: a comment
// typed, the button pressed, thanks.
func TestSurveyPageFitsAPhone(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	email := surveyEmail(t, h, surveyRun(t, h), "nps", "pat@acme.test", survey.NPS)
	target := h.srv.URL + survey.Path + "?token=" + url.QueryEscape(surveyToken(email, survey.NPS, 10))

	ctx := browsertest.New(t)
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		bounded, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(bounded, actions...), what)
	}
	const phone = 360
	check := func(name string) {
		t.Helper()
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](pageFits))
		require.NoError(t, err)
		require.Empty(t, problems, name)
		browsertest.Screenshot(ctx, t, "survey-"+name, phone)
	}
	heading := chromedp.CSS("main h1")
	do("open the link at a phone's width", chromedp.EmulateViewport(phone, 800), chromedp.Navigate(target), chromedp.WaitVisible(heading))
	check("ask")
	do("write a comment and send", chromedp.SendKeys(chromedp.CSS("#comment"), "Setup was quick."),
		chromedp.Click(chromedp.CSS("main button")), chromedp.WaitNotPresent(chromedp.CSS("main form")), chromedp.WaitVisible(heading))
	said, err := chromedp.Run(ctx, chromedp.Text(heading))
	require.NoError(t, err)
	require.Equal(t, "Thank you", said)
	check("thanks")
	var comment string
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT comment FROM survey_responses WHERE email_id = $1`, email).Scan(&comment))
	require.Equal(t, "Setup was quick.", comment)
}
