package store_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// arrHistory is an account's ARR history in order, one "arr status when"
// per row: when is the UTC minute of a row derived from the contract
// dates, "now" for a change seen during the test.
func arrHistory(t testing.TB, pool *pgxpool.Pool, account string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT arr::float8, status, from_contract, valid_from FROM arr_history
		WHERE account_id = $1 ORDER BY valid_from, id`, account)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var (
			arr          float64
			status       string
			fromContract bool
			at           time.Time
		)
		require.NoError(t, rows.Scan(&arr, &status, &fromContract, &at))
		when := at.UTC().Format("2006-01-02 15:04")
		if !fromContract && time.Since(at).Abs() < time.Minute {
			when = "now"
		}
		out = append(out, fmt.Sprintf("%g %s %s", arr, status, when))
	}
	require.NoError(t, rows.Err())
	return out
}

// An account's ARR history starts on its contract_start when that came
// before playbookd saw it (an imported book has its past); one seen churned
// first stopped at a renewal date in between, or else when it was seen.
// Changes made after its creation count from when they were made.
func TestARRHistoryStartsOnContractStart(t *testing.T) {
	f := newFixture(t)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	day := func(years, months, days int) *time.Time {
		d := today.AddDate(years, months, days)
		return &d
	}
	midnight := func(d *time.Time) string { return d.Format("2006-01-02") + " 00:00" }
	type save struct {
		arr             float64
		status          string
		contract, renew *time.Time
	}
	tests := []struct {
		name  string
		saves []save
		want  []string
	}{
		{"created today without a contract start: from its creation",
			[]save{{arr: 1000, status: "active"}},
			[]string{"1000 active now"}},
		{"contract starting later: from its creation",
			[]save{{arr: 1000, status: "active", contract: day(0, 0, 30)}},
			[]string{"1000 active now"}},
		{"contract started years ago",
			[]save{{arr: 1000, status: "active", contract: day(-3, 0, 0), renew: day(0, 2, 0)}},
			[]string{"1000 active " + midnight(day(-3, 0, 0)), "1000 active now"}},
		{"seen churned, not renewed at a renewal date in between",
			[]save{{arr: 3000, status: "churned", contract: day(-2, 0, 0), renew: day(0, -4, 0)}},
			[]string{"3000 active " + midnight(day(-2, 0, 0)), "3000 churned " + midnight(day(0, -4, 0)), "3000 churned now"}},
		{"seen churned without a renewal date: churned when seen",
			[]save{{arr: 3000, status: "churned", contract: day(-2, 0, 0)}},
			[]string{"3000 active " + midnight(day(-2, 0, 0)), "3000 churned now"}},
		{"seen churned with a renewal date to come: churned when seen",
			[]save{{arr: 3000, status: "churned", contract: day(-2, 0, 0), renew: day(0, 1, 0)}},
			[]string{"3000 active " + midnight(day(-2, 0, 0)), "3000 churned now"}},
		{"later changes count from when they were made",
			[]save{{arr: 1000, status: "active", contract: day(-1, 0, 0)}, {arr: 2500, status: "active", contract: day(-1, 0, 0)}, {arr: 2500, status: "churned", contract: day(-1, 0, 0)}},
			[]string{"1000 active " + midnight(day(-1, 0, 0)), "1000 active now", "2500 active now", "2500 churned now"}},
		{"contract start given after the creation, then corrected: derived once, from the latest",
			[]save{{arr: 1000, status: "active"}, {arr: 1000, status: "active", contract: day(-1, 0, 0)}, {arr: 1500, status: "active", contract: day(-2, 0, 0)}},
			[]string{"1000 active " + midnight(day(-2, 0, 0)), "1000 active now", "1500 active now"}},
		{"contract start removed: from its creation again",
			[]save{{arr: 1000, status: "active", contract: day(-1, 0, 0)}, {arr: 1000, status: "active"}},
			[]string{"1000 active now"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("hist-%d", i)
			for _, s := range tt.saves {
				_, _, err := f.st.UpsertAccount(f.ctx, store.UpsertAccount{
					ID: id, Name: "History", ARR: s.arr, Segment: "smb", CSMEmail: "csm@cs.test", Timezone: "UTC",
					ContractStart: s.contract, RenewalDate: s.renew, LifecycleStage: "adoption", Status: s.status,
				})
				require.NoError(t, err)
			}
			require.Equal(t, tt.want, arrHistory(t, f.pool, id))
		})
	}
}

// Migration 00027 gives the accounts already there the history their
// contract dates say, and its Down restores the previous trigger and
// history.
func TestARRHistoryMigrationBackfillsAndGoesDown(t *testing.T) {
	ctx := context.Background()
	pool, err := store.Open(ctx, storetest.NewEmptyDatabase(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { _ = db.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("../migrations"))
	require.NoError(t, err)
	_, err = provider.UpTo(ctx, 26)
	require.NoError(t, err)

	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO team_members (email, name, level) VALUES ('csm@cs.test', 'Casey', 'csm')`)
	insert := func(id, status string, contract, renew string) {
		exec(`INSERT INTO accounts (id, name, arr, segment, csm_id, timezone, contract_start, renewal_date, status)
			SELECT $1, 'X', 1000, 'smb', id, 'UTC', NULLIF($2, '')::date, NULLIF($3, '')::date, $4 FROM team_members`, id, contract, renew, status)
	}
	insert("old-active", "active", "2021-03-01", "2030-03-01")
	insert("old-churned", "churned", "2021-03-01", "2024-03-01")
	insert("no-start", "active", "", "")
	before := map[string][]string{
		"old-active":  {"1000 active now"},
		"old-churned": {"1000 churned now"},
		"no-start":    {"1000 active now"},
	}
	for id, want := range before {
		require.Equal(t, want, historyWithoutFlag(t, pool, id), "%s under 00026: from its creation", id)
	}

	_, err = provider.UpTo(ctx, 27)
	require.NoError(t, err)
	require.Equal(t, []string{"1000 active 2021-03-01 00:00", "1000 active now"}, arrHistory(t, pool, "old-active"))
	require.Equal(t, []string{"1000 active 2021-03-01 00:00", "1000 churned 2024-03-01 00:00", "1000 churned now"}, arrHistory(t, pool, "old-churned"))
	require.Equal(t, []string{"1000 active now"}, arrHistory(t, pool, "no-start"))

	_, err = provider.DownTo(ctx, 26)
	require.NoError(t, err)
	for id, want := range before {
		require.Equal(t, want, historyWithoutFlag(t, pool, id), id)
	}
	insert("new-after-down", "active", "2021-03-01", "")
	require.Equal(t, []string{"1000 active now"}, historyWithoutFlag(t, pool, "new-after-down"), "the previous trigger: from the creation")
}

// historyWithoutFlag is arrHistory for a schema without from_contract.
func historyWithoutFlag(t testing.TB, pool *pgxpool.Pool, account string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT arr::float8, status, valid_from FROM arr_history WHERE account_id = $1 ORDER BY valid_from, id`, account)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var (
			arr    float64
			status string
			at     time.Time
		)
		require.NoError(t, rows.Scan(&arr, &status, &at))
		when := at.UTC().Format("2006-01-02 15:04")
		if time.Since(at).Abs() < time.Minute {
			when = "now"
		}
		out = append(out, fmt.Sprintf("%g %s %s", arr, status, when))
	}
	require.NoError(t, rows.Err())
	return out
}
