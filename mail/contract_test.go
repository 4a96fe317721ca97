package mail

import (
	"context"
	"errors"
	"testing"

	"github.com/playbookd/playbookd/internal/sendgridtest"
	"github.com/playbookd/playbookd/states"
)

// Every kind of request the sender builds is valid against the spec.
func TestSendGridRequestsMatchTheOfficialSpec(t *testing.T) {
	base := sendgridtest.Start(t)
	sender := NewSendGrid("SG.contract-test", base)
	from := Address{Name: "Customer Success", Email: "success@playbookd.example"}
	to := Address{Name: "Pat Lee", Email: "pat@acme.example"}
	link := "https://cs.example/v1/unsubscribe?token=abc.def"
	tests := map[string]Message{
		"text and html": {From: from, To: to, Subject: "Welcome", Text: "Hi", HTML: "<p>Hi</p>"},
		"text only":     {From: from, To: to, Subject: "Welcome", Text: "Hi"},
		"everything a playbook email carries": {From: from, To: to, Subject: "Welcome to Acmé ✓", Text: "Hi\n--\nUnsubscribe: " + link,
			HTML: "<p>Hi</p>", Categories: []string{"playbookd", "welcome"},
			CustomArgs: map[string]string{"run_id": "r1", "step_id": "welcome-email", "outbox_id": "o1"},
			Headers:    map[string]string{"List-Unsubscribe": "<" + link + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}},
		"dynamic template": {From: from, To: to, TemplateID: "d-0123456789abcdef0123456789abcdef",
			TemplateData: map[string]any{"account_name": "Acme", "unsubscribe_url": link},
			CustomArgs:   map[string]string{"outbox_id": "o2"}, Headers: map[string]string{"List-Unsubscribe": "<" + link + ">"}},
		"no display names": {From: Address{Email: from.Email}, To: Address{Email: to.Email}, Subject: "s", Text: "t"},
	}
	for name, msg := range tests {
		t.Run(name, func(t *testing.T) {
			receipt, err := sender.Send(context.Background(), msg)
			if err != nil {
				t.Fatalf("the spec refuses our request: %v", err)
			}
			if receipt.Status != states.EmailSent {
				t.Fatalf("receipt = %+v", receipt)
			}
		})
	}
	// The mock really validates: a request without a recipient is refused.
	_, err := sender.Send(context.Background(), Message{From: from, Subject: "s", Text: "t"})
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("an invalid request was not refused: %v", err)
	}
}
