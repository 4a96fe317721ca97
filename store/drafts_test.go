package store_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

func draftOf(key, source string) store.NewPlaybookVersion {
	return store.NewPlaybookVersion{Key: key, Name: "Hello", Definition: json.RawMessage(`{"key":"` + key + `"}`),
		Source: source, SourceFormat: "yaml"}
}

// Saving a draft rewrites the newest version only while it is a draft
// never published and never run; otherwise it adds the next version.
func TestSaveDraftRewritesOnlyTheLatestUnpublishedUnrunDraft(t *testing.T) {
	f := newFixture(t)
	save := func(source string) (int, bool) {
		t.Helper()
		v, replaced, err := f.st.SaveDraft(f.ctx, draftOf("hello", source))
		require.NoError(t, err)
		require.Equal(t, source, v.Source)
		require.Equal(t, states.VersionDraft, v.Status)
		return v.Version, replaced
	}
	for _, tt := range []struct {
		name     string
		before   func()
		version  int
		replaced bool
	}{
		{name: "a new key starts at version 1", version: 1},
		{name: "saving again rewrites that draft", version: 1, replaced: true},
		{name: "a published newest version is kept", version: 2, before: func() {
			_, err := f.st.PublishPlaybookVersion(f.ctx, "hello", 1)
			require.NoError(t, err)
		}},
		{name: "the new draft is rewritten in turn", version: 2, replaced: true},
		{name: "a draft a run started from is kept", version: 3, before: func() {
			_, err := f.st.RecordRunStarted(f.ctx, store.NewRun{ID: uuid.New(), AccountID: "acme", PlaybookKey: "hello",
				PlaybookVersion: 2, WorkflowID: "wf-hello", TemporalRunID: "r", StartedAt: time.Now()})
			require.NoError(t, err)
		}},
		{name: "an archived newest version is kept", version: 5, before: func() {
			_, err := f.st.PublishPlaybookVersion(f.ctx, "hello", 3)
			require.NoError(t, err)
			v4, err := f.st.CreatePlaybookVersion(f.ctx, draftOf("hello", "v4"))
			require.NoError(t, err)
			_, err = f.st.PublishPlaybookVersion(f.ctx, "hello", v4.Version)
			require.NoError(t, err)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			version, replaced := save("source of " + tt.name)
			require.Equal(t, tt.version, version)
			require.Equal(t, tt.replaced, replaced)
		})
	}
	// What was kept still has the text it had.
	for version, want := range map[int]string{1: "source of saving again rewrites that draft",
		2: "source of the new draft is rewritten in turn", 4: "v4"} {
		v, err := f.st.GetPlaybookVersion(f.ctx, "hello", version)
		require.NoError(t, err)
		require.Equal(t, want, v.Source, "version %d", version)
	}
}

// The database refuses rewriting a version that was published or run,
// whatever writes it.
func TestDraftsWithRunsOrPublishedNeverChange(t *testing.T) {
	f := newFixture(t)
	for _, key := range []string{"ran", "published"} {
		_, err := f.st.CreatePlaybookVersion(f.ctx, draftOf(key, "a"))
		require.NoError(t, err)
	}
	_, err := f.st.RecordRunStarted(f.ctx, store.NewRun{ID: uuid.New(), AccountID: "acme", PlaybookKey: "ran",
		PlaybookVersion: 1, WorkflowID: "wf-ran", TemporalRunID: "r", StartedAt: time.Now()})
	require.NoError(t, err)
	_, err = f.st.PublishPlaybookVersion(f.ctx, "published", 1)
	require.NoError(t, err)
	// Archived and back to draft by hand: published_at still says it was.
	_, err = f.pool.Exec(f.ctx, `UPDATE playbook_versions SET status = 'draft' WHERE key = 'published'`)
	require.NoError(t, err)
	for key, want := range map[string]string{"ran": "has runs", "published": "cannot change"} {
		_, err := f.pool.Exec(f.ctx, `UPDATE playbook_versions SET source = 'b' WHERE key = $1`, key)
		require.ErrorContains(t, err, want, key)
	}
	_, err = f.st.CreatePlaybookVersion(f.ctx, draftOf("fresh", "a"))
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `UPDATE playbook_versions SET source = 'b' WHERE key = 'fresh'`)
	require.NoError(t, err, "a draft never published nor run may change")
}

// Saves racing on one playbook leave one draft, holding one of the texts.
func TestConcurrentSavesLeaveOneDraft(t *testing.T) {
	f := newFixture(t)
	_, err := f.st.CreatePlaybookVersion(f.ctx, draftOf("raced", "first"))
	require.NoError(t, err)
	_, err = f.st.PublishPlaybookVersion(f.ctx, "raced", 1)
	require.NoError(t, err)
	const savers = 12
	var wg sync.WaitGroup
	errs := make(chan error, savers)
	for i := range savers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := f.st.SaveDraft(f.ctx, draftOf("raced", fmt.Sprintf("save %d", i)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	vs, err := f.st.ListPlaybookVersions(f.ctx, "raced")
	require.NoError(t, err)
	require.Len(t, vs, 2, "the published version and one draft")
	require.Equal(t, states.VersionDraft, vs[0].Status)
	require.Regexp(t, `^save \d+$`, vs[0].Source)
}

// Retiring marks the playbook, keeps the first time, shows in the list and
// in what a start reads, and takes its trigger out of the published ones.
func TestRetirePlaybook(t *testing.T) {
	f := newFixture(t)
	in := draftOf("hello", "a")
	in.Definition = json.RawMessage(`{"key":"hello","trigger":{"on":"account_created"}}`)
	_, err := f.st.CreatePlaybookVersion(f.ctx, in)
	require.NoError(t, err)
	_, err = f.st.PublishPlaybookVersion(f.ctx, "hello", 1)
	require.NoError(t, err)

	_, err = f.st.SetPlaybookRetired(f.ctx, "ghost", true)
	require.ErrorIs(t, err, store.ErrNotFound)
	at, err := f.st.PlaybookRetiredAt(f.ctx, "hello")
	require.NoError(t, err)
	require.Nil(t, at)

	first, err := f.st.SetPlaybookRetired(f.ctx, "hello", true)
	require.NoError(t, err)
	require.NotNil(t, first)
	again, err := f.st.SetPlaybookRetired(f.ctx, "hello", true)
	require.NoError(t, err)
	require.Equal(t, *first, *again, "retiring again keeps when it was retired")

	r, err := f.st.RunnableVersion(f.ctx, "hello", 0)
	require.NoError(t, err)
	require.Equal(t, store.Runnable{Version: 1, Status: states.VersionPublished, Retired: true}, r)
	list, err := f.st.ListPlaybooks(f.ctx, "", 0)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotNil(t, list[0].RetiredAt)
	trigs, err := f.st.PublishedTriggers(f.ctx)
	require.NoError(t, err)
	require.NotContains(t, trigs, "hello", "a retired playbook fires nothing")
	defs, err := f.st.PublishedDefinitions(f.ctx)
	require.NoError(t, err)
	require.Contains(t, defs, "hello", "other playbooks' start_playbook checks still see it")

	at, err = f.st.SetPlaybookRetired(f.ctx, "hello", false)
	require.NoError(t, err)
	require.Nil(t, at)
	r, err = f.st.RunnableVersion(f.ctx, "hello", 0)
	require.NoError(t, err)
	require.False(t, r.Retired)
	trigs, err = f.st.PublishedTriggers(f.ctx)
	require.NoError(t, err)
	require.Contains(t, trigs, "hello")
}
