package store_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

func TestPlaybookVersionsPublishArchiveAndSeed(t *testing.T) {
	f := newFixture(t)
	in := store.NewPlaybookVersion{Key: "hello", Name: "Hello", Definition: json.RawMessage(`{"key":"hello"}`),
		Source: "key: hello", SourceFormat: "yaml"}
	v1, err := f.st.CreatePlaybookVersion(f.ctx, in)
	require.NoError(t, err)
	v2, err := f.st.CreatePlaybookVersion(f.ctx, in)
	require.NoError(t, err)
	require.Equal(t, []int{1, 2}, []int{v1.Version, v2.Version})

	_, err = f.st.PublishPlaybookVersion(f.ctx, "hello", 1)
	require.NoError(t, err)
	got, err := f.st.GetPlaybookVersion(f.ctx, "hello", 0)
	require.NoError(t, err)
	require.Equal(t, 1, got.Version, "version 0 means the published one")

	_, err = f.st.PublishPlaybookVersion(f.ctx, "hello", 2)
	require.NoError(t, err)
	old, _ := f.st.GetPlaybookVersion(f.ctx, "hello", 1)
	require.Equal(t, states.VersionArchived, old.Status)
	_, err = f.st.PublishPlaybookVersion(f.ctx, "hello", 1)
	require.ErrorIs(t, err, store.ErrArchived)
	_, err = f.st.PublishPlaybookVersion(f.ctx, "hello", 7)
	require.ErrorIs(t, err, store.ErrNotFound)

	// Seeding the same source again changes nothing; a new source publishes a new version.
	seed := store.NewPlaybookVersion{Key: "builtin", Name: "B", Definition: json.RawMessage(`{}`), Source: "a", SourceFormat: "yaml", Builtin: true}
	s1, changed, err := f.st.SeedPlaybook(f.ctx, seed)
	require.NoError(t, err)
	require.True(t, changed)
	_, changed, err = f.st.SeedPlaybook(f.ctx, seed)
	require.NoError(t, err)
	require.False(t, changed)
	seed.Source = "b"
	s2, changed, err := f.st.SeedPlaybook(f.ctx, seed)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, s1.Version+1, s2.Version)
	require.Equal(t, states.VersionPublished, s2.Status)

	list, err := f.st.ListPlaybooks(f.ctx, "", 0)
	require.NoError(t, err)
	require.Len(t, list, 2)
}

func TestApprovalsOnceAndDecidedOnce(t *testing.T) {
	f := newFixture(t)
	run := f.startRun(t)
	in := store.NewApproval{RunID: run, StepID: "qbr", AccountID: "acme", AssigneeLevel: "senior_csm",
		Draft: json.RawMessage(`{"template":"qbr-invite"}`), ExpiresAt: time.Now().Add(4 * time.Hour),
		Drafts: []store.ApprovalDraft{
			{To: "pat@acme.test", Name: "Pat", Content: message.Content{Subject: "QBR", HTML: "<p>Hi Pat</p>", Text: "Hi Pat"}},
			{To: "ann@acme.test", Name: "Ann", Content: message.Content{Subject: "QBR", HTML: "<p>Hi Ann</p>", Text: "Hi Ann"}},
		}}
	a1, err := f.st.CreateApproval(f.ctx, in)
	require.NoError(t, err)
	require.Equal(t, in.Drafts, a1.Drafts, "in the order drafted")
	in.Drafts = nil
	a2, err := f.st.CreateApproval(f.ctx, in)
	require.NoError(t, err)
	require.Equal(t, a1.ID, a2.ID, "a retried activity finds the same approval")
	require.Equal(t, a1.Drafts, a2.Drafts)
	require.Equal(t, "senior@cs.test", a1.AssigneeEmail)

	approved := map[string]message.Content{
		"pat@acme.test": {Subject: "Edited", HTML: "<p>Hi Pat!</p>", Text: "Hi Pat!"},
		"ann@acme.test": {Subject: "Edited", HTML: "<p>Hi Ann!</p>", Text: "Hi Ann!"},
	}
	decision := store.ApprovalDecision{Status: "approved", By: "senior@cs.test", Comment: "ok",
		Edits: json.RawMessage(`{"subject":"Edited"}`), Approved: approved}
	decided, err := f.st.DecideApproval(f.ctx, a1.ID, decision)
	require.NoError(t, err)
	require.EqualValues(t, "approved", decided.Status)
	for _, d := range decided.Drafts {
		require.Equal(t, approved[d.To], *d.Approved, d.To)
	}
	decision.Approved = nil
	again, err := f.st.DecideApproval(f.ctx, a1.ID, decision)
	require.NoError(t, err, "the same decision again (a retry) is accepted")
	require.Equal(t, decided.Drafts, again.Drafts, "and changes nothing")
	_, err = f.st.DecideApproval(f.ctx, a1.ID, store.ApprovalDecision{Status: "rejected", By: "vp@cs.test"})
	require.True(t, errors.Is(err, store.ErrNotPending))
	_, err = f.st.DecideApproval(f.ctx, uuid.New(), store.ApprovalDecision{Status: "approved", By: "x"})
	require.ErrorIs(t, err, store.ErrNotFound)

	inbox, err := f.st.ListApprovals(f.ctx, store.ApprovalFilter{AssigneeEmail: "senior@cs.test"})
	require.NoError(t, err)
	require.Len(t, inbox, 1)
	require.Equal(t, decided.Drafts, inbox[0].Drafts)

	// A pending approval is cancelled when its run ends.
	in.StepID = "other"
	pending, err := f.st.CreateApproval(f.ctx, in)
	require.NoError(t, err)
	require.NoError(t, f.st.RecordRunFinished(f.ctx, run, states.RunCancelled, "cancelled", true))
	after, err := f.st.GetApproval(f.ctx, pending.ID)
	require.NoError(t, err)
	require.EqualValues(t, "cancelled", after.Status)
}

func TestAccountSnapshotAnchorsAndHealth(t *testing.T) {
	f := newFixture(t)
	renewal := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	_, _, err := f.st.UpsertAccount(f.ctx, store.UpsertAccount{
		ID: "acme", Name: "Acme", ARR: 12000, Segment: "smb", CSMEmail: "csm@cs.test", Timezone: "America/New_York",
		RenewalDate: &renewal, LifecycleStage: "onboarding", Status: "active", CustomFields: json.RawMessage(`{"seats_used_pct": 90}`),
	})
	require.NoError(t, err)
	snap, err := f.st.AccountSnapshot(f.ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, time.Date(2027, 3, 1, 14, 0, 0, 0, time.UTC), *snap.RenewalAt, "09:00 in New York")
	require.Nil(t, snap.HealthScore)
	require.EqualValues(t, 90, snap.Fields["seats_used_pct"])

	_, err = f.st.AddHealthSnapshot(f.ctx, "acme", time.Now(), time.Hour, func([]store.HealthSnapshot) (store.NewHealthSnapshot, error) {
		return store.NewHealthSnapshot{Score: 42, Band: "red", Inputs: json.RawMessage(`{"score": 42}`)}, nil
	})
	require.NoError(t, err)
	snap, err = f.st.ChangeAccount(f.ctx, "acme", f.startRun(t), "to-adoption", store.AccountChange{LifecycleStage: "adoption",
		Fields: map[string]any{"stage_note": "done"}})
	require.NoError(t, err)
	require.Equal(t, 42.0, *snap.HealthScore)
	require.Equal(t, "red", snap.HealthBand)
	require.Equal(t, "adoption", snap.LifecycleStage)
	require.Equal(t, "done", snap.Fields["stage_note"])
	require.EqualValues(t, 90, snap.Fields["seats_used_pct"], "fields are merged, not replaced")
}

func TestEscalateApprovalClimbsTheLadderOnce(t *testing.T) {
	f := newFixture(t)
	run := f.startRun(t)
	a, err := f.st.CreateApproval(f.ctx, store.NewApproval{RunID: run, StepID: "qbr", AccountID: "acme", AssigneeLevel: "csm",
		Draft: json.RawMessage(`{}`), ExpiresAt: time.Now().Add(4 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, 1, a.Level)

	deadline := time.Now().Add(6 * time.Hour).UTC().Truncate(time.Second)
	esc, err := f.st.EscalateApproval(f.ctx, a.ID, 2, deadline)
	require.NoError(t, err)
	require.Equal(t, "senior@cs.test", esc.ManagerEmail)
	require.Equal(t, 2, esc.Approval.Level)
	require.Equal(t, "senior@cs.test", esc.Approval.AssigneeEmail)
	require.True(t, deadline.Equal(esc.Approval.ExpiresAt))
	require.Equal(t, "urgent", esc.Task.Priority)
	require.Equal(t, "senior@cs.test", esc.Task.AssigneeEmail)

	again, err := f.st.EscalateApproval(f.ctx, a.ID, 2, deadline)
	require.NoError(t, err, "a retried escalation is idempotent")
	require.Equal(t, esc.Task.ID, again.Task.ID)
	require.Equal(t, "senior@cs.test", again.Approval.AssigneeEmail, "it does not climb twice")

	for _, step := range []struct {
		level int
		who   string
	}{{3, "vp@cs.test"}, {4, "exec@cs.test"}} {
		esc, err = f.st.EscalateApproval(f.ctx, a.ID, step.level, deadline)
		require.NoError(t, err)
		require.Equal(t, step.who, esc.ManagerEmail)
	}
	_, err = f.st.DecideApproval(f.ctx, a.ID, store.ApprovalDecision{Status: "approved", By: "exec@cs.test"})
	require.NoError(t, err)
	_, err = f.st.EscalateApproval(f.ctx, a.ID, 4, deadline)
	require.ErrorIs(t, err, store.ErrNotPending)
}

func TestEscalateApprovalAtTheTopOfTheLadder(t *testing.T) {
	f := newFixture(t)
	_, _, err := f.st.UpsertTeamMember(f.ctx, store.UpsertTeamMember{Email: "solo@cs.test", Name: "Solo", Level: "csm"})
	require.NoError(t, err)
	_, _, err = f.st.UpsertAccount(f.ctx, store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 1, Segment: "smb",
		CSMEmail: "solo@cs.test", Timezone: "UTC", LifecycleStage: "onboarding", Status: "active"})
	require.NoError(t, err)
	run := f.startRun(t)
	a, err := f.st.CreateApproval(f.ctx, store.NewApproval{RunID: run, StepID: "x", AccountID: "acme", AssigneeLevel: "csm",
		Draft: json.RawMessage(`{}`), ExpiresAt: time.Now()})
	require.NoError(t, err)
	_, err = f.st.EscalateApproval(f.ctx, a.ID, 2, time.Now())
	require.ErrorIs(t, err, store.ErrTopOfLadder)
}

func TestFrequencyCapAcrossRuns(t *testing.T) {
	f := newFixture(t)
	limit := store.FrequencyCap{Count: 3, Window: 7 * 24 * time.Hour}
	claim := func(run uuid.UUID, step string, automated bool) (store.Email, error) {
		return f.st.ClaimEmail(f.ctx, store.NewEmail{RunID: run, StepID: step, AccountID: "acme", Recipient: "pat@acme.test",
			Template: "t", Subject: "s", Status: states.EmailPending, Automated: automated, Cap: limit})
	}
	runA, runB := f.startRun(t), uuid.New()
	_, err := f.st.RecordRunStarted(f.ctx, store.NewRun{ID: runB, AccountID: "acme", PlaybookKey: "renewal",
		PlaybookVersion: 1, WorkflowID: "wf-b", TemporalRunID: "r", StartedAt: time.Now()})
	require.NoError(t, err)

	first, err := claim(runA, "one", true)
	require.NoError(t, err)
	_, err = claim(runA, "two", true)
	require.NoError(t, err)
	_, err = claim(runB, "three", true) // another playbook counts too
	require.NoError(t, err)
	_, err = claim(runA, "approved", false)
	require.NoError(t, err, "an approved email is not capped")

	_, err = claim(runB, "four", true)
	var capped *store.CappedError
	require.True(t, errors.As(err, &capped), "the fourth automated email in a week waits: %v", err)
	require.WithinDuration(t, first.CreatedAt.Add(7*24*time.Hour), capped.Until, time.Second)

	again, err := claim(runA, "one", true)
	require.NoError(t, err, "a retry of an email already claimed is not capped")
	require.Equal(t, first.ID, again.ID)

	_, err = f.st.ClaimEmail(f.ctx, store.NewEmail{RunID: runB, StepID: "five", AccountID: "acme", Recipient: "pat@acme.test",
		Template: "t", Subject: "s", Status: states.EmailPending, Automated: true})
	require.NoError(t, err, "no cap configured, no cap")
}
