package app

import (
	"context"
	"time"

	"github.com/playbookd/playbookd/compose"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/simulate"
)

// Simulation is a simulation of the definition from start, with what the
// worker applies to every run: the frequency cap and the organisation's
// send window. The caller says who is enrolled (SimulationFor, or a
// made-up account).
func (a *App) Simulation(def *playbook.Definition, start time.Time) simulate.Input {
	return simulate.Input{Definition: def, Start: start, Cap: a.EmailCap, SendWindow: a.SendWindow, Templates: a.Templates}
}

// SimulationFor is a simulation of a stored account enrolled at start, its
// unsubscribed contacts left out; store.ErrNotFound when there is no such
// account.
func (a *App) SimulationFor(ctx context.Context, def *playbook.Definition, accountID string, start time.Time) (simulate.Input, error) {
	in := a.Simulation(def, start)
	acct, err := a.Accounts.GetAccount(ctx, accountID)
	if err != nil {
		return in, err
	}
	if in.Account, err = a.Accounts.AccountSnapshot(ctx, accountID); err != nil {
		return in, err
	}
	in.Contacts = make([]simulate.Contact, 0, len(acct.Contacts))
	for _, ct := range acct.Contacts {
		if !ct.Unsubscribed {
			in.Contacts = append(in.Contacts, simulate.Contact{Email: ct.Email, Name: ct.Name, Role: ct.Role})
		}
	}
	in.AccountName, in.AccountARR, in.CSM, in.CSMName = acct.Name, acct.ARR, acct.CSMEmail, acct.CSMName
	in.Metrics = compose.Metrics(acct.Health)
	return in, nil
}
