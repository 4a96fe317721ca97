package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// rowsDigest is every table's rows, as a digest per table
// (storetest.RowsDigest).
func rowsDigest(t *testing.T, h *harness) map[string]string {
	t.Helper()
	return storetest.RowsDigest(t, h.pool)
}

// storeUnchecked stores a JSON definition as the next version of its key
// without validation, as a version stored before a rule existed;
// published says whether to publish it.
func storeUnchecked(t *testing.T, h *harness, definition string, published bool) (key string, version int) {
	t.Helper()
	var def struct{ Key, Name string }
	require.NoError(t, json.Unmarshal([]byte(definition), &def))
	st := store.New(h.pool)
	v, err := st.CreatePlaybookVersion(context.Background(), store.NewPlaybookVersion{Key: def.Key, Name: def.Name,
		Definition: json.RawMessage(definition), Source: definition, SourceFormat: "json"})
	require.NoError(t, err)
	if published {
		_, err = st.PublishPlaybookVersion(context.Background(), def.Key, v.Version)
		require.NoError(t, err)
	}
	return def.Key, v.Version
}

// ownTextTemplate is a definition emailing its own template whose text is
// action; key names it.
func ownTextTemplate(key, action string) string {
	part, _ := json.Marshal(action)
	return fmt.Sprintf(`{"key":%q,"name":"Hostile","templates":[{"name":"t","subject":"s","html":"<p>x</p>","text":%s}],
		"steps":[{"id":"a","email":{"template":"t","to":["champion"]}}]}`, key, part)
}

// Class 2 of the issue: a 300-byte definition whose printf builds
// gigabytes. Every route that takes or re-checks a definition refuses
// each hostile format with a 422 naming the template part, and nothing
// changes; the simulation of a version stored before the rule renders it
// bounded, in no time, and shows why the email cannot go.
func TestHostileTemplateFormatsAreRefusedEverywhere(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	formats := []struct{ action, message string }{
		{`{{printf "%10000000[1]d" 1}}`, `printf: the verb "%10000000" has a width of 10000000; widths and precisions may be at most 64`},
		{`{{printf "%.10000000f" 1.5}}`, `printf: the verb "%.10000000" has a precision of 10000000`},
		{`{{printf "%*d" 100000000 1}}`, `printf: the verb "%*" takes its width from an argument (*)`},
		{`{{printf "%[1]*d" 100000000 1}}`, `printf: the verb "%[1]*" takes its width from an argument (*)`},
		{`{{printf "%-99999s" .Account.Name}}`, `printf: the verb "%-99999" has a width of 99999`},
		{`{{$f := "%999999d"}}{{printf $f 1}}`, `printf takes its format as a quoted string such as "%.0f", not $f`},
	}
	for i, f := range formats {
		source := ownTextTemplate(fmt.Sprintf("hostile-%d", i), strings.Repeat(f.action, 20))
		stored, version := storeUnchecked(t, h, ownTextTemplate(fmt.Sprintf("stored-%d", i), strings.Repeat(f.action, 20)), false)
		before := rowsDigest(t, h)
		routes := []struct{ name, method, path, contentType, body string }{
			{"validate", "POST", "/v1/playbooks/validate", "application/json", source},
			{"create", "POST", "/v1/playbooks", "application/json", source},
			{"publish a stored draft", "POST", fmt.Sprintf("/v1/playbooks/%s/versions/%d/publish", stored, version), "", ""},
			{"duplicate a stored version", "POST", "/v1/playbooks/" + stored + "/duplicate", "application/json",
				fmt.Sprintf(`{"version":%d,"key":"copy-%d","name":"Copy"}`, version, i)},
		}
		for _, route := range routes {
			t.Run(fmt.Sprintf("%s %s", f.action, route.name), func(t *testing.T) {
				r := h.send(t, route.method, route.path, route.contentType, route.body)
				require.Equal(t, 422, r.status, r.raw)
				requireMessage(t, r, "templates[0].text", `template "t", line 1 of the text: `+f.message)
			})
		}
		require.Equal(t, before, rowsDigest(t, h), "a refused definition changes nothing")

		// A version stored before the rule renders bounded where it is simulated.
		for _, req := range []struct{ method, path, body string }{
			{"POST", "/v1/playbooks/" + stored + "/simulate", fmt.Sprintf(`{"version":%d,"account_id":"acme"}`, version)},
			{"GET", fmt.Sprintf("/v1/playbooks/%s/timeline.svg?version=%d&account_id=acme", stored, version), ""},
		} {
			var r response
			took, allocated := costOf(func() { r = h.do(t, req.method, req.path, req.body) })
			require.Equal(t, 200, r.status, r.raw)
			require.Contains(t, r.raw, "line 1 of the text: printf", "the timeline says why the email cannot go")
			require.Less(t, took, 5*time.Second)
			require.Less(t, allocated, uint64(256<<20), "the issue's 20 verbs took 650 MiB")
			if i == 0 {
				t.Logf("%s %s on a stored hostile template: %v, %d KiB allocated", req.method, req.path, took, allocated>>10)
			}
		}
		require.Equal(t, before, rowsDigest(t, h), "a simulation writes nothing")
	}
}

// requireMessage wants an error at field whose message has want in it.
func requireMessage(t *testing.T, r response, field, want string) {
	t.Helper()
	for _, m := range messagesOf(r.body) {
		if strings.HasPrefix(m, field+": ") && strings.Contains(m, want) {
			return
		}
	}
	t.Fatalf("no error at %s saying %q: %s", field, want, r.raw)
}

// costOf runs f and says how long it took and what the process allocated
// meanwhile (the test server's handlers included).
func costOf(f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc
}

// nestedRepeats are definitions whose repeats multiply past the limits.
var nestedRepeats = []struct{ name, steps, field, message string }{
	{"1,000 × 1,000", `[{"id":"outer","repeat":{"every":"1d","times":1000,"steps":[{"id":"inner","repeat":{"every":"1m","times":1000,"steps":[{"id":"w","wait":"1s"}]}}]}}]`,
		"steps[0].repeat.steps[0].repeat", "runs 1000000 iterations in a run: its 1000, each of the 1000 of steps[0].repeat; nested repeats may run at most 10000 iterations in a run"},
	{"counted from until", `[{"id":"outer","repeat":{"every":"1d","until":"20d","steps":[{"id":"inner","repeat":{"every":"1s","until":"1000s","steps":[{"id":"w","wait":"1s"}]}}]}}]`,
		"steps[0].repeat.steps[0].repeat", "runs 20000 iterations in a run: its 1000, each of the 20 of steps[0].repeat"},
	{"three levels", `[{"id":"a","repeat":{"every":"30d","times":10,"steps":[{"id":"b","repeat":{"every":"1d","times":100,"steps":[{"id":"c","repeat":{"every":"1h","times":11,"steps":[{"id":"w","wait":"1s"}]}}]}}]}}]`,
		"steps[0].repeat.steps[0].repeat.steps[0].repeat", "runs 11000 iterations in a run: its 11, each of the 100 of steps[0].repeat.steps[0].repeat, each of the 10 of steps[0].repeat"},
	{"many steps repeated", `[{"id":"r","repeat":{"every":"1d","times":1000,"steps":[` + taskSteps(11) + `]}}]`,
		"steps", "a run would go through 11001 steps (steps[0].repeat runs 11000 of them)"},
}

// taskSteps lists n task steps, as JSON.
func taskSteps(n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"id":"t%d","task":{"title":"Call","assignee":"csm"}}`, i)
	}
	return strings.Join(out, ",")
}

// Class 3 of the issue: nested repeats multiply past every limit. Every
// route that takes, publishes, runs or simulates a definition refuses each
// with a 422 saying where and by how much, and nothing changes; a version
// stored before the rule is refused by runs and simulations alike.
func TestNestedRepeatsAreRefusedEverywhere(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	for i, tt := range nestedRepeats {
		source := fmt.Sprintf(`{"key":"nested-%d","name":"Nested","steps":%s}`, i, tt.steps)
		draft, draftVersion := storeUnchecked(t, h, fmt.Sprintf(`{"key":"draft-%d","name":"Draft","steps":%s}`, i, tt.steps), false)
		live, _ := storeUnchecked(t, h, fmt.Sprintf(`{"key":"live-%d","name":"Live","steps":%s}`, i, tt.steps), true)
		before := rowsDigest(t, h)
		started := len(h.temporal.startedInputs())
		overLimits := "cannot be simulated: the playbook version is over the definition limits: " + tt.field + ": " + tt.message
		routes := []struct{ name, method, path, contentType, body, field, message string }{
			{"validate", "POST", "/v1/playbooks/validate", "application/json", source, tt.field, tt.message},
			{"create", "POST", "/v1/playbooks", "application/json", source, tt.field, tt.message},
			{"publish a stored draft", "POST", fmt.Sprintf("/v1/playbooks/%s/versions/%d/publish", draft, draftVersion), "", "", tt.field, tt.message},
			{"duplicate a stored version", "POST", "/v1/playbooks/" + live + "/duplicate", "application/json",
				fmt.Sprintf(`{"key":"copy-%d","name":"Copy"}`, i), tt.field, tt.message},
			{"start a run", "POST", "/v1/runs", "application/json", fmt.Sprintf(`{"playbook":%q,"account_id":"acme"}`, live),
				"playbook", tt.field + ": " + tt.message},
			{"simulate a stored account", "POST", "/v1/playbooks/" + live + "/simulate", "application/json", `{"account_id":"acme"}`,
				"version", overLimits},
			{"simulate a made-up account", "POST", "/v1/playbooks/" + draft + "/simulate", "application/json",
				fmt.Sprintf(`{"version":%d,"account":{"segment":"smb"}}`, draftVersion), "version", overLimits},
			{"draw a segment's timeline", "GET", "/v1/playbooks/" + live + "/timeline.svg?segment=smb", "", "", "version", overLimits},
			{"draw an account's timeline", "GET", fmt.Sprintf("/v1/playbooks/%s/timeline.svg?version=%d&account_id=acme", draft, draftVersion), "", "",
				"version", overLimits},
		}
		for _, route := range routes {
			t.Run(tt.name+" "+route.name, func(t *testing.T) {
				var r response
				took, allocated := costOf(func() { r = h.send(t, route.method, route.path, route.contentType, route.body) })
				require.Equal(t, 422, r.status, r.raw)
				requireMessage(t, r, route.field, route.message)
				require.Less(t, took, 5*time.Second)
				if i == 0 {
					t.Logf("%s: refused in %v, %d KiB allocated", route.name, took, allocated>>10)
				}
			})
		}
		require.Equal(t, before, rowsDigest(t, h), "nothing is stored or changed")
		require.Len(t, h.temporal.startedInputs(), started, "no workflow is started")
	}
}

// A simulation within the limits that would still render more than a
// simulation keeps (a repeat of emails to fifty champions) stops at its
// budget with a 422 saying which bound it spent, and writes nothing.
func TestSimulationOverItsBudgetIsA422(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	var contacts []string
	for i := range 50 {
		contacts = append(contacts, fmt.Sprintf(`{"email":"c%d@big.test","name":"Champion %d","role":"champion"}`, i, i))
	}
	var emails []string
	for i := range 9 {
		emails = append(emails, fmt.Sprintf(`{"id":"e%d","email":{"template":"welcome","to":["champion"]}}`, i))
	}
	source := `{"key":"chatty","name":"Chatty","steps":[{"id":"r","repeat":{"every":"1h","times":999,"steps":[` + strings.Join(emails, ",") + `]}}]}`
	r := h.send(t, "POST", "/v1/playbooks", "application/json", source)
	require.Equal(t, 201, r.status, r.raw)
	before := rowsDigest(t, h)
	var took time.Duration
	var allocated uint64
	took, allocated = costOf(func() {
		r = h.do(t, "POST", "/v1/playbooks/chatty/simulate", `{"version":1,"account":{"segment":"smb","contacts":[`+strings.Join(contacts, ",")+`]}}`)
	})
	require.Equal(t, 422, r.status, r.raw)
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	require.Regexp(t, `^the simulation was stopped: (its emails reached 32 MiB, the most a simulation renders|it ran for 10s, the longest a simulation may run); simulate a shorter playbook, or fewer repeats$`,
		r.body["detail"])
	require.Equal(t, before, rowsDigest(t, h))
	t.Logf("stopped at its budget in %v, %d MiB allocated: %s", took, allocated>>20, r.body["detail"])
}
