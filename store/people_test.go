package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// work gives casey (the ladder's CSM) a pending approval, an open task and
// a key; it returns their ids and the key's secret.
func work(t *testing.T, l storetest.Ladder) (approval, task uuid.UUID, secret string) {
	t.Helper()
	ctx := context.Background()
	a, err := l.Store.CreateApproval(ctx, store.NewApproval{RunID: l.RunID, StepID: "qbr", AccountID: l.AccountID,
		AssigneeLevel: "csm", Draft: []byte(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	k, _, err := l.Store.CreateTask(ctx, store.NewTask{RunID: l.RunID, StepID: "call", AccountID: l.AccountID,
		AssigneeLevel: "csm", Title: "Call", Priority: "normal"})
	require.NoError(t, err)
	_, secret, err = l.Store.CreateAPIKey(ctx, "casey", "csm", storetest.CSM)
	require.NoError(t, err)
	return a.ID, k.ID, secret
}

// Deactivating casey hands their account, approval and task to the
// successor at once, with an audit event each; their key stops working
// and they appear as deactivated. Their manager's deactivation moves their
// reports up a level.
func TestDeactivationMovesEverythingToTheSuccessor(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	approval, task, secret := work(t, l)

	d, err := l.Store.DeactivateMember(ctx, storetest.CSM, storetest.Outside)
	require.NoError(t, err)
	require.Equal(t, []string{"acme"}, d.Accounts)
	require.Equal(t, 1, d.Approvals)
	require.Equal(t, 1, d.Tasks)
	require.Equal(t, 1, d.KeysRevoked)
	require.Equal(t, 0, d.Reports)
	require.NotNil(t, d.Member.DeactivatedAt)
	require.False(t, d.Member.Active())

	acct, err := l.Store.GetAccount(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, storetest.Outside, acct.CSMEmail)
	a, err := l.Store.GetApproval(ctx, approval)
	require.NoError(t, err)
	require.Equal(t, storetest.Outside, a.AssigneeEmail)
	k, err := l.Store.GetTask(ctx, task)
	require.NoError(t, err)
	require.Equal(t, storetest.Outside, k.AssigneeEmail)
	_, err = l.Store.LookupAPIKey(ctx, secret)
	require.ErrorIs(t, err, store.ErrUnknownKey)

	events, err := l.Store.AccountEvents(ctx, "acme", 10)
	require.NoError(t, err)
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	require.Subset(t, types, []string{"csm_changed", "approval_reassigned", "task_reassigned"})

	members, err := l.Store.ListTeamMembers(ctx, "", 10)
	require.NoError(t, err)
	for _, m := range members {
		require.Equal(t, m.Email == storetest.CSM, m.DeactivatedAt != nil, m.Email)
	}

	// Lee manages nobody active now; deactivating them moves nothing but
	// the manager link of casey (deactivated, still linked) up to nobody.
	d, err = l.Store.DeactivateMember(ctx, storetest.Manager, storetest.Outside)
	require.NoError(t, err)
	require.Equal(t, 1, d.Reports)
	casey, err := l.Store.TeamMemberByEmail(ctx, storetest.CSM)
	require.NoError(t, err)
	require.Nil(t, casey.ManagerEmail, "Lee had no manager: casey reports to nobody")

	// Reactivating lets casey be given work again; what moved stays moved.
	casey, err = l.Store.ReactivateMember(ctx, storetest.CSM)
	require.NoError(t, err)
	require.True(t, casey.Active())
	acct, err = l.Store.GetAccount(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, storetest.Outside, acct.CSMEmail)
	_, err = l.Store.LookupAPIKey(ctx, secret)
	require.ErrorIs(t, err, store.ErrUnknownKey, "revoked keys stay revoked")
}

// A deactivation that fails half-way moves nothing: the database refuses
// the last of its writes (revoking the keys) and the accounts, approvals
// and tasks it had moved before are where they were.
func TestDeactivationIsOneTransaction(t *testing.T) {
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	ctx := context.Background()
	for _, m := range []store.UpsertTeamMember{
		{Email: "casey@cs.test", Name: "Casey", Level: "csm"},
		{Email: "robin@cs.test", Name: "Robin", Level: "csm"},
	} {
		_, _, err := st.UpsertTeamMember(ctx, m)
		require.NoError(t, err)
	}
	_, _, err := st.UpsertAccount(ctx, store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 1, Segment: "smb",
		CSMEmail: "casey@cs.test", Timezone: "UTC", LifecycleStage: "adoption", Status: "active"})
	require.NoError(t, err)
	task, err := st.CreateAdHocTask(ctx, store.NewAdHocTask{AccountID: "acme", AssigneeEmail: "casey@cs.test", Title: "Call",
		Priority: "normal", CreatedBy: "casey@cs.test"})
	require.NoError(t, err)
	_, _, err = st.CreateAPIKey(ctx, "casey", "csm", "casey@cs.test")
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `
		CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
		CREATE TRIGGER refuse BEFORE UPDATE ON api_keys FOR EACH ROW EXECUTE FUNCTION refuse();`)
	require.NoError(t, err)

	_, err = st.DeactivateMember(ctx, "casey@cs.test", "robin@cs.test")
	require.ErrorContains(t, err, "refused")
	acct, err := st.GetAccount(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "casey@cs.test", acct.CSMEmail, "nothing half-moved")
	k, err := st.GetTask(ctx, task.ID)
	require.NoError(t, err)
	require.Equal(t, "casey@cs.test", k.AssigneeEmail)
	casey, err := st.TeamMemberByEmail(ctx, "casey@cs.test")
	require.NoError(t, err)
	require.True(t, casey.Active())
}

func TestDeactivationRefusals(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	_, err := l.Store.DeactivateMember(ctx, storetest.Outside, storetest.Manager)
	require.NoError(t, err)
	for _, tt := range []struct {
		name, member, successor string
		want                    error
	}{
		{"an unknown member", "ghost@cs.test", storetest.Manager, store.ErrNotFound},
		{"an unknown successor", storetest.CSM, "ghost@cs.test", store.ErrUnknownMember},
		{"themselves", storetest.CSM, storetest.CSM, store.ErrSuccessorIsMember},
		{"a deactivated successor", storetest.CSM, storetest.Outside, store.ErrInactiveMember},
		{"twice", storetest.Outside, storetest.Manager, store.ErrAlreadyDeactivated},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Store.DeactivateMember(ctx, tt.member, tt.successor)
			require.ErrorIs(t, err, tt.want)
			acct, err := l.Store.GetAccount(ctx, "acme")
			require.NoError(t, err)
			require.Equal(t, storetest.CSM, acct.CSMEmail, "nothing moved")
		})
	}
}

// The last active admin member keeps the role and stays active.
func TestTheLastAdminStays(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	for _, email := range []string{storetest.CSM, storetest.Manager} {
		_, _, err := l.Store.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: email, Name: email, Level: "csm", Role: "admin"})
		require.NoError(t, err)
	}
	_, err := l.Store.DeactivateMember(ctx, storetest.Manager, storetest.Outside)
	require.NoError(t, err, "another admin remains")
	_, err = l.Store.DeactivateMember(ctx, storetest.CSM, storetest.Outside)
	require.ErrorIs(t, err, store.ErrLastAdmin)
	_, _, err = l.Store.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: storetest.CSM, Name: "Casey", Level: "csm", Role: "ops"})
	require.ErrorIs(t, err, store.ErrLastAdmin)
	m, _, err := l.Store.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: storetest.CSM, Name: "Casey C", Level: "csm"})
	require.NoError(t, err, "an edit without a role keeps it")
	require.Equal(t, "admin", m.Role)
	require.Equal(t, "UTC", m.Timezone)
	m, _, err = l.Store.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: storetest.CSM, Name: "Casey C", Level: "csm", Timezone: "Europe/Berlin"})
	require.NoError(t, err)
	require.Equal(t, "Europe/Berlin", m.Timezone)
}

// A deactivated member is given no account, key, report or task, and the
// ladder climbs past them.
func TestDeactivatedMembersGetNoNewWork(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	_, err := l.Store.DeactivateMember(ctx, storetest.Outside, storetest.Manager)
	require.NoError(t, err)
	_, _, err = l.Store.UpsertAccount(ctx, store.UpsertAccount{ID: "globex", Name: "Globex", ARR: 1, Segment: "smb",
		CSMEmail: storetest.Outside, Timezone: "UTC", LifecycleStage: "adoption", Status: "active"})
	require.ErrorIs(t, err, store.ErrInactiveMember)
	_, _, err = l.Store.CreateAPIKey(ctx, "other", "csm", storetest.Outside)
	require.ErrorIs(t, err, store.ErrInactiveMember)
	_, _, err = l.Store.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "new@cs.test", Name: "New", Level: "csm", ManagerEmail: storetest.Outside})
	require.ErrorIs(t, err, store.ErrInactiveMember)
	_, err = l.Store.CreateAdHocTask(ctx, store.NewAdHocTask{AccountID: "acme", AssigneeEmail: storetest.Outside, Title: "x",
		Priority: "normal", CreatedBy: "ops"})
	require.ErrorIs(t, err, store.ErrInactiveMember)

	// A deactivated manager still linked (by hand: deactivating moves reports
	// up) is skipped: the senior task goes to the top of the active ladder.
	_, err = poolExec(t, l, `UPDATE team_members SET deactivated_at = now() WHERE email = $1`, storetest.Manager)
	require.NoError(t, err)
	task, _, err := l.Store.CreateTask(ctx, store.NewTask{RunID: l.RunID, StepID: "exec", AccountID: l.AccountID,
		AssigneeLevel: "senior_csm", Title: "Escalate", Priority: "high"})
	require.NoError(t, err)
	require.Equal(t, storetest.CSM, task.AssigneeEmail)
	a, err := l.Store.CreateApproval(ctx, store.NewApproval{RunID: l.RunID, StepID: "qbr", AccountID: l.AccountID,
		AssigneeLevel: "csm", Draft: []byte(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	_, err = l.Store.EscalateApproval(ctx, a.ID, 2, time.Now().Add(time.Hour))
	require.ErrorIs(t, err, store.ErrTopOfLadder, "the only manager is deactivated")
}

// poolExec runs SQL on the ladder's database.
func poolExec(t *testing.T, l storetest.Ladder, sql string, args ...any) (int64, error) {
	t.Helper()
	tag, err := l.Pool.Exec(context.Background(), sql, args...)
	return tag.RowsAffected(), err
}

// An ad-hoc task has no run, says who made it, and completes without one;
// the table refuses a task with neither a run nor a maker.
func TestAdHocTasks(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	due := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	task, err := l.Store.CreateAdHocTask(ctx, store.NewAdHocTask{AccountID: "acme", AssigneeEmail: storetest.CSM, Title: "Send the deck",
		Priority: "high", DueAt: &due, CreatedBy: storetest.Manager})
	require.NoError(t, err)
	require.Nil(t, task.RunID)
	require.Empty(t, task.StepID)
	require.Equal(t, storetest.Manager, *task.CreatedBy)
	require.Equal(t, due, task.DueAt.UTC())
	_, err = l.Store.CreateAdHocTask(ctx, store.NewAdHocTask{AccountID: "ghost", AssigneeEmail: storetest.CSM, Title: "x",
		Priority: "normal", CreatedBy: "ops"})
	require.ErrorIs(t, err, store.ErrNotFound)

	listed, err := l.Store.ListTasks(ctx, store.TaskFilter{AssigneeEmail: storetest.CSM})
	require.NoError(t, err)
	require.Len(t, listed, 1)
	done, err := l.Store.CompleteTask(ctx, task.ID, "sent", "")
	require.NoError(t, err)
	require.Equal(t, states.TaskCompleted, done.Status)

	_, err = poolExec(t, l, `INSERT INTO tasks (account_id, assignee_id, title) SELECT 'acme', id, 'x' FROM team_members LIMIT 1`)
	require.ErrorContains(t, err, "tasks_run_or_person")

	moved, err := l.Store.ReassignTask(ctx, task.ID, storetest.Manager, "ops")
	require.ErrorIs(t, err, store.ErrTaskClosed, "a closed task stays with whoever closed it")
	require.Empty(t, moved.ID)
}

// A snoozed task leaves its assignee's inbox until its time and shows in
// the other lists with when it comes back; reassigning moves it.
func TestSnoozeAndReassign(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	task, err := l.Store.CreateAdHocTask(ctx, store.NewAdHocTask{AccountID: "acme", AssigneeEmail: storetest.CSM, Title: "Call",
		Priority: "normal", CreatedBy: storetest.CSM})
	require.NoError(t, err)
	inbox := func(snoozed string) int {
		t.Helper()
		list, err := l.Store.ListTasks(ctx, store.TaskFilter{AssigneeEmail: storetest.CSM, Status: states.TaskOpen, Snoozed: snoozed})
		require.NoError(t, err)
		return len(list)
	}
	require.Equal(t, 1, inbox(store.SnoozedAwake))

	until := time.Now().Add(48 * time.Hour)
	snoozed, err := l.Store.SnoozeTask(ctx, task.ID, &until, storetest.CSM)
	require.NoError(t, err)
	require.True(t, snoozed.Snoozed(time.Now()))
	require.Equal(t, 0, inbox(store.SnoozedAwake), "out of the inbox")
	require.Equal(t, 1, inbox(store.SnoozedOnly))
	require.Equal(t, 1, inbox(""), "other lists show it")

	past := time.Now().Add(-time.Minute)
	_, err = l.Store.SnoozeTask(ctx, task.ID, &past, storetest.CSM)
	require.NoError(t, err)
	require.Equal(t, 1, inbox(store.SnoozedAwake), "back once its time has come")
	_, err = l.Store.SnoozeTask(ctx, task.ID, nil, storetest.CSM)
	require.NoError(t, err)

	moved, err := l.Store.ReassignTask(ctx, task.ID, storetest.Manager, storetest.CSM)
	require.NoError(t, err)
	require.Equal(t, storetest.Manager, moved.AssigneeEmail)
	_, err = l.Store.ReassignTask(ctx, task.ID, "ghost@cs.test", storetest.CSM)
	require.ErrorIs(t, err, store.ErrUnknownMember)
	_, err = l.Store.ReassignTask(ctx, uuid.New(), storetest.CSM, storetest.CSM)
	require.ErrorIs(t, err, store.ErrNotFound)

	events, err := l.Store.AccountEvents(ctx, "acme", 10)
	require.NoError(t, err)
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	require.Equal(t, []string{"task_reassigned", "task_woken", "task_snoozed", "task_snoozed", "task_created"}, types[:5])
}

// Notes are the account's: the latest call or meeting is its last
// contact, a plain note is not; the timeline merges notes and events,
// newest first, page by page.
func TestNotesLastContactAndTimeline(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	last, err := l.Store.LastContact(ctx, "acme", now)
	require.NoError(t, err)
	require.Nil(t, last)
	for _, n := range []store.NewNote{
		{Kind: store.NoteCall, Body: "Kickoff call", HappenedAt: now.Add(-72 * time.Hour)},
		{Kind: store.NoteNote, Body: "Champion on leave", HappenedAt: now.Add(-24 * time.Hour)},
		{Kind: store.NoteMeeting, Body: "QBR", HappenedAt: now.Add(-48 * time.Hour)},
	} {
		n.AccountID, n.AuthorEmail = "acme", storetest.CSM
		_, err := l.Store.AddNote(ctx, n)
		require.NoError(t, err)
	}
	_, err = l.Store.AddNote(ctx, store.NewNote{AccountID: "ghost", Kind: store.NoteCall, Body: "x", AuthorEmail: "x", HappenedAt: now})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = l.Store.AddNote(ctx, store.NewNote{AccountID: "acme", Kind: "email", Body: "x", AuthorEmail: "x", HappenedAt: now})
	require.Error(t, err, "the table keeps the kinds")

	last, err = l.Store.LastContact(ctx, "acme", now)
	require.NoError(t, err)
	require.Equal(t, now.Add(-48*time.Hour), last.UTC(), "the meeting: the later note is not a contact")
	last, err = l.Store.LastContact(ctx, "acme", now.Add(-60*time.Hour))
	require.NoError(t, err)
	require.Equal(t, now.Add(-72*time.Hour), last.UTC(), "as of an earlier time")

	var all []store.TimelineEntry
	var after *store.TimelineKey
	for {
		page, err := l.Store.Timeline(ctx, "acme", after, 2)
		require.NoError(t, err)
		all = append(all, page...)
		if len(page) < 2 {
			break
		}
		e := page[len(page)-1]
		after = &store.TimelineKey{At: e.At, Source: e.Source, ID: e.ID}
	}
	require.GreaterOrEqual(t, len(all), 5, "three notes, the account's creation and the run's start")
	seen := map[string]bool{}
	for i, e := range all {
		require.False(t, seen[e.Source+e.ID], "no repeats across pages")
		seen[e.Source+e.ID] = true
		if i > 0 {
			require.False(t, e.At.After(all[i-1].At), "newest first")
		}
	}
	require.Equal(t, store.TimelineEvent, all[0].Source, "the run started now, after every note")
	var kinds []string
	for _, e := range all {
		if e.Source == store.TimelineNote {
			kinds = append(kinds, e.Type)
			require.Equal(t, storetest.CSM, *e.Author)
		}
	}
	require.Equal(t, []string{"note", "meeting", "call"}, kinds)
}

// A key records its last use, at most once a minute.
func TestKeysRecordTheirLastUse(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	k, secret, err := l.Store.CreateAPIKey(ctx, "ops", "ops", "")
	require.NoError(t, err)
	require.Nil(t, k.LastUsedAt)
	_, err = l.Store.LookupAPIKey(ctx, secret)
	require.NoError(t, err)
	keys, err := l.Store.ListAPIKeys(ctx, nil, 10)
	require.NoError(t, err)
	require.NotNil(t, keys[0].LastUsedAt)
	first := *keys[0].LastUsedAt
	_, err = l.Store.LookupAPIKey(ctx, secret)
	require.NoError(t, err)
	keys, err = l.Store.ListAPIKeys(ctx, nil, 10)
	require.NoError(t, err)
	require.Equal(t, first, *keys[0].LastUsedAt, "not again within the minute")
	_, err = poolExec(t, l, `UPDATE api_keys SET last_used_at = now() - interval '2 minutes'`)
	require.NoError(t, err)
	_, err = l.Store.LookupAPIKey(ctx, secret)
	require.NoError(t, err)
	keys, err = l.Store.ListAPIKeys(ctx, nil, 10)
	require.NoError(t, err)
	require.True(t, keys[0].LastUsedAt.After(first.Add(-time.Second)), "again after it")
}

// Tasks a run makes while its account's CSM is being deactivated never
// stay with them: the pick waits for the deactivation and picks again.
func TestNoTaskSlipsPastADeactivation(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	const makers = 8
	errs := make(chan error, makers+1)
	start := make(chan struct{})
	for i := range makers {
		go func() {
			<-start
			for j := range 10 {
				_, _, err := l.Store.CreateTask(ctx, store.NewTask{RunID: l.RunID, StepID: "step-" + string(rune('a'+i)) + string(rune('a'+j)),
					AccountID: l.AccountID, AssigneeLevel: "csm", Title: "Call", Priority: "normal"})
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	go func() {
		<-start
		time.Sleep(time.Millisecond)
		_, err := l.Store.DeactivateMember(ctx, storetest.CSM, storetest.Outside)
		errs <- err
	}()
	close(start)
	for range makers + 1 {
		require.NoError(t, <-errs)
	}
	var left int
	require.NoError(t, l.Pool.QueryRow(ctx, `
		SELECT count(*) FROM tasks k JOIN team_members t ON t.id = k.assignee_id WHERE t.email = $1 AND k.status = 'open'`,
		storetest.CSM).Scan(&left))
	require.Zero(t, left)
}
