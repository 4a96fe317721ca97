package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/store"
)

// The live runs of a version a move chooses from: every account's when none
// is named (nil or empty alike), of one segment, or of the accounts named;
// never ended runs, runs of another version or another playbook.
func TestLiveRunsOfVersion(t *testing.T) {
	f := newFixture(t)
	for _, a := range []struct{ id, segment string }{{"big", "enterprise"}, {"mid", "mid_market"}, {"small", "smb"}} {
		if _, _, err := f.st.UpsertAccount(f.ctx, store.UpsertAccount{ID: a.id, Name: a.id, ARR: 1000, Segment: a.segment,
			CSMEmail: "csm@cs.test", Timezone: "UTC", LifecycleStage: "onboarding", Status: "active"}); err != nil {
			t.Fatal(err)
		}
	}
	run := func(account, key string, version int, status string) {
		t.Helper()
		var ended *time.Time
		if status == "completed" {
			now := time.Now()
			ended = &now
		}
		id := uuid.New()
		if _, err := f.pool.Exec(f.ctx, `INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, ended_at)
			VALUES ($1, $2, $3, $4, $5, 'r', $6, $7)`, id, account, key, version, id.String(), status, ended); err != nil {
			t.Fatal(err)
		}
	}
	run("big", "nurture", 1, "running")
	run("mid", "nurture", 1, "paused")
	run("small", "nurture", 1, "running")
	run("acme", "nurture", 1, "completed")
	run("acme", "nurture", 2, "running")
	run("big", "other", 1, "running")

	tests := []struct {
		name     string
		segment  string
		accounts []string
		want     []string
	}{
		{"every account (nil)", "", nil, []string{"big", "mid", "small"}},
		{"every account (empty)", "", []string{}, []string{"big", "mid", "small"}},
		{"one segment", "smb", nil, []string{"small"}},
		{"accounts named", "", []string{"mid", "big", "nobody"}, []string{"big", "mid"}},
		{"both", "enterprise", []string{"mid"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.st.LiveRunsOfVersion(f.ctx, "nurture", 1, tt.segment, tt.accounts)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.AccountID)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tt.want) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}
}
