package store_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

type fixture struct {
	st   *store.Store
	pool *pgxpool.Pool
	ctx  context.Context
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	_, pool := storetest.NewDatabase(t)
	f := fixture{st: store.New(pool), pool: pool, ctx: context.Background()}
	// Ladder: csm -> senior -> vp -> exec.
	for _, m := range []store.UpsertTeamMember{
		{Email: "exec@cs.test", Name: "Exec", Level: "executive"},
		{Email: "vp@cs.test", Name: "VP", Level: "vp_cs", ManagerEmail: "exec@cs.test"},
		{Email: "senior@cs.test", Name: "Senior", Level: "senior_csm", ManagerEmail: "vp@cs.test"},
		{Email: "csm@cs.test", Name: "Casey", Level: "csm", ManagerEmail: "senior@cs.test"},
	} {
		if _, _, err := f.st.UpsertTeamMember(f.ctx, m); err != nil {
			t.Fatalf("team member %s: %v", m.Email, err)
		}
	}
	_, created, err := f.st.UpsertAccount(f.ctx, store.UpsertAccount{
		ID: "acme", Name: "Acme", ARR: 12000, Segment: "smb", CSMEmail: "csm@cs.test",
		Timezone: "Europe/Berlin", LifecycleStage: "onboarding", Status: "active",
		Contacts: []store.UpsertContact{
			{Email: "pat@acme.test", Name: "Pat", Role: "champion"},
			{Email: "sam@acme.test", Name: "Sam", Role: "admin"},
		},
	})
	if err != nil || !created {
		t.Fatalf("account: created=%v err=%v", created, err)
	}
	return f
}

func (f fixture) startRun(t testing.TB) uuid.UUID {
	t.Helper()
	id := uuid.New()
	if _, err := f.st.RecordRunStarted(f.ctx, store.NewRun{
		ID: id, AccountID: "acme", PlaybookKey: "onboarding", PlaybookVersion: 1,
		WorkflowID: "wf-" + id.String(), TemporalRunID: "r", StartedAt: time.Now(),
	}); err != nil {
		t.Fatalf("start run: %v", err)
	}
	return id
}

func TestAccountUpsertKeepsContactsAndReportsUpdate(t *testing.T) {
	f := newFixture(t)
	acct, created, err := f.st.UpsertAccount(f.ctx, store.UpsertAccount{
		ID: "acme", Name: "Acme Corp", ARR: 30000, Segment: "mid_market", CSMEmail: "csm@cs.test",
		Timezone: "Europe/Berlin", LifecycleStage: "onboarding", Status: "active",
		Contacts: []store.UpsertContact{{Email: "pat@acme.test", Name: "Pat Jones", Role: "champion"}},
	})
	if err != nil || created {
		t.Fatalf("update: created=%v err=%v", created, err)
	}
	if acct.Name != "Acme Corp" || acct.Segment != "mid_market" || len(acct.Contacts) != 2 {
		t.Fatalf("account after update = %+v", acct)
	}
	if acct.Contacts[0].Name != "Pat Jones" {
		t.Fatalf("contact not updated: %+v", acct.Contacts)
	}
}

func TestAccountUnknownCSM(t *testing.T) {
	f := newFixture(t)
	_, _, err := f.st.UpsertAccount(f.ctx, store.UpsertAccount{
		ID: "other", Name: "Other", Segment: "smb", CSMEmail: "nobody@cs.test", Timezone: "UTC",
		LifecycleStage: "onboarding", Status: "active",
	})
	if !errors.Is(err, store.ErrUnknownCSM) {
		t.Fatalf("err = %v, want ErrUnknownCSM", err)
	}
	if _, err := f.st.GetAccount(f.ctx, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("half-written account: %v", err)
	}
}

func TestTeamManagerErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		in   store.UpsertTeamMember
		want error
	}{
		{"unknown manager", store.UpsertTeamMember{Email: "x@cs.test", Name: "X", Level: "csm", ManagerEmail: "ghost@cs.test"}, store.ErrUnknownManager},
		{"self", store.UpsertTeamMember{Email: "csm@cs.test", Name: "Casey", Level: "csm", ManagerEmail: "csm@cs.test"}, store.ErrManagerCycle},
		{"loop through chain", store.UpsertTeamMember{Email: "exec@cs.test", Name: "Exec", Level: "executive", ManagerEmail: "csm@cs.test"}, store.ErrManagerCycle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := f.st.UpsertTeamMember(f.ctx, tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOneLiveRunPerAccountAndPlaybook(t *testing.T) {
	f := newFixture(t)
	first := f.startRun(t)

	// The same run recorded again (API and workflow both record it) is fine.
	if _, err := f.st.RecordRunStarted(f.ctx, store.NewRun{ID: first, AccountID: "acme", PlaybookKey: "onboarding",
		PlaybookVersion: 1, WorkflowID: "wf", StartedAt: time.Now()}); err != nil {
		t.Fatalf("re-record same run: %v", err)
	}
	// A different run of the same playbook while the first is live is refused.
	_, err := f.st.RecordRunStarted(f.ctx, store.NewRun{ID: uuid.New(), AccountID: "acme", PlaybookKey: "onboarding",
		PlaybookVersion: 1, WorkflowID: "wf2", StartedAt: time.Now()})
	if !errors.Is(err, store.ErrLiveRun) {
		t.Fatalf("second live run: err = %v, want ErrLiveRun", err)
	}
	// Once the first has finished, a new one may start.
	if err := f.st.RecordRunFinished(f.ctx, first, states.RunCompleted, "completed", false); err != nil {
		t.Fatal(err)
	}
	f.startRun(t)
}

func TestCreateTaskOnceAndLadderAssignee(t *testing.T) {
	f := newFixture(t)
	run := f.startRun(t)
	tests := []struct {
		step, level, wantAssignee string
	}{
		{"welcome-call", "csm", "csm@cs.test"},
		{"escalate", "senior_csm", "senior@cs.test"},
		{"exec-call", "executive", "exec@cs.test"},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			in := store.NewTask{RunID: run, StepID: tt.step, AccountID: "acme", AssigneeLevel: tt.level,
				Title: "Do " + tt.step, Priority: "normal"}
			first, created, err := f.st.CreateTask(f.ctx, in)
			if err != nil || !created {
				t.Fatalf("first create: created=%v err=%v", created, err)
			}
			if first.AssigneeEmail != tt.wantAssignee {
				t.Fatalf("assignee = %s, want %s", first.AssigneeEmail, tt.wantAssignee)
			}
			again, created, err := f.st.CreateTask(f.ctx, in)
			if err != nil || created || again.ID != first.ID {
				t.Fatalf("second create: created=%v id=%v (first %v) err=%v", created, again.ID, first.ID, err)
			}
		})
	}
	tasks, err := f.st.ListTasks(f.ctx, store.TaskFilter{RunID: &run})
	if err != nil || len(tasks) != len(tests) {
		t.Fatalf("tasks = %d, err = %v; want %d", len(tasks), err, len(tests))
	}
	// Cancelling the run closes its open tasks.
	if err := f.st.RecordRunFinished(f.ctx, run, states.RunCancelled, "", true); err != nil {
		t.Fatal(err)
	}
	open, _ := f.st.ListTasks(f.ctx, store.TaskFilter{RunID: &run, Status: "open"})
	if len(open) != 0 {
		t.Fatalf("open tasks after run end: %d", len(open))
	}
}

func TestClaimEmailOncePerRunStepRecipient(t *testing.T) {
	f := newFixture(t)
	run := f.startRun(t)
	in := store.NewEmail{RunID: run, StepID: "welcome-email", AccountID: "acme", Recipient: "pat@acme.test",
		Template: "welcome", Subject: "Hi", HTML: "<p>Hi</p>", Text: "Hi", Status: states.EmailPending}
	first, err := f.st.ClaimEmail(f.ctx, in)
	if err != nil || first.Status != states.EmailPending {
		t.Fatalf("claim: %+v %v", first, err)
	}
	marked, err := f.st.MarkEmail(f.ctx, first.ID, states.EmailCaptured, "", "")
	if err != nil || !marked {
		t.Fatalf("mark: %v %v", marked, err)
	}
	again, err := f.st.ClaimEmail(f.ctx, in)
	if err != nil || again.ID != first.ID || again.Status != states.EmailCaptured {
		t.Fatalf("second claim must return the captured row: %+v %v", again, err)
	}
	if marked, _ := f.st.MarkEmail(f.ctx, first.ID, states.EmailSent, "", "x"); marked {
		t.Fatal("a non-pending email was marked again")
	}
	emails, err := f.st.ListEmails(f.ctx, store.EmailFilter{AccountID: "acme"})
	if err != nil || len(emails) != 1 {
		t.Fatalf("emails = %d, err = %v", len(emails), err)
	}
}

func TestContactsWithRolesOrder(t *testing.T) {
	f := newFixture(t)
	got, err := f.st.ContactsWithRoles(f.ctx, "acme", []string{"admin", "champion"})
	if err != nil || len(got) != 2 || got[0].Role != "admin" || got[1].Role != "champion" {
		t.Fatalf("contacts = %+v, err = %v", got, err)
	}
	got, _ = f.st.ContactsWithRoles(f.ctx, "acme", []string{"exec_sponsor"})
	if len(got) != 0 {
		t.Fatalf("exec sponsors = %+v", got)
	}
}

func TestCompletedRunLeavesItsTasksOpen(t *testing.T) {
	f := newFixture(t)
	run := f.startRun(t)
	_, _, err := f.st.CreateTask(f.ctx, store.NewTask{RunID: run, StepID: "follow-up", AccountID: "acme",
		AssigneeLevel: "csm", Title: "Follow up", Priority: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.RecordRunFinished(f.ctx, run, states.RunCompleted, "completed", false); err != nil {
		t.Fatal(err)
	}
	open, _ := f.st.ListTasks(f.ctx, store.TaskFilter{RunID: &run, Status: "open"})
	if len(open) != 1 {
		t.Fatalf("open tasks after completion: %d, want 1 (the CSM still has to do it)", len(open))
	}
}

// Times scan as UTC whatever the process's zone, so the API answers UTC:
// the test runs itself again in a process whose zone is Asia/Tokyo.
func TestTimesScanAsUTC(t *testing.T) {
	if os.Getenv("PLAYBOOKD_UTC_CHILD") == "1" {
		f := newFixture(t)
		acct, err := f.st.GetAccount(f.ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if time.Local.String() != "Asia/Tokyo" {
			t.Fatalf("the child runs in %s, not Asia/Tokyo", time.Local)
		}
		if loc := acct.CreatedAt.Location(); loc != time.UTC {
			t.Fatalf("created_at in %v, want UTC", loc)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTimesScanAsUTC$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PLAYBOOKD_UTC_CHILD=1", "TZ=Asia/Tokyo")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("in Asia/Tokyo: %v\n%s", err, out)
	}
}

// The status lists of the code are the database's: a status added to one
// and not the other fails here (the CHECK constraints are the truth).
func TestStatusesMatchTheDatabase(t *testing.T) {
	f := newFixture(t)
	for table, want := range map[string][]string{"runs": words(states.Runs), "approvals": words(states.Approvals),
		"tasks": words(states.Tasks), "emails": words(states.Emails), "playbook_versions": words(states.Versions)} {
		var def string
		err := f.pool.QueryRow(f.ctx, `SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
			WHERE c.conrelid = $1::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) LIKE 'CHECK ((status = ANY%'`,
			table).Scan(&def)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		var got []string
		for _, m := range regexp.MustCompile(`'([a-z_]+)'::text`).FindAllStringSubmatch(def, -1) {
			got = append(got, m[1])
		}
		slices.Sort(got)
		sorted := slices.Sorted(slices.Values(want))
		if !slices.Equal(got, sorted) {
			t.Errorf("%s: the database allows %v, the code knows %v", table, got, sorted)
		}
	}
}

func words[T ~string](states []T) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}
