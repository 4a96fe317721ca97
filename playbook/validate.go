package playbook

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/internal/netguard"
)

// Vocabulary of the language. The account model's own (segments, contact
// roles, team levels, statuses) is in package accounts.
var (
	Anchors       = []string{AnchorEnrolled, AnchorRenewalDate, AnchorContractStart}
	TriggerEvents = []string{"account_created", "health_band", "renewal_window", "risk_signal", "expansion", "stage_changed", "event", "schedule", "survey_response"}
	RiskSignals   = []string{"usage_decline", "support_spike", "champion_left", "payment_overdue", "competitor_mentioned"}
	// HealthBands are health.BandNames, best first (a test holds them
	// equal): the language stays free of the scoring package; orange is
	// only given under a four-band model.
	HealthBands = []string{"green", "yellow", "orange", "red"}
	Priorities  = []string{"low", "normal", "high", "urgent"}
	OnReject    = []string{"skip", "end_run"}
	OnExpire    = []string{"escalate", "skip", "end_run"}
	Weekdays    = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	// SurveyKinds and SurveyCategories are survey.Kinds and
	// survey.Categories, in their order (a test holds them equal): the
	// language stays free of package survey, whose signed links bring
	// uuid, and with it package net.
	SurveyKinds      = []string{"nps", "csat"}
	SurveyCategories = []string{"promoter", "passive", "detractor"}
)

// triggerOptions are the trigger fields each kind of trigger takes, and
// only it.
var triggerOptions = []struct {
	field    string
	on       []string
	required bool
}{
	{"to", []string{"health_band", "stage_changed"}, true}, {"from", []string{"stage_changed"}, false},
	{"days_before", []string{"renewal_window"}, true}, {"signal", []string{"risk_signal"}, true},
	{"event", []string{"event"}, true}, {"every", []string{"schedule"}, true}, {"anchor", []string{"schedule"}, false},
	{"category", []string{"survey_response"}, false},
}

// The cadences a schedule trigger may have: at least a week (no more than
// one occasion falls in the sweep's grace window, which is a week too) and
// at most a leap year.
const (
	MinScheduleEvery = Week
	MaxScheduleEvery = 366 * Day
)

// ScheduleAnchors are the account dates a schedule trigger may count from.
var ScheduleAnchors = []string{ScheduleFromContractStart, ScheduleFromCreated}

// maxRepeats bounds how often a repeat runs its steps.
const maxRepeats = 1000

// The days a renewal_window trigger may fire before the renewal date.
const (
	MinDaysBefore = 1
	MaxDaysBefore = 730
)

var (
	keyPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	idPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	eventPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	// Lifecycle stages are the account's own words (onboarding, adoption,
	// renewed...): any text without surrounding spaces, as accounts store it.
	stagePattern   = regexp.MustCompile(`^\S(.{0,126}\S)?$`)
	outcomePattern = regexp.MustCompile(`^[a-z][a-z0-9_:-]{0,62}$`)
	clockPattern   = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	sgTemplateID   = regexp.MustCompile(`^d-[0-9a-f]{32}$`)
)

// Options says what a definition may refer to outside itself.
type Options struct {
	// BuiltinTemplates are the templates shipped with the binary.
	BuiltinTemplates []string
	// Webhooks says where notify steps may post; the zero value allows
	// https to public hosts only.
	Webhooks netguard.Policy
	// CheckTemplate type-checks one part of a template, or a notify message,
	// against the data it renders over, calling report with each problem
	// and its line in src (from 1); html says the part is html.
	// templates.Checker's Check is the real one. Without it, templates are
	// held to their syntax and the language's own rules only.
	CheckTemplate func(src string, html bool, report func(line int, message string))
	// AccountFields, when set, are the custom fields the organisation
	// declares (ACCOUNT_FIELDS, with the measured ones): a field condition
	// must name one of them. Nil: any name (nothing declared).
	AccountFields []accounts.Field
}

// Parse reads a YAML or JSON definition and validates it. The error, when
// not nil, is Errors listing every problem.
func Parse(src []byte, opts Options) (*Definition, error) {
	var def Definition
	errs, pos := decodeSource(src, &def)
	if pos == nil || (len(errs) > 0 && errs[0].Path == "") {
		return nil, errs // nothing to validate: unreadable document
	}
	decoded := errs.paths()
	for _, e := range def.validate(opts, pos) {
		if !covered(decoded, e.Path) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	return &def, nil
}

// Validate checks a definition built in Go or decoded elsewhere.
func (def *Definition) Validate(opts Options) error {
	if errs := def.validate(opts, nil); len(errs) > 0 {
		return errs
	}
	return nil
}

type validator struct {
	errs      Errors
	pos       *positions // nil: no source, lines unknown
	opts      Options
	def       *Definition
	ids       map[string]string // step id -> first path
	templates map[string]bool
	known     string // the templates' names for messages, once worked out
}

func (def *Definition) validate(opts Options, pos *positions) Errors {
	v := &validator{opts: opts, pos: pos, def: def, ids: map[string]string{}, templates: map[string]bool{}}
	for _, t := range opts.BuiltinTemplates {
		v.templates[t] = true
	}
	v.limits()
	v.pattern("key", def.Key, keyPattern, "lower-case letters, digits and '-', at most 63, such as \"onboarding\"")
	v.text("name", def.Name, "the name CS ops see")
	if def.Anchor != "" && !slices.Contains(Anchors, def.Anchor) {
		v.oneOf("anchor", Anchors)
	}
	v.trigger(def.Trigger)
	for i, s := range def.Segments {
		if !slices.Contains(accounts.Segments, s) {
			v.oneOf(fmt.Sprintf("segments[%d]", i), accounts.Segments)
		}
	}
	for i, r := range def.Exit {
		p := fmt.Sprintf("exit[%d]", i)
		if r.When == nil {
			v.add(p+".when", "required: the condition that ends the run")
		} else {
			v.condition(p+".when", r.When, 1)
		}
		v.pattern(p+".outcome", r.Outcome, outcomePattern, "a lower-case outcome such as churned or recovered")
	}
	v.sendWindow(def.SendWindow)
	if def.Priority < 0 || def.Priority > MaxPriority {
		v.add("priority", "must be from 1 to %d, or left out (higher holds the customer emails of lower plays on the same account)", MaxPriority)
	}
	v.ownTemplates(def.Templates)
	v.list("steps", len(def.Steps), def.Steps == nil, "at least one step")
	v.steps("steps", def.Steps, 1)
	v.atOrder()
	if def.Trigger != nil && def.Trigger.On == "renewal_window" && def.Anchor != AnchorRenewalDate {
		v.add("anchor", "a renewal_window trigger needs anchor: renewal_date")
	}
	if def.Trigger != nil && def.Trigger.On == "schedule" && def.Anchor != "" && def.Anchor != AnchorEnrolled {
		v.add("anchor", "a schedule trigger starts a new run at each occasion, whose at offsets count from its start: "+
			"leave anchor out (trigger.anchor says what the occasions count from)")
	}
	return v.errs
}

func (v *validator) add(path, format string, args ...any) {
	v.errs.add(path, v.pos.line(path), format, args...)
}

func (v *validator) oneOf(path string, allowed []string) {
	v.add(path, "must be one of %s", strings.Join(allowed, ", "))
}

// pattern checks a value that must match re: "required" when it is absent
// (or empty), what is wrong with it otherwise. It reports whether it matched.
func (v *validator) pattern(p, value string, re *regexp.Regexp, expected string) bool {
	switch {
	case re.MatchString(value):
		return true
	case value == "":
		v.add(p, "required: %s", expected)
	default:
		v.add(p, "must be %s; %s is not", expected, quote(value))
	}
	return false
}

// quote quotes a value for a message, cut short when long.
func quote(value string) string {
	const max = 40
	if len(value) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(value[cut]) {
			cut--
		}
		return strconv.Quote(value[:cut]) + "…"
	}
	return strconv.Quote(value)
}

// text checks a required text: absent, or present and blank. It reports
// whether the text is there.
func (v *validator) text(p, value, expected string) bool {
	switch {
	case value == "":
		v.add(p, "required: %s", expected)
	case strings.TrimSpace(value) == "":
		v.add(p, "is blank: give %s", expected)
	default:
		return true
	}
	return false
}

// list checks a required list: absent (null), or present and empty.
func (v *validator) list(p string, n int, absent bool, expected string) {
	switch {
	case n > 0:
	case absent:
		v.add(p, "required: %s", expected)
	default:
		v.add(p, "is empty: give %s", expected)
	}
}

// vocabulary checks a required value from a closed list; when says when it
// is required ("" always). It reports whether the value is in the list.
func (v *validator) vocabulary(p, value string, allowed []string, when string) bool {
	switch {
	case slices.Contains(allowed, value):
		return true
	case value == "" && when == "":
		v.add(p, "required: one of %s", strings.Join(allowed, ", "))
	case value == "":
		v.add(p, "required %s: one of %s", when, strings.Join(allowed, ", "))
	default:
		v.add(p, "unknown value %s; one of %s", quote(value), strings.Join(allowed, ", "))
	}
	return false
}
