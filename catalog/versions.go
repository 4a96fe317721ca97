package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
)

// Versions returns every version of a playbook, newest first.
func (s *Service) Versions(ctx context.Context, key string) ([]store.PlaybookVersion, error) {
	vs, err := s.Store.ListPlaybookVersions(ctx, key)
	if err == nil && len(vs) == 0 {
		return nil, ErrNotFound
	}
	for i := range vs {
		vs[i] = shown(vs[i])
	}
	return vs, err
}

// RunCounts counts the playbooks' runs by version, status and outcome.
func (s *Service) RunCounts(ctx context.Context, keys ...string) ([]store.RunCount, error) {
	return s.Store.PlaybookRunCounts(ctx, keys)
}

// Diff is what changed from one version of a playbook to another.
type Diff struct {
	Key   string               `json:"key"`
	From  int                  `json:"from"`
	To    int                  `json:"to"`
	Steps playbook.StepChanges `json:"steps"`
	Lines []playbook.DiffLine  `json:"lines"`
}

// Diff compares two versions of a playbook: their sources line by line
// (the canonical JSON when a version has no source) and their steps.
func (s *Service) Diff(ctx context.Context, key string, from, to int) (Diff, error) {
	a, err := s.Version(ctx, key, from)
	if err != nil {
		return Diff{}, err
	}
	b, err := s.Version(ctx, key, to)
	if err != nil {
		return Diff{}, err
	}
	da, err := Decode(key, a.Version, a.Definition)
	if err != nil {
		return Diff{}, err
	}
	db, err := Decode(key, b.Version, b.Definition)
	if err != nil {
		return Diff{}, err
	}
	return Diff{Key: key, From: a.Version, To: b.Version, Steps: playbook.DiffSteps(da, db),
		Lines: playbook.DiffSource(sourceOf(a), sourceOf(b))}, nil
}

// sourceOf is a version's text as CS ops wrote it.
func sourceOf(v store.PlaybookVersion) string {
	if v.Source != "" {
		return v.Source
	}
	return string(v.Definition)
}

// The top-level key and name lines of a YAML source, as the built-ins and
// the console's editor write them.
var (
	yamlKeyLine  = regexp.MustCompile(`(?m)^key:[ \t]*[^\n#]*`)
	yamlNameLine = regexp.MustCompile(`(?m)^name:[ \t]*[^\n#]*`)
)

// Duplicate stores a copy of a version (0: as Version finds it) as the
// first draft of a new playbook with its own key and name: the start of a
// new playbook, through the same validation as any draft. The source keeps
// its comments and layout; only its key and name lines change.
func (s *Service) Duplicate(ctx context.Context, fromKey string, version int, newKey, newName string) (store.PlaybookVersion, error) {
	// As stored: a credential in it is refused by name, not as a redacted URL.
	v, err := s.stored(ctx, fromKey, version)
	if err != nil {
		return store.PlaybookVersion{}, err
	}
	source, format := v.Source, v.SourceFormat
	if format == "yaml" && yamlKeyLine.MatchString(source) && yamlNameLine.MatchString(source) {
		// Quoted as JSON strings, which YAML reads as they are.
		k, _ := json.Marshal(newKey)
		n, _ := json.Marshal(newName)
		source = yamlKeyLine.ReplaceAllLiteralString(source, "key: "+string(k))
		source = yamlNameLine.ReplaceAllLiteralString(source, "name: "+string(n))
	} else {
		def, err := Decode(fromKey, v.Version, v.Definition)
		if err != nil {
			return store.PlaybookVersion{}, err
		}
		def.Key, def.Name = newKey, newName
		raw, err := json.MarshalIndent(def, "", "  ")
		if err != nil {
			return store.PlaybookVersion{}, err
		}
		source, format = string(raw), "json"
	}
	// The key is checked in the same transaction as the insert, so two
	// duplicates racing to one new key cannot both become "version 1".
	return s.create(ctx, []byte(source), format, true)
}

// SharedTrigger names the other published playbooks that the given
// version's trigger would start alongside it: a duplicate of a built-in
// keeps the original's trigger, so publishing it enrols every such account
// twice unless one of them changes.
func (s *Service) SharedTrigger(ctx context.Context, key string, version int) ([]string, error) {
	def, _, err := s.Definition(ctx, key, version)
	if err != nil || def.Trigger == nil {
		return nil, err
	}
	var shared []string
	after := ""
	for {
		page, err := s.Store.ListPlaybooks(ctx, after, 200)
		if err != nil {
			return nil, err
		}
		for _, p := range page {
			if p.Key == key || p.PublishedVersion == nil || p.RetiredAt != nil { // a retired one fires nothing
				continue
			}
			other, _, err := s.Definition(ctx, p.Key, 0)
			if err != nil {
				return nil, err
			}
			if other.Trigger != nil && sameTrigger(*other.Trigger, *def.Trigger) {
				shared = append(shared, p.Key)
			}
		}
		if len(page) < 200 {
			return shared, nil
		}
		after = page[len(page)-1].Key
	}
}

// sameTrigger says whether two triggers start the same accounts on the
// same occasions: equal once a schedule's default anchor is filled in.
func sameTrigger(a, b playbook.Trigger) bool {
	if a.On == "schedule" {
		a.Anchor, b.Anchor = a.ScheduleAnchor(), b.ScheduleAnchor()
	}
	return a == b
}

// Warning is something publishing a version does that its author may not
// mean: the API's publish answer and the console's publish page show the
// same ones.
type Warning struct {
	Code      string   // shared_trigger
	Message   string   // a sentence for the author
	Playbooks []string // the other playbooks it is about
}

// WarningSharedTrigger: another published playbook has the version's
// trigger, so each account it enrols gets both.
const WarningSharedTrigger = "shared_trigger"

// PublishWarnings says what publishing the version does beyond itself.
func (s *Service) PublishWarnings(ctx context.Context, key string, version int) ([]Warning, error) {
	shared, err := s.SharedTrigger(ctx, key, version)
	if err != nil || len(shared) == 0 {
		return nil, err
	}
	return []Warning{{Code: WarningSharedTrigger, Playbooks: shared, Message: fmt.Sprintf(
		"its trigger also starts %s: once published, each account it enrols gets both playbooks; change this "+
			"version's trigger (or remove it to start runs by hand) unless that is what you want", strings.Join(shared, ", "))}}, nil
}
