package catalog_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/states"
)

// The editor's saves leave one draft; Create, the API's, adds a version
// each time; a refused text stores nothing.
func TestSaveDraftDoesNotPileUp(t *testing.T) {
	s, _ := newCatalog(t)
	ctx := context.Background()
	for i, text := range []string{hello, hello + "  - id: more\n    wait: 2d\n", hello + "  - id: more\n    wait: 3d\n"} {
		v, replaced, err := s.SaveDraft(ctx, []byte(text), "yaml")
		require.NoError(t, err)
		require.Equal(t, 1, v.Version)
		require.Equal(t, i > 0, replaced)
		require.Equal(t, text, v.Source)
	}
	_, _, err := s.SaveDraft(ctx, []byte(strings.Replace(hello, "wait: 1d", "wait: soon", 1)), "yaml")
	require.Contains(t, fields(t, err), "steps[0].wait")
	v, err := s.Version(ctx, "hello", 1)
	require.NoError(t, err)
	require.Contains(t, v.Source, "wait: 3d", "a refused text leaves the draft as it was")

	_, err = s.Publish(ctx, "hello", 1)
	require.NoError(t, err)
	v, replaced, err := s.SaveDraft(ctx, []byte(hello), "yaml")
	require.NoError(t, err)
	require.False(t, replaced)
	require.Equal(t, 2, v.Version, "a published version is never rewritten")

	created, err := s.Create(ctx, []byte(hello), "yaml")
	require.NoError(t, err)
	require.Equal(t, 3, created.Version, "Create adds a version, as the API documents")
	vs, err := s.Versions(ctx, "hello")
	require.NoError(t, err)
	require.Len(t, vs, 3)
}

// Two editors saving one playbook at once end with one draft.
func TestConcurrentSaveDraft(t *testing.T) {
	s, _ := newCatalog(t)
	ctx := context.Background()
	const savers = 8
	var wg sync.WaitGroup
	errs := make([]error, savers)
	for i := range savers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = s.SaveDraft(ctx, []byte(hello+strings.Repeat("  # edit\n", i)), "yaml")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	vs, err := s.Versions(ctx, "hello")
	require.NoError(t, err)
	require.Len(t, vs, 1)
}

// A new playbook starts blank (a valid skeleton with its key and name) or
// as a copy of a built-in; a key in use or not a key is refused.
func TestNewPlaybook(t *testing.T) {
	s, st := newCatalog(t)
	ctx := context.Background()
	v, err := s.New(ctx, "day-1-30", "Day 1–30: onboarding", "")
	require.NoError(t, err)
	require.Equal(t, 1, v.Version)
	require.Equal(t, states.VersionDraft, v.Status)
	require.Equal(t, "Day 1–30: onboarding", v.Name)
	require.Equal(t, catalog.Blank("day-1-30", "Day 1–30: onboarding"), v.Source)
	def, _, err := s.Definition(ctx, "day-1-30", 1)
	require.NoError(t, err)
	require.Len(t, def.Steps, 1, "one example step")

	_, err = s.New(ctx, "day-1-30", "Again", "")
	require.ErrorIs(t, err, catalog.ErrKeyTaken)
	_, err = s.New(ctx, "Not A Key", "Bad", "")
	require.Contains(t, fields(t, err), "key")

	_, err = catalog.Seed(ctx, st, s.Options)
	require.NoError(t, err)
	v, err = s.New(ctx, "my-onboarding", "My onboarding", "onboarding")
	require.NoError(t, err)
	require.Contains(t, v.Source, `key: "my-onboarding"`)
	require.False(t, v.Builtin, "a copy is the team's own")
	_, err = s.New(ctx, "other", "Other", "ghost")
	require.ErrorIs(t, err, catalog.ErrNotFound)
}

// Retiring keeps the playbook's versions, takes it out of the shared
// trigger warnings, and can be undone.
func TestRetire(t *testing.T) {
	s, _ := newCatalog(t)
	ctx := context.Background()
	for _, key := range []string{"a", "b"} {
		v, err := s.Create(ctx, []byte("key: "+key+"\nname: "+key+"\ntrigger: {on: account_created}\nsteps: [{id: x, wait: 1d}]\n"), "yaml")
		require.NoError(t, err)
		_, err = s.Publish(ctx, key, v.Version)
		require.NoError(t, err)
	}
	shared, err := s.SharedTrigger(ctx, "a", 0)
	require.NoError(t, err)
	require.Equal(t, []string{"b"}, shared)

	_, err = s.Retire(ctx, "ghost")
	require.ErrorIs(t, err, catalog.ErrNotFound)
	at, err := s.Retire(ctx, "b")
	require.NoError(t, err)
	got, err := s.RetiredAt(ctx, "b")
	require.NoError(t, err)
	require.Equal(t, at, *got)
	shared, err = s.SharedTrigger(ctx, "a", 0)
	require.NoError(t, err)
	require.Empty(t, shared, "a retired playbook starts nothing alongside")

	require.NoError(t, s.Unretire(ctx, "b"))
	got, err = s.RetiredAt(ctx, "b")
	require.NoError(t, err)
	require.Nil(t, got)
	require.ErrorIs(t, s.Unretire(ctx, "ghost"), catalog.ErrNotFound)
}
