package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playbookd/playbookd/store"
)

// A ladder's members, as NewLadder makes them.
const (
	CSM     = "casey@cs.test" // a csm, the account's CSM
	Manager = "lead@cs.test"  // casey's manager, a senior_csm
	Outside = "other@cs.test" // a csm in no one's ladder
)

// Ladder is a fresh database with a small team, one account and a live run
// of it: for tests of who may act on a run's work.
type Ladder struct {
	Store     *store.Store
	AccountID string
	RunID     uuid.UUID
	// Pool is the database's, for what a test checks or breaks in SQL.
	Pool *pgxpool.Pool
}

// NewLadder makes a database with casey (csm) reporting to lead
// (senior_csm), other (csm) reporting to nobody, the account acme whose CSM
// is casey, and a running run of acme.
func NewLadder(t testing.TB) Ladder {
	t.Helper()
	_, pool := NewDatabase(t)
	st := store.New(pool)
	ctx := context.Background()
	for _, m := range []store.UpsertTeamMember{
		{Email: Manager, Name: "Lee Lead", Level: "senior_csm"},
		{Email: CSM, Name: "Casey", Level: "csm", ManagerEmail: Manager},
		{Email: Outside, Name: "Other", Level: "csm"},
	} {
		if _, _, err := st.UpsertTeamMember(ctx, m); err != nil {
			t.Fatalf("team member %s: %v", m.Email, err)
		}
	}
	if _, _, err := st.UpsertAccount(ctx, store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 150000,
		Segment: "enterprise", CSMEmail: CSM, Timezone: "UTC", LifecycleStage: "adoption", Status: "active"}); err != nil {
		t.Fatalf("account: %v", err)
	}
	run, err := st.RecordRunStarted(ctx, store.NewRun{ID: uuid.New(), AccountID: "acme", PlaybookKey: "onboarding",
		PlaybookVersion: 1, WorkflowID: "playbook/onboarding/account/acme", TemporalRunID: "r1", StartedAt: time.Now()})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return Ladder{Store: st, AccountID: "acme", RunID: run.ID, Pool: pool}
}
