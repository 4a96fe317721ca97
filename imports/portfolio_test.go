package imports_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/imports"
	"github.com/playbookd/playbookd/portfolio"
)

// A book imported today with years of history has its retention: each
// account counts from its contract_start, not from the import, and one
// imported churned stopped at its renewal date (or at the import when no
// date says earlier). A change after the import counts from when it was
// made; an account without a contract start joins on the day it is created.
func TestPortfolioOfAnImportedBook(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	today := portfolio.Today(time.Now()) // before the import: the test may cross midnight
	day := func(years, months int) *time.Time {
		d := today.AddDate(years, months, 0)
		return &d
	}
	book := []struct {
		id              string
		arr             float64
		status          string
		contract, renew *time.Time
	}{
		{"steady", 100000, "active", day(-3, 0), day(0, 6)},
		{"grows", 50000, "active", day(-2, 0), day(0, 2)},              // expanded to 95k after the import
		{"lost-at-renewal", 30000, "churned", day(-1, -6), day(0, -4)}, // in the period
		{"lost-long-ago", 70000, "churned", day(-3, 0), day(-1, -2)},   // before the period
		{"lost-undated", 40000, "churned", day(-2, 0), nil},            // churned at the import
		{"joined-lately", 20000, "active", day(0, -3), day(0, 9)},      // joined in the period
		{"no-contract-start", 10000, "active", nil, nil},               // joins today
	}
	rows := make([]imports.Row, len(book))
	for i, b := range book {
		a := account(b.id, "casey@cs.test")
		a.ARR, a.Status, a.ContractStart, a.RenewalDate = b.arr, b.status, b.contract, b.renew
		rows[i] = imports.Row{Row: i + 1, ID: b.id, Account: a}
	}
	started, err := f.svc.Start(ctx, "csv", rows)
	require.NoError(t, err)
	f.runWorkflow(t, started.ID)
	im, err := f.svc.Get(ctx, started.ID)
	require.NoError(t, err)
	require.Equal(t, len(book), im.Created, "%s", im.Errors)

	grows := account("grows", "casey@cs.test")
	grows.ARR, grows.ContractStart, grows.RenewalDate = 95000, day(-2, 0), day(0, 2)
	_, _, err = f.st.UpsertAccount(ctx, grows)
	require.NoError(t, err)

	pct := func(p float64) *float64 { return &p }
	tests := []struct {
		name     string
		from, to time.Time
		want     portfolio.Retention
	}{
		// At the start: steady 100k, grows 50k, lost-at-renewal 30k,
		// lost-undated 40k = 220k, 4 logos. At the end: steady 100k, grows
		// 95k. GRR: (100 + 50) / 220 = 68.2 %; NRR: (100 + 95) / 220 =
		// 88.6 %; logos: 2 / 4 = 50 %.
		{"the last 12 months", portfolio.YearTo(today), today, portfolio.Retention{
			AccountsAtStart: 4, AccountsKept: 2, ARRAtStart: 220000, ARRKept: 150000, ARRAtEnd: 195000,
			GRR: pct(68.2), NRR: pct(88.6), LogoRetention: pct(50)}},
		// At today's start: steady, grows, joined-lately and lost-undated
		// (churned at the import) = 210k; no-contract-start joined after.
		// GRR: (100 + 50 + 20) / 210 = 81 %; NRR: (100 + 95 + 20) / 210 =
		// 102.4 %; logos: 3 / 4 = 75 %.
		{"today", today, today, portfolio.Retention{
			AccountsAtStart: 4, AccountsKept: 3, ARRAtStart: 210000, ARRKept: 170000, ARRAtEnd: 215000,
			GRR: pct(81), NRR: pct(102.4), LogoRetention: pct(75)}},
		// Two years ago to a year and a half ago: steady, lost-long-ago
		// (not renewed later), and grows and lost-undated, customers from
		// the period's first day, their contracts' = 260k; lost-at-renewal
		// joined on the period's last day.
		{"a past half year", *day(-2, 0), *day(-1, -6), portfolio.Retention{
			AccountsAtStart: 4, AccountsKept: 4, ARRAtStart: 260000, ARRKept: 260000, ARRAtEnd: 260000,
			GRR: pct(100), NRR: pct(100), LogoRetention: pct(100)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := portfolio.Build(ctx, f.st, tt.from, tt.to)
			require.NoError(t, err)
			require.Equal(t, tt.want, r.Retention)
		})
	}
}
