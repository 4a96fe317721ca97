package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"go.temporal.io/sdk/activity"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/compose"
	"github.com/playbookd/playbookd/internal/netguard"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// noticeTemplates are the emails to the team; they are embedded, and a test
// parses them, so they do not fail at run time.
var noticeTemplates = sync.OnceValues(templates.Notices)

// noticeAttempts bounds how long a notice holds up its activity: the run
// cannot take decisions on the approval until CreateApproval returns, so a
// provider or Slack outage must not keep it retrying for long. After the
// last attempt the notice is recorded as failed and the run goes on; the
// approval is in the assignee's console inbox either way.
const noticeAttempts = 5

// Kinds of approval notice: the step id of the email is "<step>/assigned"
// or "<step>/escalated-L<level>", so each is sent once per approval and level.
const (
	noticeAssigned  = "assigned"
	noticeEscalated = "escalated"
)

// tellAssignee tells the approval's assignee at its current level that it is
// theirs to decide: an email through the outbox and, with SlackWebhookURL, a
// Slack message, each claimed before it is sent so a retried activity sends
// neither again. Both link to the approval's console page, which only opens
// it. An error is for Temporal to retry.
func (a *Activities) tellAssignee(ctx context.Context, approval store.Approval, kind string) error {
	if approval.Status != states.ApprovalPending {
		return nil // decided or closed since (a late retry): nothing to ask
	}
	acct, err := a.Store.GetAccount(ctx, approval.AccountID)
	if err != nil {
		return fmt.Errorf("load account: %w", err)
	}
	run, err := a.Store.GetRun(ctx, approval.RunID)
	if err != nil {
		return fmt.Errorf("load run: %w", err)
	}
	member, err := a.Store.TeamMemberByEmail(ctx, approval.AssigneeEmail)
	if err != nil {
		return fmt.Errorf("load assignee: %w", err)
	}
	data := compose.Data(acct, store.Contact{})
	n := templates.Notice{To: templates.Person{Name: member.Name, Email: member.Email}, Account: data.Account, CSM: data.CSM,
		Playbook: run.PlaybookKey, Step: approval.StepID, Level: levelWords(approval.Level),
		Deadline: approval.ExpiresAt.UTC().Format(noticeTime), Link: a.approvalLink(approval)}
	err = a.emailNotice(ctx, approval, kind, n)
	if a.SlackWebhookURL != "" {
		err = errors.Join(err, a.slackNotice(ctx, approval, kind, n))
	}
	if err != nil && activity.GetInfo(ctx).Attempt >= noticeAttempts {
		a.Log.WarnContext(ctx, "approval notice given up", "approval_id", approval.ID, "level", approval.Level, "error", err)
		return nil
	}
	return err
}

// approvalLink is the approval's console page under PUBLIC_BASE_URL.
func (a *Activities) approvalLink(approval store.Approval) string {
	return strings.TrimRight(a.PublicBaseURL, "/") + "/console/approvals/" + approval.ID.String()
}

// levelWords names a ladder level: "2 (senior csm)".
func levelWords(level int) string {
	if level < 1 || level > len(accounts.Levels) {
		return fmt.Sprint(level)
	}
	return fmt.Sprintf("%d (%s)", level, strings.ReplaceAll(accounts.Levels[level-1], "_", " "))
}

// emailNotice sends the notice email once. It is a team email: not
// automated (no frequency cap), no unsubscribe link, and listed apart from
// the customer's emails.
func (a *Activities) emailNotice(ctx context.Context, approval store.Approval, kind string, n templates.Notice) error {
	set, err := noticeTemplates()
	if err != nil {
		return err
	}
	in := contract.SendEmailInput{RunID: approval.RunID.String(), StepID: approval.StepID + "/" + kind,
		AccountID: approval.AccountID, Template: "approval-" + kind}
	if kind == noticeEscalated {
		in.StepID = fmt.Sprintf("%s/escalated-L%d", approval.StepID, approval.Level)
	}
	content, err := set.RenderNotice(in.Template, n)
	if err != nil {
		return templateFailure(err, contract.ErrUnknownTemplate)
	}
	email, err := a.Store.ClaimEmail(ctx, store.NewEmail{RunID: approval.RunID, StepID: in.StepID, AccountID: approval.AccountID,
		Recipient: n.To.Email, Template: in.Template, Subject: content.Subject, HTML: content.HTML, Text: content.Text,
		Status: states.EmailPending, Kind: store.EmailToTeam})
	if err != nil {
		return fmt.Errorf("claim %s notice: %w", kind, err)
	}
	if email.Status != states.EmailPending && email.Status != states.EmailSending {
		return nil
	}
	to := store.Contact{Email: n.To.Email, Name: n.To.Name}
	if _, err := a.deliver(ctx, in, email, to, store.Account{}); err != nil {
		if activity.GetInfo(ctx).Attempt >= noticeAttempts {
			_, _ = a.settle(ctx, email.ID, states.EmailFailed, "not accepted after several attempts: "+err.Error(), "")
		}
		return err
	}
	return nil
}

// slackMessage is an incoming webhook's Block Kit payload: the text is
// what notifications show, the section what the channel shows.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type      string       `json:"type"`
	Text      *slackText   `json:"text,omitempty"`
	Accessory *slackButton `json:"accessory,omitempty"`
}

type slackText struct {
	Type string `json:"type"` // mrkdwn or plain_text
	Text string `json:"text"`
}

type slackButton struct {
	Type     string    `json:"type"` // button
	Text     slackText `json:"text"`
	URL      string    `json:"url"`
	ActionID string    `json:"action_id"`
}

// slackEscape escapes the three characters Slack's mrkdwn gives a meaning.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func slackNoticeMessage(kind string, n templates.Notice) slackMessage {
	head := "Approval needed"
	if kind == noticeEscalated {
		head = "Approval escalated"
	}
	summary := fmt.Sprintf("%s: %s for %s, for %s by %s", head, n.Step, n.Account.Name, n.To.Name, n.Deadline)
	text := fmt.Sprintf("*%s* for <%s|%s>\nAccount *%s* (CSM %s) · playbook %s · ladder level %s\nAssignee: %s · decide by %s",
		head, n.Link, slackEscape.Replace(n.Step), slackEscape.Replace(n.Account.Name), slackEscape.Replace(n.CSM.Name),
		slackEscape.Replace(n.Playbook), n.Level, slackEscape.Replace(n.To.Name+" ("+n.To.Email+")"), n.Deadline)
	return slackMessage{Text: summary, Blocks: []slackBlock{{Type: "section", Text: &slackText{Type: "mrkdwn", Text: text},
		Accessory: &slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: "Open the approval"}, URL: n.Link,
			ActionID: "open-approval"}}}}
}

// slackNotice posts the notice to SLACK_WEBHOOK_URL once per approval and
// level. Like an email, it is claimed before the post and never posted again
// when an earlier attempt may have got through; an answer saying it was not
// taken (429, 5xx, no connection) puts it back for Temporal's retry. A
// refusal is recorded and logged, and the run goes on.
func (a *Activities) slackNotice(ctx context.Context, approval store.Approval, kind string, n templates.Notice) error {
	key := store.ApprovalNotice{ApprovalID: approval.ID, Level: approval.Level, Channel: store.NoticeSlack}
	before, err := a.Store.StartNotice(ctx, key)
	if err != nil {
		return err
	}
	switch before {
	case store.NoticePending:
	case store.NoticeSending:
		return a.settleNotice(ctx, key, store.NoticeUncertain, "an earlier attempt was interrupted while posting; not posted again, to avoid a duplicate")
	default:
		return nil
	}
	body, err := json.Marshal(slackNoticeMessage(kind, n))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.SlackWebhookURL, bytes.NewReader(body))
	if err != nil { // the error would quote the URL, whose path is a secret
		return a.settleNotice(ctx, key, store.NoticeFailed, "SLACK_WEBHOOK_URL does not parse")
	}
	host := req.URL.Hostname()
	req.Header.Set("Content-Type", "application/json")
	client := a.HTTP
	if client == nil {
		client = defaultWebhookClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		var (
			blocked *netguard.BlockedError
			op      *net.OpError
			uerr    *url.Error
		)
		if errors.As(err, &uerr) {
			err = uerr.Err // its text would quote the URL
		}
		switch {
		case errors.As(err, &blocked):
			return a.settleNotice(ctx, key, store.NoticeFailed, fmt.Sprintf("slack %s blocked: %v", host, blocked))
		case errors.As(err, &op) && op.Op == "dial":
			// No connection was made: nothing was posted.
			if serr := a.Store.SettleNotice(ctx, key, store.NoticePending, "last attempt: could not connect"); serr != nil {
				return serr
			}
			return fmt.Errorf("slack %s: %w", host, op)
		default:
			return a.settleNotice(ctx, key, store.NoticeUncertain, fmt.Sprintf("slack %s: the post may have arrived: %v", host, err))
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	answer := fmt.Sprintf("slack %s answered %d", host, resp.StatusCode)
	switch {
	case resp.StatusCode < 300:
		return a.Store.SettleNotice(ctx, key, store.NoticeSent, "")
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		status := store.NoticePending
		if activity.GetInfo(ctx).Attempt >= noticeAttempts {
			status = store.NoticeFailed
		}
		if err := a.Store.SettleNotice(ctx, key, status, answer); err != nil {
			return err
		}
		return errors.New(answer)
	default:
		return a.settleNotice(ctx, key, store.NoticeFailed, answer)
	}
}

// settleNotice records a notice that will not be posted again, logging why
// when it did not go out; it returns nil: the run goes on.
func (a *Activities) settleNotice(ctx context.Context, key store.ApprovalNotice, status, detail string) error {
	if status != store.NoticeSent {
		a.Log.WarnContext(ctx, "slack notice not sent", "approval_id", key.ApprovalID, "level", key.Level, "status", status, "detail", detail)
	}
	return a.Store.SettleNotice(ctx, key, status, detail)
}
