package console_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// designConsole is a console over a database the test reads whole, with
// the built-in playbooks, acme (a champion) and big (fifty champions), and
// an admin signed in.
type designConsole struct {
	pool  *pgxpool.Pool
	st    *store.Store
	admin *browser
	token string
}

func newDesignConsole(t *testing.T) *designConsole {
	t.Helper()
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	ctx := context.Background()
	_, _, err := st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: storetest.CSM, Name: "Casey", Level: "csm"})
	require.NoError(t, err)
	seedPlaybooks(t, storetest.Ladder{Store: st, AccountID: "acme"})
	big := store.UpsertAccount{ID: "big", Name: "Big", ARR: 150000, Segment: "enterprise", CSMEmail: storetest.CSM,
		Timezone: "UTC", LifecycleStage: "adoption", Status: "active"}
	for i := range 50 {
		big.Contacts = append(big.Contacts, store.UpsertContact{Email: fmt.Sprintf("c%d@big.test", i), Name: fmt.Sprintf("Champion %d", i), Role: "champion"})
	}
	_, _, err = st.UpsertAccount(ctx, big)
	require.NoError(t, err)
	srv, _ := workConsole(t, st)
	d := &designConsole{pool: pool, st: st, admin: signedIn(t, srv, adminKey)}
	_, html := d.admin.get("/console/")
	d.token = csrfOf(t, html)
	return d
}

// digest is every table's rows, as a digest per table
// (storetest.RowsDigest).
func (d *designConsole) digest(t *testing.T) map[string]string {
	t.Helper()
	return storetest.RowsDigest(t, d.pool)
}

// unchecked stores a JSON definition as the next version of its key as a
// version stored before a rule existed; published says whether to publish
// it. It returns the version.
func (d *designConsole) unchecked(t *testing.T, definition string, published bool) int {
	t.Helper()
	var def struct{ Key, Name string }
	require.NoError(t, json.Unmarshal([]byte(definition), &def))
	v, err := d.st.CreatePlaybookVersion(context.Background(), store.NewPlaybookVersion{Key: def.Key, Name: def.Name,
		Definition: json.RawMessage(definition), Source: definition, SourceFormat: "json"})
	require.NoError(t, err)
	if published {
		_, err = d.st.PublishPlaybookVersion(context.Background(), def.Key, v.Version)
		require.NoError(t, err)
	}
	return v.Version
}

// consoleRoute is a request a console page makes.
type consoleRoute struct {
	name, method, path string
	form               url.Values // a POST's fields, without csrf
	says               string     // what the page says, when not the error itself
}

func (d *designConsole) send(r consoleRoute) (*http.Response, string) {
	if r.method == "GET" {
		return d.admin.get(r.path)
	}
	form := url.Values{"csrf": {d.token}}
	for k, v := range r.form {
		form[k] = v
	}
	return d.admin.post(r.path, form)
}

// definitionRoutes are the console's routes that take, copy or publish a
// definition: key's editor checks and saves source as key's next draft;
// stored is a version of key stored unchecked.
func definitionRoutes(key string, stored int, source string) []consoleRoute {
	editor := fmt.Sprintf("/console/playbooks/%s/versions/%d", key, stored)
	return []consoleRoute{
		{"save a draft", "POST", editor, url.Values{"source": {source}}, ""},
		{"duplicate a stored version", "POST", "/console/playbooks/" + key + "/duplicate",
			url.Values{"version": {fmt.Sprint(stored)}, "new_key": {key + "-copy"}, "new_name": {"Copy"}}, ""},
		{"publish a stored draft", "POST", editor + "/publish", nil,
			"Not published: the version breaks 1 rule(s) of the language; open it in the editor to see them at their lines."},
	}
}

// The console takes the hostile printf formats of the issue as the API
// does: saving, copying or publishing a definition with one is a 422 that
// says which template part, nothing is stored, and the as-you-type check
// lists the same error.
func TestConsoleRefusesHostileTemplateFormats(t *testing.T) {
	d := newDesignConsole(t)
	formats := []struct{ action, message string }{
		{`{{printf "%10000000[1]d" 1}}`, `printf: the verb &#34;%10000000&#34; has a width of 10000000; widths and precisions may be at most 64`},
		{`{{printf "%.10000000f" 1.5}}`, `has a precision of 10000000`},
		{`{{printf "%*d" 100000000 1}}`, `takes its width from an argument (*)`},
		{`{{printf "%[1]*d" 100000000 1}}`, `takes its width from an argument (*)`},
		{`{{printf "%-99999s" .Account.Name}}`, `has a width of 99999`},
		{`{{$f := "%999999d"}}{{printf $f 1}}`, `printf takes its format as a quoted string`},
	}
	for i, f := range formats {
		key := fmt.Sprintf("hostile-%d", i)
		text, _ := json.Marshal(strings.Repeat(f.action, 20))
		source := fmt.Sprintf(`{"key":%q,"name":"Hostile","templates":[{"name":"t","subject":"s","html":"<p>x</p>","text":%s}],
			"steps":[{"id":"a","email":{"template":"t","to":["champion"]}}]}`, key, text)
		stored := d.unchecked(t, source, false)
		before := d.digest(t)
		for _, route := range definitionRoutes(key, stored, source) {
			t.Run(f.action+" "+route.name, func(t *testing.T) {
				resp, html := d.send(route)
				require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, html)
				require.Contains(t, html, cmp.Or(route.says, f.message))
			})
		}
		resp, body := d.send(consoleRoute{"check as you type", "POST", "/console/playbooks/" + key + "/validate", url.Values{"source": {source}}, ""})
		require.Equal(t, http.StatusOK, resp.StatusCode, "the editor's check answers its errors as JSON")
		require.Contains(t, body, `"valid":false`)
		require.Contains(t, body, `"path":"templates[0].text"`)
		// The version stored before the rule previews bounded: the run fails
		// at the email, and says why.
		began := time.Now()
		resp, html := d.send(consoleRoute{"preview", "GET", fmt.Sprintf("/console/playbooks/%s/versions/%d?account=acme", key, stored), nil, ""})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, html, "line 1 of the text: printf")
		require.Less(t, time.Since(began), 5*time.Second)
		require.Equal(t, before, d.digest(t), "nothing is stored or changed")
	}
}

// The console takes nested repeats as the API does: saving, copying or
// publishing is a 422 naming the repeat and the product, and every preview
// of a version stored before the rule (the editor's simulation, both
// timelines, the email frame) is a 422 saying why, without simulating it.
func TestConsoleRefusesNestedRepeats(t *testing.T) {
	d := newDesignConsole(t)
	start := url.QueryEscape(time.Now().UTC().Truncate(time.Minute).Format(time.RFC3339))
	tests := []struct{ name, steps, message string }{
		{"1,000 × 1,000", `[{"id":"outer","repeat":{"every":"1d","times":1000,"steps":[{"id":"inner","repeat":{"every":"1m","times":1000,"steps":[{"id":"w","wait":"1s"}]}}]}}]`,
			"runs 1000000 iterations in a run: its 1000, each of the 1000 of steps[0].repeat; nested repeats may run at most 10000 iterations in a run"},
		{"counted from until", `[{"id":"outer","repeat":{"every":"1d","until":"20d","steps":[{"id":"inner","repeat":{"every":"1s","until":"1000s","steps":[{"id":"e","email":{"template":"welcome","to":["champion"]}}]}}]}}]`,
			"runs 20000 iterations in a run: its 1000, each of the 20 of steps[0].repeat"},
	}
	for i, tt := range tests {
		key := fmt.Sprintf("nested-%d", i)
		source := fmt.Sprintf(`{"key":%q,"name":"Nested","steps":%s}`, key, tt.steps)
		stored := d.unchecked(t, source, false)
		before := d.digest(t)
		editor := fmt.Sprintf("/console/playbooks/%s/versions/%d", key, stored)
		routes := append(definitionRoutes(key, stored, source),
			consoleRoute{"preview for an account", "GET", editor + "?account=acme", nil, ""},
			consoleRoute{"a segment's timeline", "GET", editor + "/timeline.svg?segment=smb", nil, ""},
			consoleRoute{"an account's timeline", "GET", editor + "/timeline.svg?account=acme", nil, ""},
			consoleRoute{"the email frame", "GET", editor + "/email?account=acme&start=" + start + "&entry=0&to=pat@acme.test", nil, ""},
		)
		for _, route := range routes {
			t.Run(tt.name+" "+route.name, func(t *testing.T) {
				began := time.Now()
				resp, html := d.send(route)
				require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, html)
				require.Contains(t, html, cmp.Or(route.says, tt.message))
				require.Less(t, time.Since(began), 5*time.Second)
			})
		}
		resp, body := d.send(consoleRoute{"check as you type", "POST", "/console/playbooks/" + key + "/validate", url.Values{"source": {source}}, ""})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, `"valid":false`)
		require.Contains(t, body, tt.message)
		require.Equal(t, before, d.digest(t), "nothing is stored or changed")
	}
}

// A preview within the limits that would render more than a simulation
// keeps (emails to fifty champions, again and again) stops at its budget:
// the editor page, the account's timeline and the email frame are 422s
// saying which bound, and nothing is written.
func TestConsolePreviewStopsAtItsBudget(t *testing.T) {
	d := newDesignConsole(t)
	var emails []string
	for i := range 9 {
		emails = append(emails, fmt.Sprintf(`{"id":"e%d","email":{"template":"welcome","to":["champion"]}}`, i))
	}
	source := `{"key":"chatty","name":"Chatty","steps":[{"id":"r","repeat":{"every":"1h","times":999,"steps":[` + strings.Join(emails, ",") + `]}}]}`
	draftOf(t, d.st, source)
	before := d.digest(t)
	start := url.QueryEscape(time.Now().UTC().Truncate(time.Minute).Format(time.RFC3339))
	spent := `(its emails reached 32 MiB, the most a simulation renders|it ran for 10s, the longest a simulation may run); simulate a shorter playbook, or fewer repeats`
	for _, route := range []consoleRoute{
		{"preview for an account", "GET", "/console/playbooks/chatty/versions/1?account=big", nil, ""},
		{"the account's timeline", "GET", "/console/playbooks/chatty/versions/1/timeline.svg?account=big", nil, ""},
		{"the email frame", "GET", "/console/playbooks/chatty/versions/1/email?account=big&start=" + start + "&entry=0&to=c0@big.test", nil, ""},
	} {
		t.Run(route.name, func(t *testing.T) {
			began := time.Now()
			resp, html := d.send(route)
			require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
			require.Regexp(t, `The simulation was stopped: `+spent, html)
			t.Logf("stopped at its budget in %v", time.Since(began))
		})
	}
	require.Equal(t, before, d.digest(t), "nothing is stored or changed")
}
