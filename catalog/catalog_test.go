package catalog_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
)

const hello = "key: hello\nname: Hello\nsteps:\n  - id: pause\n    wait: 1d\n"

func newCatalog(t *testing.T) (*catalog.Service, *store.Store) {
	t.Helper()
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	set, err := templates.Builtin()
	require.NoError(t, err)
	return &catalog.Service{Store: st, Options: playbook.Options{BuiltinTemplates: set.Names(), CheckTemplate: templates.Check}}, st
}

// fields lists where each of a definition's errors is.
func fields(t *testing.T, err error) []string {
	t.Helper()
	var perrs playbook.Errors
	require.ErrorAs(t, err, &perrs)
	var out []string
	for _, e := range perrs {
		out = append(out, e.Path)
	}
	return out
}

func TestCreateValidatesAgainstTheLanguageAndThePublishedPlaybooks(t *testing.T) {
	s, _ := newCatalog(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name, source, field string
		line                int
	}{
		{name: "a key that is not one", source: strings.Replace(hello, "key: hello", "key: Bad Key", 1), field: "key"},
		{name: "an unknown template", source: hello + "  - id: hi\n    email: {template: nope, to: [champion]}\n", field: "steps[1].email.template"},
		{name: "a playbook nobody published", source: hello + "  - id: next\n    start_playbook: {key: ghost}\n",
			field: "steps[1].start_playbook.key", line: 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Create(ctx, []byte(tt.source), "yaml")
			require.Contains(t, fields(t, err), tt.field, err.Error())
			if tt.line > 0 {
				var perrs playbook.Errors
				require.ErrorAs(t, err, &perrs)
				require.Equal(t, tt.line, perrs[0].Line, "errors found after parsing still say their line")
			}
		})
	}
	items, err := s.List(ctx, "", 10)
	require.NoError(t, err)
	require.Empty(t, items, "nothing refused is stored")

	v, err := s.Create(ctx, []byte(hello), "yaml")
	require.NoError(t, err)
	require.Equal(t, states.VersionDraft, v.Status)
	require.Equal(t, hello, v.Source, "the source as written is kept")
	_, err = s.Publish(ctx, "hello", 1)
	require.NoError(t, err)
	_, err = s.Create(ctx, []byte(hello+"  - id: again\n    start_playbook: {key: hello}\n"), "yaml")
	require.Error(t, err, "a playbook starting itself makes a cycle")
	require.Contains(t, fields(t, err), "steps[1].start_playbook.key")
}

func TestPublish(t *testing.T) {
	s, st := newCatalog(t)
	ctx := context.Background()
	for range 2 {
		_, err := s.Create(ctx, []byte(hello), "yaml")
		require.NoError(t, err)
	}
	// Stored before templates were type-checked: it names a template that
	// does not exist.
	legacy := playbook.Definition{Key: "hello", Name: "Hello", Steps: []playbook.Step{
		{ID: "hi", Email: &playbook.EmailAction{Template: "nope", To: []string{"champion"}}}}}
	raw, err := json.Marshal(legacy)
	require.NoError(t, err)
	_, err = st.CreatePlaybookVersion(ctx, store.NewPlaybookVersion{Key: "hello", Name: "Hello", Definition: raw, SourceFormat: "json"})
	require.NoError(t, err)

	for _, tt := range []struct {
		name    string
		version int
		want    error
		field   string         // of a playbook.Errors
		status  states.Version // of the version afterwards
	}{
		{name: "a draft", version: 1, status: states.VersionPublished},
		{name: "the published version again", version: 1, status: states.VersionPublished},
		{name: "a newer draft archives the one before", version: 2, status: states.VersionPublished},
		{name: "an archived version", version: 1, want: catalog.ErrArchived, status: states.VersionArchived},
		{name: "a version that breaks a rule made since", version: 3, field: "steps[0].email.template", status: states.VersionDraft},
		{name: "no such version", version: 9, want: catalog.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Publish(ctx, "hello", tt.version)
			switch {
			case tt.field != "":
				require.Contains(t, fields(t, err), tt.field)
			default:
				require.ErrorIs(t, err, tt.want)
			}
			if tt.status != "" {
				v, err := s.Version(ctx, "hello", tt.version)
				require.NoError(t, err)
				require.Equal(t, tt.status, v.Status)
			}
		})
	}
	def, version, err := s.Definition(ctx, "hello", 0)
	require.NoError(t, err)
	require.Equal(t, 2, version, "0 is the published version")
	require.Equal(t, "pause", def.Steps[0].ID)
	_, _, err = s.Definition(ctx, "ghost", 0)
	require.ErrorIs(t, err, catalog.ErrNotFound)
}

func TestDecodeNamesTheVersion(t *testing.T) {
	_, err := catalog.Decode("hello", 3, json.RawMessage(`{"steps":7}`))
	require.ErrorContains(t, err, "decode playbook hello v3")
	def, err := catalog.Decode("hello", 0, json.RawMessage(`{"key":"hello","name":"Hello"}`))
	require.NoError(t, err)
	require.Equal(t, "hello", def.Key)
}

// A duplicate keeps a YAML source's layout with the new key and name; a
// JSON source is written again from its definition; a taken key is refused.
func TestDuplicate(t *testing.T) {
	svc, _ := newCatalog(t)
	ctx := context.Background()
	_, err := svc.Create(ctx, []byte("# hello\n"+hello), "yaml")
	require.NoError(t, err)
	v, err := svc.Duplicate(ctx, "hello", 0, "hello-copy", "Hello: copy")
	require.NoError(t, err)
	require.Equal(t, "# hello\nkey: \"hello-copy\"\nname: \"Hello: copy\"\nsteps:\n  - id: pause\n    wait: 1d\n", v.Source)
	require.Equal(t, "Hello: copy", v.Name)

	_, err = svc.Create(ctx, []byte(`{"key":"json-one","name":"J","steps":[{"id":"a","wait":"1d"}]}`), "json")
	require.NoError(t, err)
	v, err = svc.Duplicate(ctx, "json-one", 1, "json-two", "J2")
	require.NoError(t, err)
	require.Equal(t, "json", v.SourceFormat)
	require.Contains(t, v.Source, `"key": "json-two"`)

	_, err = svc.Duplicate(ctx, "hello", 1, "json-two", "Taken")
	require.ErrorIs(t, err, catalog.ErrKeyTaken)
	_, err = svc.Duplicate(ctx, "nope", 0, "x", "X")
	require.ErrorIs(t, err, catalog.ErrNotFound)
}

// Duplicates racing to one new key: exactly one becomes its version 1.
func TestDuplicateRace(t *testing.T) {
	svc, _ := newCatalog(t)
	ctx := context.Background()
	_, err := svc.Create(ctx, []byte(hello), "yaml")
	require.NoError(t, err)
	const racers = 8
	errs := make(chan error, racers)
	for range racers {
		go func() {
			_, err := svc.Duplicate(ctx, "hello", 0, "raced", "Raced")
			errs <- err
		}()
	}
	won := 0
	for range racers {
		err := <-errs
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, catalog.ErrKeyTaken)
	}
	require.Equal(t, 1, won)
	versions, err := svc.Versions(ctx, "raced")
	require.NoError(t, err)
	require.Len(t, versions, 1)
}

// Two schedules with the same cadence from the same date share a trigger,
// whether or not one spells out the default anchor; another cadence or
// anchor does not.
func TestSharedScheduleTrigger(t *testing.T) {
	s, _ := newCatalog(t)
	ctx := context.Background()
	create := func(key, trigger string) {
		t.Helper()
		v, err := s.Create(ctx, []byte("key: "+key+"\nname: "+key+"\ntrigger: "+trigger+"\nsteps: [{id: a, wait: 1d}]\n"), "yaml")
		require.NoError(t, err)
		_, err = s.Publish(ctx, key, v.Version)
		require.NoError(t, err)
	}
	create("qbr", "{on: schedule, every: 13w}")
	create("qbr-spelled", "{on: schedule, every: 13w, anchor: contract_start}")
	create("qbr-created", "{on: schedule, every: 13w, anchor: created}")
	create("monthly", "{on: schedule, every: 4w}")
	shared, err := s.SharedTrigger(ctx, "qbr", 0)
	require.NoError(t, err)
	require.Equal(t, []string{"qbr-spelled"}, shared)
}
