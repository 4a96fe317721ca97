package app

import (
	"context"
	"errors"
	"slices"

	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/triggers"
)

// Reported is what reporting an event did.
type Reported struct {
	// DeliveredTo is how many live runs of the account got the event.
	DeliveredTo int
	// Signal is the risk signal the event raised ("": none).
	Signal string
}

// ReportEvent records an event of an account: delivered to its live runs
// (a wait_for step waiting for it goes on) and firing the triggers it
// matches. A csm reports for the accounts of their ladder (the account's
// CSM is them or below them: team.ErrNotInLadder elsewhere), admin and ops
// for any. Bad names and data are an *invalid.Error; an unknown account is
// runs.ErrUnknownAccount.
func (a *App) ReportEvent(ctx context.Context, by team.Actor, accountID, name string, data map[string]any) (Reported, error) {
	if bad := triggers.CheckEvent(name, data); len(bad) > 0 {
		e := &invalid.Error{What: "event"}
		for _, fe := range bad {
			e.Add(fe.Field, "%s", fe.Message)
		}
		return Reported{}, e
	}
	acct, err := a.Accounts.GetAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return Reported{}, runs.ErrUnknownAccount
	}
	if err != nil {
		return Reported{}, err
	}
	if err := team.MayAct(ctx, a.ladder, by, acct.CSMEmail); err != nil {
		return Reported{}, err
	}
	n, signal, err := a.Triggers.Event(ctx, accountID, name, data)
	return Reported{DeliveredTo: n, Signal: signal}, err
}

// MayReport says whether the person may report events and log notes for
// the account, as ReportEvent and the timeline decide: what a page offers.
func (a *App) MayReport(ctx context.Context, by team.Actor, acct store.Account) (bool, error) {
	if !slices.Contains(team.Reporters, by.Role) {
		return false, nil
	}
	err := team.MayAct(ctx, a.ladder, by, acct.CSMEmail)
	if errors.Is(err, team.ErrNotInLadder) {
		return false, nil
	}
	return err == nil, err
}
