package store_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

// Each event is applied once, on its own outbox row: the newest event is the
// row's delivery, every new one is on the timeline, suppressing ones list the
// address (unsubscribing flags the contacts).
func TestRecordDeliveriesAppliesEachEventOnce(t *testing.T) {
	f := newFixture(t)
	run := f.startRun(t)
	outbox := map[string]*uuid.UUID{}
	for _, to := range []string{"pat@acme.test", "sam@acme.test"} {
		e, err := f.st.ClaimEmail(f.ctx, store.NewEmail{RunID: run, StepID: "welcome-email", AccountID: "acme", Recipient: to,
			Template: "welcome", Subject: "Hi", Status: states.EmailPending})
		if err != nil {
			t.Fatal(err)
		}
		outbox[to] = &e.ID
	}
	pat, sam, unknown := outbox["pat@acme.test"], outbox["sam@acme.test"], new(uuid.New())
	at := func(s int) time.Time { return time.Unix(1_700_000_000+int64(s), 0).UTC() }
	first := []store.DeliveryEvent{
		{Key: "e1", EmailID: pat, Event: "delivered", At: at(10)},
		{Key: "e2", EmailID: pat, Event: "open", At: at(20)},
		{Key: "e3", EmailID: sam, Event: "delivered", At: at(15)},
		{Key: "e4", EmailID: sam, Event: "bounce", At: at(5), SuppressAs: "bounce", Address: "sam@acme.test"},
		{Key: "e5", EmailID: unknown, Event: "bounce", At: at(1), SuppressAs: "bounce", Address: "x@elsewhere.test"},
		{Key: "e6", EmailID: pat, Event: "unsubscribe", At: at(20), SuppressAs: "unsubscribe", Address: "pat@acme.test"},
	}
	res, err := f.st.RecordDeliveries(f.ctx, first)
	if err != nil || res != (store.DeliveryResult{Applied: 6, Suppressed: 3}) {
		t.Fatalf("first batch: %+v %v", res, err)
	}
	// SendGrid re-sends the batch with one more event.
	res, err = f.st.RecordDeliveries(f.ctx, append(first, store.DeliveryEvent{Key: "e7", EmailID: sam, Event: "open", At: at(3)}))
	if err != nil || res != (store.DeliveryResult{Applied: 1}) {
		t.Fatalf("re-sent batch: %+v %v", res, err)
	}

	for to, want := range map[string]string{"pat@acme.test": "unsubscribe", "sam@acme.test": "delivered"} {
		e, err := f.st.GetEmail(f.ctx, *outbox[to])
		if err != nil || e.Delivery != want {
			t.Errorf("%s: delivery %q, want %q (the newest event; the later one on a tie) %v", to, e.Delivery, want, err)
		}
	}
	events, err := f.st.RunEvents(f.ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range events {
		if who, ok := e.Data["to"].(string); ok && strings.HasPrefix(e.Type, "email_") {
			got[e.Type+" "+who]++
		} else if who, ok := e.Data["email"].(string); ok && e.Type == "suppressed" {
			got[e.Type+" "+who]++
		}
	}
	want := map[string]int{
		"email_delivered pat@acme.test": 1, "email_open pat@acme.test": 1, "email_unsubscribe pat@acme.test": 1,
		"email_delivered sam@acme.test": 1, "email_bounce sam@acme.test": 1, "email_open sam@acme.test": 1,
		"suppressed sam@acme.test": 1, "suppressed pat@acme.test": 1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("run timeline %v, want %v", got, want)
	}
	rows, err := f.pool.Query(f.ctx, `SELECT email || ' ' || reason FROM suppressions ORDER BY email`)
	if err != nil {
		t.Fatal(err)
	}
	suppressed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(suppressed) != 3 || suppressed[0] != "pat@acme.test unsubscribe" || suppressed[1] != "sam@acme.test bounce" ||
		suppressed[2] != "x@elsewhere.test bounce" {
		t.Errorf("suppressions %v %v", suppressed, err)
	}
	var flagged []string
	rows, _ = f.pool.Query(f.ctx, `SELECT email FROM contacts WHERE unsubscribed ORDER BY email`)
	if flagged, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(flagged) != 1 || flagged[0] != "pat@acme.test" {
		t.Errorf("unsubscribed contacts %v %v", flagged, err)
	}
}

// Each event turns on its outbox row's analytics flag once: a re-sent event
// or a second open changes nothing, an old event does not replace a newer
// delivery but still sets its flag, and the analytics count each email once.
func TestRecordDeliveriesSetsEmailFlagsOnce(t *testing.T) {
	f := newFixture(t)
	run := f.startRun(t)
	var ids []*uuid.UUID
	for _, to := range []string{"pat@acme.test", "sam@acme.test", "kim@acme.test"} {
		e, err := f.st.ClaimEmail(f.ctx, store.NewEmail{RunID: run, StepID: "welcome-email", AccountID: "acme", Recipient: to,
			Template: "welcome", Subject: "Hi", Status: states.EmailPending})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, &e.ID)
	}
	pat, sam := ids[0], ids[1]
	at := func(s int) time.Time { return time.Unix(1_700_000_000+int64(s), 0).UTC() }
	batches := [][]store.DeliveryEvent{
		{{Key: "d1", EmailID: pat, Event: "delivered", At: at(10)}, {Key: "o1", EmailID: pat, Event: "open", At: at(20)},
			{Key: "d2", EmailID: sam, Event: "delivered", At: at(10)}},
		// Re-sent, plus a second open and a click of pat's, and an old bounce of sam's.
		{{Key: "d1", EmailID: pat, Event: "delivered", At: at(10)}, {Key: "o1", EmailID: pat, Event: "open", At: at(20)},
			{Key: "o2", EmailID: pat, Event: "open", At: at(30)}, {Key: "c1", EmailID: pat, Event: "click", At: at(31)},
			{Key: "b2", EmailID: sam, Event: "bounce", At: at(5)}},
		// Replayed whole.
		{{Key: "o2", EmailID: pat, Event: "open", At: at(30)}, {Key: "c1", EmailID: pat, Event: "click", At: at(31)},
			{Key: "u2", EmailID: sam, Event: "group_unsubscribe", At: at(40)}},
	}
	for i, b := range batches {
		if _, err := f.st.RecordDeliveries(f.ctx, b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	type flags struct{ delivery, set string }
	rows, err := f.pool.Query(f.ctx, `
		SELECT recipient, delivery, concat_ws(',', CASE WHEN delivered THEN 'delivered' END, CASE WHEN opened THEN 'opened' END,
		       CASE WHEN clicked THEN 'clicked' END, CASE WHEN bounced THEN 'bounced' END, CASE WHEN unsubscribed THEN 'unsubscribed' END)
		FROM emails WHERE run_id = $1`, run)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]flags{}
	var to string
	var fl flags
	if _, err := pgx.ForEachRow(rows, []any{&to, &fl.delivery, &fl.set}, func() error { got[to] = fl; return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[string]flags{
		"pat@acme.test": {"click", "delivered,opened,clicked"},
		"sam@acme.test": {"group_unsubscribe", "delivered,bounced,unsubscribed"},
		"kim@acme.test": {"", ""},
	}
	if !maps.Equal(got, want) {
		t.Errorf("outbox flags %v, want %v", got, want)
	}

	figures, err := f.st.PlaybookFigures(f.ctx, store.AnalyticsScope{Key: "onboarding", Version: 1,
		From: time.Now().Add(-24 * time.Hour), To: time.Now().Add(24 * time.Hour)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	counts := figures.Emails
	wantCounts := []store.StepEmails{{Version: 1, Step: "welcome-email", Delivered: 2, Opened: 1, Clicked: 1, Bounced: 1, Unsubscribed: 1}}
	if len(counts) != 1 || counts[0] != wantCounts[0] {
		t.Errorf("email counts %+v, want %+v", counts, wantCounts)
	}
}
