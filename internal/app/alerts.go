package app

import (
	"context"
	"errors"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

// Alerts keeps the risk alerts: an account turning to another band, or
// showing a new risk signal, with what it started and who holds it.
type Alerts interface {
	RiskAlerts(ctx context.Context, f store.RiskAlertFilter) ([]store.RiskAlert, error)
	MarkRiskAlertSeen(ctx context.Context, id int64, memberEmail string) (store.RiskAlert, error)
}

// ErrNoMember refuses marking an alert seen without a team member: an
// admin or ops key that is nobody's sees every alert and dismisses none.
var ErrNoMember = errors.New("only a team member marks an alert seen: this key belongs to nobody")

// AlertPage is a page of the risk alerts of whose inbox ("": every
// account's), newest first; Next is the Before of the next page (0: last).
type AlertPage struct {
	Whose  string
	Alerts []store.RiskAlert
	Next   int64
}

// RiskAlerts lists the risk alerts of the inbox by asks for, as approvals
// and tasks are (team.Inbox): a csm's own unless they ask for someone below
// them in the ladder; admin and ops anyone's, every account's by default.
// A member's list leaves out the alerts they marked seen unless seen is
// asked for.
func (a *App) RiskAlerts(ctx context.Context, by team.Actor, asked string, seen bool, before int64, n int) (AlertPage, error) {
	whose, err := team.Inbox(ctx, a.ladder, by, asked)
	if err != nil {
		return AlertPage{}, err
	}
	alerts, err := a.Alerts.RiskAlerts(ctx, store.RiskAlertFilter{MemberEmail: whose, Unseen: !seen, Before: before, Limit: n + 1})
	if err != nil {
		return AlertPage{}, err
	}
	p := AlertPage{Whose: whose, Alerts: alerts}
	if len(alerts) > n {
		p.Alerts = alerts[:n]
		p.Next = p.Alerts[n-1].ID
	}
	return p, nil
}

// MarkRiskAlertSeen takes an alert out of the member's inbox and digest;
// only they mark their own (store.ErrNotYourAlert otherwise).
func (a *App) MarkRiskAlertSeen(ctx context.Context, by team.Actor, id int64) (store.RiskAlert, error) {
	if by.Email == "" {
		return store.RiskAlert{}, ErrNoMember
	}
	return a.Alerts.MarkRiskAlertSeen(ctx, id, by.Email)
}
