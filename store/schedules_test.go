package store_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
)

// SchedulesDue finds the active accounts in the playbook's segments whose
// anchor date has an occasion (anchor + k·every, k ≥ 1) on today or in the
// grace days before it, in pages by id; accounts without the date, churned
// or outside the segments are not candidates.
func TestSchedulesDue(t *testing.T) {
	f := newFixture(t)
	today := time.Date(2026, 4, 20, 22, 30, 0, 0, time.UTC)
	daysAgo := func(n int) *time.Time { d := time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -n); return &d }
	for _, a := range []struct {
		id, segment, status string
		start               *time.Time
	}{
		{"due-today", "mid_market", "active", daysAgo(91)},
		{"due-6-days-ago", "enterprise", "active", daysAgo(91 + 6)},
		{"past-grace", "mid_market", "active", daysAgo(91 + 7)},
		{"third-quarter", "mid_market", "active", daysAgo(3*91 + 2)},
		{"first-quarter-not-over", "mid_market", "active", daysAgo(90)},
		{"future-start", "mid_market", "active", daysAgo(-30)},
		{"no-start", "mid_market", "active", nil},
		{"churned", "mid_market", "churned", daysAgo(91)},
		{"smb", "smb", "active", daysAgo(91)},
	} {
		_, _, err := f.st.UpsertAccount(f.ctx, store.UpsertAccount{ID: a.id, Name: a.id, ARR: 1000, Segment: a.segment,
			CSMEmail: "csm@cs.test", Timezone: "UTC", ContractStart: a.start, LifecycleStage: "adoption", Status: a.status})
		require.NoError(t, err, a.id)
	}
	publish := func(key, segments string) {
		def := fmt.Sprintf(`{"key":%q,"name":"Q","trigger":{"on":"schedule","every":"13w"},%s"steps":[{"id":"a","wait":"1d"}]}`, key, segments)
		_, _, err := f.st.SeedPlaybook(f.ctx, store.NewPlaybookVersion{Key: key, Name: "Q", Definition: json.RawMessage(def),
			Source: def, SourceFormat: "json"})
		require.NoError(t, err)
	}
	publish("qbr", `"segments":["enterprise","mid_market"],`)
	publish("everyone", "")

	ids := func(cs []store.ScheduleCandidate) []string {
		out := []string{}
		for _, c := range cs {
			out = append(out, c.AccountID)
		}
		return out
	}
	due, err := f.st.SchedulesDue(f.ctx, "qbr", "contract_start", today, 91, 7, "", 100)
	require.NoError(t, err)
	require.Equal(t, []string{"due-6-days-ago", "due-today", "third-quarter"}, ids(due))
	require.Equal(t, *daysAgo(91), due[1].AnchorDate, "the anchor date, as a date")

	all, err := f.st.SchedulesDue(f.ctx, "everyone", "contract_start", today, 91, 7, "", 100)
	require.NoError(t, err)
	require.Equal(t, []string{"due-6-days-ago", "due-today", "smb", "third-quarter"}, ids(all), "no segments: every segment")

	page, err := f.st.SchedulesDue(f.ctx, "everyone", "contract_start", today, 91, 7, "", 2)
	require.NoError(t, err)
	require.Equal(t, []string{"due-6-days-ago", "due-today"}, ids(page))
	page, err = f.st.SchedulesDue(f.ctx, "everyone", "contract_start", today, 91, 7, page[1].AccountID, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"smb", "third-quarter"}, ids(page))

	none, err := f.st.SchedulesDue(f.ctx, "unpublished", "contract_start", today, 91, 7, "", 100)
	require.NoError(t, err)
	require.Empty(t, none, "a playbook with no published version has no occasions")

	// created: the day (UTC) the account was created.
	_, err = f.pool.Exec(f.ctx, `UPDATE accounts SET created_at = $1`, today)
	require.NoError(t, err)
	_, err = f.pool.Exec(f.ctx, `UPDATE accounts SET created_at = $2 WHERE id = $1`, "no-start",
		time.Date(2026, 3, 23, 23, 59, 0, 0, time.UTC))
	require.NoError(t, err)
	created, err := f.st.SchedulesDue(f.ctx, "qbr", "created", today, 28, 7, "", 100)
	require.NoError(t, err)
	require.Equal(t, []string{"no-start"}, ids(created), "created 28 days ago; the others today")
	require.Equal(t, time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC), created[0].AnchorDate)

	_, err = f.st.SchedulesDue(f.ctx, "qbr", "renewal_date", today, 91, 7, "", 100)
	require.ErrorContains(t, err, "not an account date")
}
