package activities

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// noticeTime is how notices write a time, with its zone's abbreviation:
// approval notices in UTC (team members are in many time zones), a digest
// in its member's zone.
const noticeTime = "Mon 2 Jan 2006 15:04 MST"

// startedWords says what a risk alert started and who holds it: "started
// red-recovery (approval held by Lee Lead; task held by Vic)".
func startedWords(r store.RiskAlert) string {
	var parts []string
	for _, s := range r.Started {
		words := s.PlaybookKey + " " + strings.ReplaceAll(s.Status, "_", " ")
		var holders []string
		for _, w := range s.Work {
			holders = append(holders, w.Kind+" held by "+w.AssigneeName)
		}
		if len(holders) > 0 {
			words += " (" + strings.Join(holders, "; ") + ")"
		}
		parts = append(parts, words)
	}
	return strings.Join(parts, ", ")
}

// sendDigests emails every team member with pending approvals or overdue
// tasks their digest of the day, once: the first sweep at or after
// DigestHourUTC sends it, later sweeps that day find it claimed. A provider
// that does not take one leaves it pending and fails the sweep for its
// retry; the digests already sent are not sent again.
func (a *Activities) sendDigests(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC()
	if now.Hour() < a.DigestHourUTC {
		return 0, nil
	}
	set, err := noticeTemplates()
	if err != nil {
		return 0, err
	}
	digests, err := a.Store.Digests(ctx, now)
	if err != nil {
		return 0, err
	}
	day := now.Truncate(24 * time.Hour)
	sent := 0
	var errs []error
	for _, d := range digests {
		ok, err := a.sendDigest(ctx, set, d, day, now)
		if ok {
			sent++
		}
		errs = append(errs, err)
	}
	return sent, errors.Join(errs...)
}

func (a *Activities) sendDigest(ctx context.Context, set *templates.Set, d store.Digest, day, now time.Time) (bool, error) {
	base := strings.TrimRight(a.PublicBaseURL, "/") + "/console"
	// Times in the member's own zone (UTC unless they set one).
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil || d.Timezone == "" {
		loc = time.UTC
	}
	data := templates.Digest{To: templates.Person{Name: d.Name, Email: d.Email}, Day: now.In(loc).Format("Mon 2 Jan 2006"), Inbox: base + "/"}
	for _, r := range d.Risks {
		data.Risks = append(data.Risks, templates.DigestLine{What: r.Headline(), Account: r.AccountName,
			When: r.CreatedAt.In(loc).Format(noticeTime), Link: base + "/accounts/" + url.PathEscape(r.AccountID), Started: startedWords(r)})
	}
	for _, ap := range d.Approvals {
		data.Approvals = append(data.Approvals, templates.DigestLine{What: fmt.Sprintf("%s at level %s", ap.StepID, levelWords(ap.Level)),
			Account: ap.AccountName, When: ap.ExpiresAt.In(loc).Format(noticeTime), Link: base + "/approvals/" + ap.ID.String()})
	}
	for _, t := range d.Overdue {
		data.Overdue = append(data.Overdue, templates.DigestLine{What: t.Title, Account: t.AccountName, When: t.DueAt.In(loc).Format(noticeTime)})
	}
	content, err := set.RenderDigest("daily-digest", data)
	if err != nil {
		return false, err
	}
	before, err := a.Store.StartDigest(ctx, d.MemberID, day)
	if err != nil || before != states.EmailPending {
		// sending: an earlier attempt died mid-call; never risk a second.
		if err == nil && before == states.EmailSending {
			err = a.Store.SettleDigest(ctx, d.MemberID, day, states.EmailUncertain, "an earlier attempt was interrupted while sending")
		}
		return false, err
	}
	receipt, err := a.Sender.Send(ctx, mail.Message{From: a.From, To: mail.Address{Name: d.Name, Email: d.Email},
		Subject: content.Subject, HTML: content.HTML, Text: content.Text, Categories: []string{"playbookd", "daily-digest"},
		CustomArgs: map[string]string{"digest": d.Email + "/" + day.Format(time.DateOnly)}})
	switch {
	case err == nil:
		return true, a.Store.SettleDigest(ctx, d.MemberID, day, receipt.Status, "")
	case errors.Is(err, mail.ErrRejected):
		return false, a.Store.SettleDigest(ctx, d.MemberID, day, states.EmailFailed, err.Error())
	case errors.Is(err, mail.ErrNotAccepted):
		if serr := a.Store.SettleDigest(ctx, d.MemberID, day, states.EmailPending, "last attempt: "+err.Error()); serr != nil {
			return false, serr
		}
		return false, fmt.Errorf("digest to %s: %w", d.Email, err)
	default:
		return false, a.Store.SettleDigest(ctx, d.MemberID, day, states.EmailUncertain, err.Error())
	}
}
