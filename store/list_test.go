package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

// Every keyset-paged list returns, page after page, exactly its whole list
// in order: nothing skipped, nothing twice, the last page short.
func TestListsPageByKeyset(t *testing.T) {
	f := newFixture(t)
	const n = 7
	run := f.startRun(t)
	for i := range n {
		step := fmt.Sprintf("step-%d", i)
		_, _, err := f.st.CreateTask(f.ctx, store.NewTask{RunID: run, StepID: step, AccountID: "acme",
			AssigneeLevel: "csm", Title: "Do " + step, Priority: "normal"})
		require.NoError(t, err)
		_, err = f.st.CreateApproval(f.ctx, store.NewApproval{RunID: run, StepID: step, AccountID: "acme",
			AssigneeLevel: "csm", Draft: []byte(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
		require.NoError(t, err)
		_, err = f.st.ClaimEmail(f.ctx, store.NewEmail{RunID: run, StepID: step, AccountID: "acme",
			Recipient: "pat@acme.test", Template: "welcome", Subject: "Hi", Status: states.EmailPending})
		require.NoError(t, err)
		if i > 0 { // the first run is started above
			_, err = f.st.RecordRunStarted(f.ctx, store.NewRun{ID: uuid.New(), AccountID: "acme",
				PlaybookKey: fmt.Sprintf("playbook-%d", i), PlaybookVersion: 1, WorkflowID: step, StartedAt: time.Now()})
			require.NoError(t, err)
		}
	}
	type key struct {
		at time.Time
		id uuid.UUID
	}
	tests := map[string]struct {
		newestFirst bool
		list        func(after *store.Keyset, limit int) ([]key, error)
	}{
		"tasks": {false, func(after *store.Keyset, limit int) ([]key, error) {
			l, err := f.st.ListTasks(f.ctx, store.TaskFilter{AccountID: "acme", After: after, Limit: limit})
			return keys(l, func(v store.Task) key { return key{v.CreatedAt, v.ID} }), err
		}},
		"approvals": {false, func(after *store.Keyset, limit int) ([]key, error) {
			l, err := f.st.ListApprovals(f.ctx, store.ApprovalFilter{AssigneeEmail: "csm@cs.test", After: after, Limit: limit})
			return keys(l, func(v store.Approval) key { return key{v.CreatedAt, v.ID} }), err
		}},
		"emails": {false, func(after *store.Keyset, limit int) ([]key, error) {
			l, err := f.st.ListEmails(f.ctx, store.EmailFilter{RunID: &run, After: after, Limit: limit})
			return keys(l, func(v store.Email) key { return key{v.CreatedAt, v.ID} }), err
		}},
		"runs": {true, func(after *store.Keyset, limit int) ([]key, error) {
			l, err := f.st.ListRuns(f.ctx, store.RunFilter{AccountID: "acme", After: after, Limit: limit})
			return keys(l, func(v store.Run) key { return key{v.StartedAt, v.ID} }), err
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			all, err := tt.list(nil, 0)
			require.NoError(t, err)
			require.Len(t, all, n)
			require.True(t, slices.IsSortedFunc(all, func(a, b key) int {
				c := a.at.Compare(b.at)
				if c == 0 {
					c = slices.Compare(a.id[:], b.id[:])
				}
				if tt.newestFirst {
					return -c
				}
				return c
			}), "ordered by (time, id)")
			var paged []key
			var after *store.Keyset
			for range n {
				page, err := tt.list(after, 3)
				require.NoError(t, err)
				paged = append(paged, page...)
				if len(page) < 3 {
					break
				}
				last := page[len(page)-1]
				after = &store.Keyset{At: last.at, ID: last.id}
			}
			require.Equal(t, all, paged)
		})
	}
}

func keys[T, K any](list []T, key func(T) K) []K {
	out := make([]K, len(list))
	for i, v := range list {
		out[i] = key(v)
	}
	return out
}

// BenchmarkListTasks lists a page of 500 tasks with their assignee and run.
func BenchmarkListTasks(b *testing.B) {
	f := newFixture(b)
	run := f.startRun(b)
	for i := range 500 {
		_, _, err := f.st.CreateTask(f.ctx, store.NewTask{RunID: run, StepID: fmt.Sprintf("step-%d", i), AccountID: "acme",
			AssigneeLevel: "csm", Title: "Do it", Priority: "normal"})
		require.NoError(b, err)
	}
	for b.Loop() {
		tasks, err := f.st.ListTasks(f.ctx, store.TaskFilter{RunID: &run, Limit: 500})
		if err != nil || len(tasks) != 500 {
			b.Fatalf("%d tasks, %v", len(tasks), err)
		}
	}
}
