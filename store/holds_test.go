package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

// runOf starts a run of the playbook key on acme, version 1, whose
// definition has the given priority.
func (f fixture) runOf(t *testing.T, key string, priority int) uuid.UUID {
	t.Helper()
	_, err := f.pool.Exec(f.ctx, `
		INSERT INTO playbook_versions (key, version, name, status, definition, source, source_format)
		VALUES ($1, 1, $1, 'published', jsonb_build_object('key', $1::text, 'priority', $2::int), '{}', 'json')
		ON CONFLICT DO NOTHING`, key, priority)
	require.NoError(t, err)
	id := uuid.New()
	_, err = f.st.RecordRunStarted(f.ctx, store.NewRun{ID: id, AccountID: "acme", PlaybookKey: key, PlaybookVersion: 1,
		WorkflowID: "wf-" + id.String(), TemporalRunID: "r", StartedAt: time.Now()})
	require.NoError(t, err)
	return id
}

func (f fixture) claimAs(run uuid.UUID, step, to string, limit store.FrequencyCap) (store.Email, error) {
	return f.st.ClaimEmail(f.ctx, store.NewEmail{RunID: run, StepID: step, AccountID: "acme", Recipient: to,
		Template: "t", Subject: "s", Status: states.EmailPending, Automated: true, Cap: limit})
}

// Two plays do not email one contact in the same day: the later email waits
// for the gap after the earlier, whatever run sent it, and says why.
func TestMinimumGapBetweenEmailsToOneContact(t *testing.T) {
	f := newFixture(t)
	gap := store.FrequencyCap{MinGap: 24 * time.Hour}
	renewal, atRisk := f.runOf(t, "renewal", 60), f.runOf(t, "at-risk", 60)

	first, err := f.claimAs(renewal, "renewal-reminder", "pat@acme.test", gap)
	require.NoError(t, err)
	_, err = f.claimAs(atRisk, "checkin-email", "pat@acme.test", gap)
	var held *store.CappedError
	require.True(t, errors.As(err, &held), "the second email the same day waits: %v", err)
	require.WithinDuration(t, first.CreatedAt.Add(24*time.Hour), held.Until, time.Second)
	require.Equal(t, "held: renewal emailed Pat less than a minute ago; automated emails to a contact are at least 1 day apart", held.Reason)

	_, err = f.claimAs(atRisk, "checkin-email", "sam@acme.test", gap)
	require.NoError(t, err, "another contact is not held")
	_, err = f.claimAs(renewal, "renewal-reminder", "pat@acme.test", gap)
	require.NoError(t, err, "a retry of the email already claimed is not held")
	_, err = f.st.ClaimEmail(f.ctx, store.NewEmail{RunID: atRisk, StepID: "approved", AccountID: "acme", Recipient: "pat@acme.test",
		Template: "t", Subject: "s", Status: states.EmailPending, Automated: false, Cap: gap})
	require.NoError(t, err, "an email a person approved is not held")
}

// Runs on several workers claiming emails to one contact at once: exactly
// one goes, every other is held (PostgreSQL decides, not the workers).
func TestMinimumGapHoldsUnderConcurrentClaims(t *testing.T) {
	f := newFixture(t)
	gap := store.FrequencyCap{MinGap: 24 * time.Hour}
	runs := make([]uuid.UUID, 12)
	for i := range runs {
		runs[i] = f.runOf(t, fmt.Sprintf("play-%d", i), 10)
	}
	var (
		wg                  sync.WaitGroup
		mu                  sync.Mutex
		claimed, held, fail int
	)
	for i, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.claimAs(run, fmt.Sprintf("step-%d", i), "pat@acme.test", gap)
			var capped *store.CappedError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				claimed++
			case errors.As(err, &capped):
				held++
			default:
				fail++
			}
		}()
	}
	wg.Wait()
	require.Equal(t, []int{1, len(runs) - 1, 0}, []int{claimed, held, fail})
}

// While a play of higher priority is live on the account, a lower play's
// customer emails wait; the higher play's own do not; once it ends, they go.
func TestHigherPlayHoldsLowerPlaysEmails(t *testing.T) {
	f := newFixture(t)
	limit := store.FrequencyCap{HoldRecheck: 6 * time.Hour}
	renewal, recovery := f.runOf(t, "renewal", 60), f.runOf(t, "red-recovery", 90)

	_, err := f.claimAs(renewal, "renewal-reminder", "pat@acme.test", limit)
	var held *store.CappedError
	require.True(t, errors.As(err, &held), "renewal waits while red-recovery is live: %v", err)
	require.Equal(t, "held: red-recovery (priority 90) is live on this account and holds the customer emails of lower plays", held.Reason)
	require.WithinDuration(t, time.Now().Add(6*time.Hour), held.Until, time.Minute)

	_, err = f.claimAs(recovery, "checkin", "pat@acme.test", limit)
	require.NoError(t, err, "the higher play's own email goes")

	require.NoError(t, f.st.RecordRunFinished(f.ctx, recovery, "completed", "recovered", false))
	_, err = f.claimAs(renewal, "renewal-reminder", "pat@acme.test", limit)
	require.NoError(t, err, "with red-recovery ended, renewal's email goes")
}

// A play without a priority is unranked: a live built-in does not hold its
// emails, and it holds nobody's.
func TestUnrankedPlaysNeitherHoldNorWait(t *testing.T) {
	f := newFixture(t)
	limit := store.FrequencyCap{HoldRecheck: 6 * time.Hour}
	_, err := f.pool.Exec(f.ctx, `
		INSERT INTO playbook_versions (key, version, name, status, definition, source, source_format)
		VALUES ('custom', 1, 'custom', 'published', '{"key":"custom"}', '{}', 'json')`)
	require.NoError(t, err)
	custom := uuid.New()
	_, err = f.st.RecordRunStarted(f.ctx, store.NewRun{ID: custom, AccountID: "acme", PlaybookKey: "custom", PlaybookVersion: 1,
		WorkflowID: "wf-custom", TemporalRunID: "r", StartedAt: time.Now()})
	require.NoError(t, err)
	onboarding := f.runOf(t, "onboarding-ranked", 50)

	_, err = f.claimAs(custom, "hello", "pat@acme.test", limit)
	require.NoError(t, err, "the unranked play is not held by onboarding")
	_, err = f.claimAs(onboarding, "welcome", "sam@acme.test", limit)
	require.NoError(t, err, "nor does it hold onboarding")
}
