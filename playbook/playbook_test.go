package playbook

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/internal/netguard"
)

var opts = Options{BuiltinTemplates: []string{"welcome", "qbr-invite"}}

func TestProductExampleParses(t *testing.T) {
	src, err := os.ReadFile("testdata/product-example.yaml")
	require.NoError(t, err)
	def, err := Parse(src, opts)
	require.NoError(t, err)
	require.Equal(t, "onboarding", def.Key)
	require.Len(t, def.Steps, 8)
	require.Equal(t, KindWaitFor, def.Steps[2].Kind())
	require.Equal(t, 7*Day, def.Steps[2].WaitFor.Within.Std())
	require.Equal(t, KindTask, def.Steps[2].OnTimeout[0].Kind())
	require.Equal(t, 89*Day, def.Steps[3].At.Std())
	require.Equal(t, KindCheckHealth, def.Steps[4].Kind())
	require.Equal(t, 50.0, *def.Steps[5].If.HealthScore.Lt)
	require.Equal(t, []string{"red-recovery"}, def.StartedKeys())

	// The JSON form of the same definition parses to the same thing.
	asJSON, err := json.Marshal(def)
	require.NoError(t, err)
	again, err := Parse(asJSON, opts)
	require.NoError(t, err)
	require.Equal(t, def, again)
}

func TestParseReportsPathAndExpectation(t *testing.T) {
	base := "key: k\nname: K\nsteps:\n"
	tests := []struct {
		name, src, path, message string
	}{
		{"unknown role in approval", base + "  - id: a\n    approval: {assignee: cms, email: {template: welcome, to: [champion]}}\n",
			"steps[0].approval.assignee", `unknown role "cms"`},
		{"unknown field", base + "  - id: a\n    wait: 1d\n    colour: red\n", "steps[0].colour", "unknown field"},
		{"bad duration", base + "  - id: a\n    wait: 3 days\n", "steps[0].wait", "not a duration"},
		{"duration not string", base + "  - id: a\n    wait: 3\n", "steps[0].wait", "must be a string"},
		{"duplicate ids", base + "  - id: a\n    wait: 1d\n  - id: a\n    wait: 1d\n", "steps[1].id", `duplicate step id "a"`},
		{"nested duplicate", base + "  - id: a\n    if: {segment: smb}\n    then: [{id: a, wait: 1d}]\n", "steps[0].then[0].id", "duplicate"},
		{"unknown template", base + "  - id: a\n    email: {template: nope, to: champion}\n", "steps[0].email.template", `unknown template "nope"`},
		{"unknown contact role", base + "  - id: a\n    email: {template: welcome, to: [boss]}\n", "steps[0].email.to[0]", `unknown role "boss"`},
		{"at out of order", base + "  - id: a\n    at: 5d\n    wait: 1d\n  - id: b\n    at: 2d\n    wait: 1d\n", "steps[1].at", "earlier than steps[0].at"},
		{"negative at without date anchor", base + "  - id: a\n    at: -3d\n    wait: 1d\n", "steps[0].at", "negative"},
		{"nested at", base + "  - id: a\n    if: {segment: smb}\n    then: [{id: b, at: 1d, wait: 1d}]\n", "steps[0].then[0].at", "only top-level"},
		{"no action", base + "  - id: a\n", "steps[0]", "has no action"},
		{"two actions", base + "  - id: a\n    wait: 1d\n    task: {title: T, assignee: csm}\n", "steps[0]", "several actions"},
		{"bad segment in condition", base + "  - id: a\n    when: {segment: [huge]}\n    wait: 1d\n", "steps[0].when.segment[0]", "must be one of"},
		{"score out of range", base + "  - id: a\n    if: {health_score: {lt: 500}}\n    then: [{id: b, wait: 1d}]\n", "steps[0].if.health_score.lt", "between 0 and 100"},
		{"empty condition", base + "  - id: a\n    when: {}\n    wait: 1d\n", "steps[0].when", "empty condition"},
		{"repeat without end", base + "  - id: a\n    repeat: {every: 1d, steps: [{id: b, wait: 1h}]}\n", "steps[0].repeat", "until"},
		{"on_timeout without within", base + "  - id: a\n    wait_for: {event: first_login}\n    on_timeout: [{id: b, wait: 1d}]\n", "steps[0].on_timeout", "within"},
		{"self start", base + "  - id: a\n    start_playbook: {key: k}\n", "steps[0].start_playbook.key", "cannot start itself"},
		{"bad key", "key: Big Key\nname: K\nsteps: [{id: a, wait: 1d}]\n", "key", "lower-case"},
		{"missing steps", "key: k\nname: K\n", "steps", "at least one step"},
		{"bad send window", "key: k\nname: K\nsend_window: {start: '17:00', end: '09:00'}\nsteps: [{id: a, wait: 1d}]\n", "send_window.end", "after start"},
		{"trigger needs band", "key: k\nname: K\ntrigger: {on: health_band}\nsteps: [{id: a, wait: 1d}]\n", "trigger.to", "health_band"},
		{"stage trigger needs to", "key: k\nname: K\ntrigger: {on: stage_changed}\nsteps: [{id: a, wait: 1d}]\n", "trigger.to", "required with on: stage_changed"},
		{"stage trigger from itself", "key: k\nname: K\ntrigger: {on: stage_changed, from: adoption, to: adoption}\nsteps: [{id: a, wait: 1d}]\n", "trigger.from", "same stage"},
		{"from only with stage", "key: k\nname: K\ntrigger: {on: health_band, to: red, from: yellow}\nsteps: [{id: a, wait: 1d}]\n", "trigger.from", "only with on: stage_changed"},
		{"event trigger needs event", "key: k\nname: K\ntrigger: {on: event}\nsteps: [{id: a, wait: 1d}]\n", "trigger.event", "required with on: event"},
		{"event trigger bad name", "key: k\nname: K\ntrigger: {on: event, event: Champion Left}\nsteps: [{id: a, wait: 1d}]\n", "trigger.event", "lower-case"},
		{"event only with event", "key: k\nname: K\ntrigger: {on: account_created, event: x}\nsteps: [{id: a, wait: 1d}]\n", "trigger.event", "only with on: event"},
		{"to not with event", "key: k\nname: K\ntrigger: {on: event, event: x, to: adoption}\nsteps: [{id: a, wait: 1d}]\n", "trigger.to", "only with on: health_band or stage_changed"},
		{"schedule needs every", "key: k\nname: K\ntrigger: {on: schedule}\nsteps: [{id: a, wait: 1d}]\n", "trigger.every", "required with on: schedule"},
		{"schedule every not a duration", "key: k\nname: K\ntrigger: {on: schedule, every: quarterly}\nsteps: [{id: a, wait: 1d}]\n", "trigger.every", "not a duration"},
		{"schedule every in hours", "key: k\nname: K\ntrigger: {on: schedule, every: 36h}\nsteps: [{id: a, wait: 1d}]\n", "trigger.every", "36h is not whole days"},
		{"schedule every too short", "key: k\nname: K\ntrigger: {on: schedule, every: 6d}\nsteps: [{id: a, wait: 1d}]\n", "trigger.every", "6d is out of range: the cadence is whole days or weeks from 7d to 366d"},
		{"schedule every too long", "key: k\nname: K\ntrigger: {on: schedule, every: 53w}\nsteps: [{id: a, wait: 1d}]\n", "trigger.every", "53w is out of range"},
		{"schedule every negative", "key: k\nname: K\ntrigger: {on: schedule, every: -13w}\nsteps: [{id: a, wait: 1d}]\n", "trigger.every", "out of range"},
		{"schedule unknown anchor", "key: k\nname: K\ntrigger: {on: schedule, every: 13w, anchor: renewal_date}\nsteps: [{id: a, wait: 1d}]\n", "trigger.anchor", `unknown value "renewal_date"; one of contract_start, created`},
		{"every only with schedule", "key: k\nname: K\ntrigger: {on: account_created, every: 13w}\nsteps: [{id: a, wait: 1d}]\n", "trigger.every", "only with on: schedule"},
		{"trigger anchor only with schedule", "key: k\nname: K\ntrigger: {on: expansion, anchor: created}\nsteps: [{id: a, wait: 1d}]\n", "trigger.anchor", "only with on: schedule"},
		{"schedule runs count from their start", "key: k\nname: K\nanchor: contract_start\ntrigger: {on: schedule, every: 13w}\nsteps: [{id: a, wait: 1d}]\n", "anchor", "leave anchor out"},
		{"renewal trigger needs anchor", "key: k\nname: K\ntrigger: {on: renewal_window, days_before: 120}\nsteps: [{id: a, wait: 1d}]\n", "anchor", "renewal_date"},
		{"own template bad syntax", "key: k\nname: K\ntemplates: [{name: t, subject: '{{.Oops', html: x, text: y}]\nsteps: [{id: a, email: {template: t, to: champion}}]\n", "templates[0].subject", "not a valid Go template"},
		{"notify url", base + "  - id: a\n    notify: {url: 'ftp://x', message: hi}\n", "steps[0].notify.url", "https"},
		{"not a mapping", "- 1\n- 2\n", "", "must be a mapping"},
		{"syntax error", "key: [\n", "", "not valid YAML or JSON"},
		{"empty", "", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { requireErrorAt(t, tt.src, tt.path, tt.message) })
	}
}

// TestNotifyURLs: a published notify step must not make the worker post to
// this host, its network or the cloud's metadata service.
func TestNotifyURLs(t *testing.T) {
	dev := Options{Webhooks: netguard.Policy{AllowHTTP: true, AllowLoopback: true}}
	tests := []struct {
		url  string
		opts Options
		why  string // empty: accepted
	}{
		{url: "https://hooks.example.com/services/T0/B0/x"},
		{url: "https://hooks.example.com:8443/x"},
		{url: "https://Hooks.Example.COM./x"},
		{url: "https://93.184.216.34/hook"},
		{url: "https://[2606:4700::1111]/hook"},
		{url: "http://127.0.0.1:8080/hook", opts: dev},
		{url: "http://localhost:9000/hook", opts: dev},
		{url: "http://[::1]:9000/hook", opts: dev},
		{url: "http://hooks.example.com/x", opts: dev},

		{url: "http://hooks.example.com/x", why: "plain http is not allowed"},
		{url: "ftp://hooks.example.com/x", why: "got scheme ftp"},
		{url: "hooks.example.com/x", why: "absolute URL with a host"},
		{url: "https:///x", why: "absolute URL with a host"},
		{url: "https://user:pw@hooks.example.com/x", why: "user name or password"},
		{url: "https://hooks.example.com@127.0.0.1/x", why: "user name or password"},
		// A URL that is a credential belongs in a named secret, whatever else is wrong with it.
		{url: "https://hooks.slack.com/services/T0/B0/x", why: "carries a credential"},
		{url: "http://hooks.slack.com/x", why: "carries a credential"},
		{url: "https://127.0.0.1:8080/v1/keys", why: "127.0.0.1 is a loopback address"},
		{url: "https://127.9.9.9/", why: "loopback address"},
		{url: "https://[::1]/", why: "::1 is a loopback address"},
		{url: "https://localhost/", why: "localhost is a loopback name"},
		{url: "https://LOCALHOST./", why: "loopback name"},
		{url: "https://api.localhost/", why: "loopback name"},
		{url: "https://10.1.2.3/", why: "private address (RFC 1918)"},
		{url: "https://172.16.0.1/", why: "private address (RFC 1918)"},
		{url: "https://192.168.1.1/", why: "private address (RFC 1918)"},
		{url: "https://[fd12:3456::1]/", why: "private address (RFC 4193)"},
		{url: "https://169.254.169.254/latest/meta-data/", why: "cloud metadata address"},
		{url: "https://[fd00:ec2::254]/", why: "cloud metadata address"},
		{url: "https://metadata.google.internal/computeMetadata/v1/", why: "cloud metadata name"},
		{url: "https://vault.corp.internal/", why: "private-use name"},
		{url: "https://169.254.10.1/", why: "link-local address"},
		{url: "https://[fe80::1%25eth0]/", why: "link-local address"},
		{url: "https://0.0.0.0:8080/", why: "unspecified address"},
		{url: "https://[::]:8080/", why: "unspecified address"},
		{url: "https://100.64.0.1/", why: "carrier-grade NAT"},
		{url: "https://[::ffff:127.0.0.1]/", why: "loopback address"},
		{url: "https://[::ffff:a9fe:a9fe]/", why: "cloud metadata address"},
		{url: "https://[::ffff:10.0.0.1]/", why: "RFC 1918"},
		{url: "https://[64:ff9b::a00:1]/", why: "RFC 1918) in IPv6 form"},
		{url: "https://2130706433/", why: "unusual spelling"},
		{url: "https://0177.0.0.1/", why: "unusual spelling"},
		{url: "https://0x7f.1/", why: "unusual spelling"},
		{url: "https://127.1/", why: "unusual spelling"},
		{url: "https://239.1.1.1/", why: "multicast"},
		// The development setting opens loopback and http, nothing else.
		{url: "http://10.0.0.1/", opts: dev, why: "RFC 1918"},
		{url: "http://169.254.169.254/", opts: dev, why: "cloud metadata address"},
		{url: "http://[::ffff:192.168.0.1]/", opts: dev, why: "RFC 1918"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			src := fmt.Sprintf("key: k\nname: K\nsteps:\n  - id: a\n    notify: {url: %q, message: hi}\n", tt.url)
			_, err := Parse([]byte(src), tt.opts)
			if tt.why == "" {
				require.NoError(t, err)
				return
			}
			var errs Errors
			require.True(t, errors.As(err, &errs), "want Errors, got %v", err)
			require.Len(t, errs, 1)
			require.Equal(t, "steps[0].notify.url", errs[0].Path)
			require.Contains(t, errs[0].Message, tt.why)
		})
	}
}

// requireErrorAt parses src and wants an error at path whose message
// contains message.
func requireErrorAt(t *testing.T, src, path, message string) {
	t.Helper()
	_, err := Parse([]byte(src), opts)
	var errs Errors
	require.True(t, errors.As(err, &errs), "want Errors, got %v", err)
	for _, e := range errs {
		if e.Path == path && strings.Contains(e.Message, message) {
			return
		}
	}
	t.Fatalf("no error at %q containing %q in:\n%.2000v", path, message, err)
}

func TestParseReportsEveryErrorAtOnce(t *testing.T) {
	src := `
key: k
name: K
bogus: 1
steps:
  - id: a
    task: {title: T, assignee: cms, priority: asap}
  - id: b
    wait: forever
  - id: a
    email: {template: nope, to: [boss]}
`
	_, err := Parse([]byte(src), opts)
	var errs Errors
	require.True(t, errors.As(err, &errs))
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path)
	}
	require.ElementsMatch(t, []string{
		"bogus", "steps[0].task.assignee", "steps[0].task.priority", "steps[1].wait",
		"steps[2].id", "steps[2].email.template", "steps[2].email.to[0]",
	}, paths)
	require.Contains(t, err.Error(), "bogus (line 4): unknown field")
}

func TestDurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true},
		{"15m", 15 * time.Minute, true},
		{"4h", 4 * time.Hour, true},
		{"3d", 3 * Day, true},
		{"2w", 2 * Week, true},
		{"-120d", -120 * Day, true},
		{"0d", 0, true},
		{"1d12h", 36 * time.Hour, true},
		{"89d4h", 89*Day + 4*time.Hour, true},
		{"2w3d", 17 * Day, true},
		{"12h1d", 0, false},
		{"1d1d", 0, false},
		{"1.5d", 0, false},
		{"d", 0, false},
		{"3 d", 0, false},
		{"3y", 0, false},
		{"", 0, false},
		{"99999999999999999999d", 0, false},
		{"4000d", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got.Std() != tt.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok {
			back, err := ParseDuration(got.String())
			require.NoError(t, err)
			require.Equal(t, got, back, "round trip of %q via %q", tt.in, got.String())
		}
	}
}

func TestConditions(t *testing.T) {
	score := func(v float64) *float64 { return &v }
	yes := true
	facts := Facts{
		Segment: "smb", AccountStatus: "active", HealthScore: score(42), HealthBand: "red",
		Fields:        map[string]any{"seats_used_pct": 90, "plan": "pro"},
		EventReceived: func(name string) bool { return name == "first_login" },
	}
	tests := []struct {
		name string
		c    Condition
		want bool
	}{
		{"segment in", Condition{Segment: []string{"smb", "mid_market"}}, true},
		{"segment out", Condition{Segment: []string{"enterprise"}}, false},
		{"band", Condition{HealthBand: []string{"red"}}, true},
		{"score lt", Condition{HealthScore: &Compare{Lt: score(50)}}, true},
		{"score gte", Condition{HealthScore: &Compare{Gte: score(50)}}, false},
		{"field gt", Condition{Field: &FieldCondition{Name: "seats_used_pct", Compare: Compare{Gt: score(85)}}}, true},
		{"field eq string", Condition{Field: &FieldCondition{Name: "plan", Eq: "pro"}}, true},
		{"field eq number across types", Condition{Field: &FieldCondition{Name: "seats_used_pct", Eq: 90.0}}, true},
		{"field in", Condition{Field: &FieldCondition{Name: "plan", In: []any{"basic", "pro"}}}, true},
		{"field missing", Condition{Field: &FieldCondition{Name: "nope", Exists: &yes}}, false},
		{"event received", Condition{EventReceived: "first_login"}, true},
		{"event not received", Condition{EventReceived: "contract_signed"}, false},
		{"status", Condition{AccountStatus: "churned"}, false},
		{"all", Condition{All: []Condition{{Segment: []string{"smb"}}, {HealthBand: []string{"red"}}}}, true},
		{"any", Condition{Any: []Condition{{Segment: []string{"enterprise"}}, {HealthBand: []string{"red"}}}}, true},
		{"not", Condition{Not: &Condition{HealthBand: []string{"green"}}}, true},
		{"keys are and-ed", Condition{Segment: []string{"smb"}, HealthBand: []string{"green"}}, false},
	}
	for _, tt := range tests {
		if got := tt.c.Holds(facts); got != tt.want {
			t.Errorf("%s: Holds = %v, want %v", tt.name, got, tt.want)
		}
	}
	noHealth := Facts{Segment: "smb"}
	require.False(t, (&Condition{HealthScore: &Compare{Lt: score(50)}}).Holds(noHealth), "unknown health is not low health")
}

func TestCheckStarts(t *testing.T) {
	def := &Definition{Key: "a", Steps: []Step{{ID: "s", StartPlaybook: &StartPlaybook{Key: "b"}}}}
	require.NoError(t, CheckStarts(def, map[string][]string{"b": nil}))
	require.ErrorContains(t, CheckStarts(def, map[string][]string{"b": {"c"}, "c": {"a"}}), "a → b → c → a")
	require.ErrorContains(t, CheckStarts(def, map[string][]string{}), `unknown playbook "b"`)
}

func TestAliasBombIsRefused(t *testing.T) {
	// Each level holds ten aliases of the one below: 10^6 conditions if expanded.
	levels := []string{"&c0 {segment: [smb]}"}
	for i := 1; i <= 6; i++ {
		levels = append(levels, fmt.Sprintf("&c%d {all: [%s]}", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*c%d,", i-1), 10), ",")))
	}
	src := "key: k\nname: K\nexit:\n  - when: {any: [" + strings.Join(levels, ", ") + "]}\n    outcome: x\nsteps: [{id: a, wait: 1d}]\n"
	_, err := Parse([]byte(src), opts)
	require.ErrorContains(t, err, "once its aliases are expanded, the definition is larger than the limit of 262144 bytes")
}

func TestSchemaCoversEveryField(t *testing.T) {
	s := Schema()
	defs := s["$defs"].(map[string]any)
	step := defs["Step"].(map[string]any)
	props := step["properties"].(map[string]any)
	for _, f := range fieldNames(reflect.TypeOf(Step{})) {
		require.Contains(t, props, f)
	}
	require.Equal(t, false, step["additionalProperties"])
	task := defs["TaskAction"].(map[string]any)["properties"].(map[string]any)
	require.Equal(t, accounts.Levels, task["assignee"].(map[string]any)["enum"])
	// not refers to a condition (with its description, which a $ref may carry in 2020-12).
	require.Equal(t, "#/$defs/Condition", defs["Condition"].(map[string]any)["properties"].(map[string]any)["not"].(map[string]any)["$ref"])
	_, err := json.Marshal(s)
	require.NoError(t, err)
}

func TestSendWindowNextOpen(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	w := &SendWindow{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		require.NoError(t, err)
		return v
	}
	tests := []struct{ now, want string }{
		{"2026-01-05 10:30", "2026-01-05 10:30"}, // Monday, inside
		{"2026-01-05 07:00", "2026-01-05 09:00"}, // before opening
		{"2026-01-05 17:00", "2026-01-06 09:00"}, // closing time is closed
		{"2026-01-09 18:00", "2026-01-12 09:00"}, // Friday evening → Monday
		{"2026-01-10 12:00", "2026-01-12 09:00"}, // Saturday
		{"2026-03-27 20:00", "2026-03-30 09:00"}, // over the DST change (29 March)
	}
	for _, tt := range tests {
		got := w.NextOpen(at(tt.now), berlin)
		require.True(t, got.Equal(at(tt.want)), "%s: got %s, want %s", tt.now, got.In(berlin), tt.want)
	}
	require.True(t, (*SendWindow)(nil).NextOpen(at("2026-01-10 03:00"), berlin).Equal(at("2026-01-10 03:00")))
	everyDay := &SendWindow{Start: "08:00", End: "20:00"}
	require.True(t, everyDay.NextOpen(at("2026-01-10 21:00"), berlin).Equal(at("2026-01-11 08:00")))
}

// stage_changed and event triggers parse, and the served schema knows them:
// a trigger's to is a band or a stage, not an email's contact roles.
func TestStageAndEventTriggers(t *testing.T) {
	for src, want := range map[string]Trigger{
		"trigger: {on: stage_changed, to: adoption}":                   {On: "stage_changed", To: "adoption"},
		"trigger: {on: stage_changed, from: onboarding, to: adoption}": {On: "stage_changed", From: "onboarding", To: "adoption"},
		"trigger: {on: event, event: champion_left}":                   {On: "event", Event: "champion_left"},
	} {
		def, err := Parse([]byte("key: k\nname: K\n"+src+"\nsteps: [{id: a, wait: 1d}]\n"), opts)
		require.NoError(t, err, src)
		require.Equal(t, want, *def.Trigger)
	}
	trigger := Schema()["$defs"].(map[string]any)["Trigger"].(map[string]any)["properties"].(map[string]any)
	require.Equal(t, "string", trigger["to"].(map[string]any)["type"], "a band or a stage, not contact roles")
	require.Contains(t, trigger["on"].(map[string]any)["enum"], "stage_changed")
	require.Contains(t, trigger["on"].(map[string]any)["enum"], "event")
	require.Contains(t, trigger, "from")
	require.Contains(t, trigger, "event")
}

// A schedule trigger parses with its cadence and anchor (contract_start
// when left out; a week and a leap year are the bounds), and the served
// schema knows its fields.
func TestScheduleTrigger(t *testing.T) {
	for src, want := range map[string]Trigger{
		"trigger: {on: schedule, every: 13w}":                        {On: "schedule", Every: Duration(13 * Week)},
		"trigger: {on: schedule, every: 90d, anchor: created}":       {On: "schedule", Every: Duration(90 * Day), Anchor: "created"},
		"trigger: {on: schedule, every: 1w, anchor: contract_start}": {On: "schedule", Every: Duration(Week), Anchor: "contract_start"},
		"trigger: {on: schedule, every: 366d}":                       {On: "schedule", Every: Duration(366 * Day)},
		"anchor: enrolled\ntrigger: {on: schedule, every: 52w}":      {On: "schedule", Every: Duration(52 * Week)},
	} {
		def, err := Parse([]byte("key: k\nname: K\n"+src+"\nsteps: [{id: a, wait: 1d}]\n"), opts)
		require.NoError(t, err, src)
		require.Equal(t, want, *def.Trigger)
		asJSON, err := json.Marshal(def)
		require.NoError(t, err)
		again, err := Parse(asJSON, opts)
		require.NoError(t, err, string(asJSON))
		require.Equal(t, def, again, "the stored JSON reads back the same")
	}
	require.Equal(t, "contract_start", Trigger{On: "schedule"}.ScheduleAnchor())
	require.Equal(t, "created", Trigger{On: "schedule", Anchor: "created"}.ScheduleAnchor())

	trigger := Schema()["$defs"].(map[string]any)["Trigger"].(map[string]any)["properties"].(map[string]any)
	require.Contains(t, trigger["on"].(map[string]any)["enum"], "schedule")
	require.Equal(t, ScheduleAnchors, trigger["anchor"].(map[string]any)["enum"])
	require.Equal(t, durationPattern, trigger["every"].(map[string]any)["pattern"])
}
