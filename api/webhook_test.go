package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/config"
)

// sign signs a batch as SendGrid does: ECDSA over sha256(timestamp + payload), DER, base64.
func sign(t testing.TB, key *ecdsa.PrivateKey, ts, payload string) string {
	digest := sha256.Sum256([]byte(ts + payload))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(sig)
}

func (h *harness) postWebhook(t testing.TB, payload, ts, sig string) response {
	req, _ := http.NewRequest("POST", h.srv.URL+"/v1/webhooks/sendgrid", strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
	req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
	return roundTrip(t, req)
}

// postSigned posts a batch signed by SendGrid's stand-in, now.
func (h *harness) postSigned(t testing.TB, payload string) response {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	return h.postWebhook(t, payload, ts, sign(t, webhookSigner, ts, payload))
}

// outboxEmail writes a sent outbox row to pat@acme.test on a new run step
// of the seeded account and returns its id.
func (h *harness) outboxEmail(t *testing.T, runID any, step string) string {
	var id string
	require.NoError(t, h.pool.QueryRow(context.Background(), `
		INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status)
		VALUES ($1, $2, 'acme', 'pat@acme.test', 'welcome', 'Hi', '', '', 'sent') RETURNING id`,
		runID, step).Scan(&id))
	return id
}

// emailTimeline counts the timeline events about an outbox row by type.
func (h *harness) emailTimeline(t *testing.T, emailID string) map[string]int {
	rows, err := h.pool.Query(context.Background(),
		`SELECT type, count(*)::int FROM events WHERE data->>'email_id' = $1 GROUP BY type`, emailID)
	require.NoError(t, err)
	out := map[string]int{}
	for rows.Next() {
		var typ string
		var n int
		require.NoError(t, rows.Scan(&typ, &n))
		out[typ] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// webhookFixture is a seeded harness with a run to hang outbox rows on.
func webhookFixture(t *testing.T) (*harness, any) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	return h, r.body["id"]
}

func TestSendGridWebhookVerifiesSignaturesAndRecordsEvents(t *testing.T) {
	h, runID := webhookFixture(t)
	emailID := h.outboxEmail(t, runID, "welcome-email")

	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	payload := fmt.Sprintf(`[{"email":"pat@acme.test","event":"delivered","timestamp":%d,"outbox_id":%q},
		{"email":"pat@acme.test","event":"bounce","timestamp":%d,"reason":"mailbox full","outbox_id":%q}]`,
		now.Unix()-60, emailID, now.Unix(), emailID)

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.Equal(t, 403, h.postWebhook(t, payload, ts, sign(t, other, ts, payload)).status, "signed by someone else")
	require.Equal(t, 403, h.postWebhook(t, payload+" ", ts, sign(t, webhookSigner, ts, payload)).status, "tampered body")
	require.Equal(t, 403, h.postWebhook(t, payload, ts, "not base64!").status)
	old := strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)
	require.Equal(t, 403, h.postWebhook(t, payload, old, sign(t, webhookSigner, old, payload)).status, "a replayed old batch")
	var delivery string
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT delivery FROM emails WHERE id = $1`, emailID).Scan(&delivery))
	require.Equal(t, "", delivery, "nothing recorded from refused batches")

	require.Equal(t, 400, h.postSigned(t, `{"event":"bounce"}`).status, "not an array: nothing to apply")
	require.Equal(t, 413, h.postSigned(t, "["+strings.Repeat("{},", 50_000)+"{}]").status, "over 50,000 events")

	r := h.postWebhook(t, payload, ts, sign(t, webhookSigner, ts, payload))
	require.Equal(t, 200, r.status, r.raw)
	require.EqualValues(t, 2, r.body["applied"])
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT delivery FROM emails WHERE id = $1`, emailID).Scan(&delivery))
	require.Equal(t, "bounce", delivery, "the latest event wins")
	var reason string
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT reason FROM suppressions WHERE email = 'pat@acme.test'`).Scan(&reason))
	require.Equal(t, "bounce", reason)

	// The key comes from configuration in SendGrid's format.
	der, err := x509.MarshalPKIXPublicKey(&webhookSigner.PublicKey)
	require.NoError(t, err)
	parsed, err := config.WebhookPublicKey(base64.StdEncoding.EncodeToString(der))
	require.NoError(t, err)
	require.True(t, parsed.Equal(&webhookSigner.PublicKey))
	_, err = config.WebhookPublicKey("bm90IGEga2V5")
	require.Error(t, err)
}

// A bad event is skipped and reported, the rest of the batch is applied once,
// and SendGrid re-sending the batch applies nothing new.
func TestSendGridWebhookSkipsBadEventsAndAppliesTheRestOnce(t *testing.T) {
	h, runID := webhookFixture(t)
	now := time.Now().Unix()
	for i, c := range []struct {
		name, bad, field string
	}{
		{"timestamp after 2200", `{"event":"click","timestamp":99999999999999,"sg_event_id":"%s-3","outbox_id":%q}`, "timestamp"},
		{"timestamp before 1900", `{"event":"click","timestamp":-2300000000,"sg_event_id":"%s-3","outbox_id":%q}`, "timestamp"},
		{"timestamp not a number", `{"event":"click","timestamp":"soon","sg_event_id":"%s-3","outbox_id":%q}`, "timestamp"},
		{"no timestamp", `{"event":"click","sg_event_id":"%s-3","outbox_id":%q}`, "timestamp"},
		{"NUL in sg_event_id", `{"event":"click","timestamp":1,"sg_event_id":"%s-\u0000","outbox_id":%q}`, "sg_event_id"},
		{"over-long sg_event_id", `{"event":"click","timestamp":1,"sg_event_id":"%s-` + strings.Repeat("x", 300) + `","outbox_id":%q}`, "sg_event_id"},
		{"outbox_id not a uuid", `{"event":"click","timestamp":1,"sg_event_id":"%s-3","outbox_id":"%s\u0000"}`, "outbox_id"},
		{"unknown event", `{"event":"teleported","timestamp":1,"sg_event_id":"%s-3","outbox_id":%q}`, "event"},
		{"event not a string", `{"event":7,"timestamp":1,"sg_event_id":"%s-3","outbox_id":%q}`, "event"},
		{"not an object", `["%s", %q]`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			emailID := h.outboxEmail(t, runID, fmt.Sprintf("step-%d", i))
			key := fmt.Sprintf("case%d", i)
			event := func(n int, name string, at int64) string {
				return fmt.Sprintf(`{"email":"pat@acme.test","event":%q,"timestamp":%d,"sg_event_id":"%s-%d","outbox_id":%q}`,
					name, at, key, n, emailID)
			}
			payload := "[" + strings.Join([]string{
				event(1, "processed", now-120), event(2, "delivered", now-60),
				fmt.Sprintf(c.bad, key, emailID), event(4, "open", now),
			}, ",") + "]"

			for attempt, want := range []struct{ applied, duplicates int }{{3, 0}, {0, 3}} {
				r := h.postSigned(t, payload)
				require.Equal(t, 200, r.status, r.raw)
				require.EqualValues(t, want.applied, r.body["applied"], "attempt %d: %s", attempt, r.raw)
				require.EqualValues(t, want.duplicates, r.body["duplicates"], r.raw)
				skipped := r.body["skipped"].([]any)
				require.Len(t, skipped, 1, r.raw)
				require.EqualValues(t, 2, skipped[0].(map[string]any)["index"])
				field, _ := skipped[0].(map[string]any)["field"].(string)
				require.Equal(t, c.field, field, r.raw)
				require.Equal(t, map[string]int{"email_processed": 1, "email_delivered": 1, "email_open": 1},
					h.emailTimeline(t, emailID), "the good events, once, and what follows the bad one")
			}
			var delivery string
			require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT delivery FROM emails WHERE id = $1`, emailID).Scan(&delivery))
			require.Equal(t, "open", delivery)
		})
	}
}

// The same signed request posted again (within the timestamp window) changes
// nothing, whether the events carry SendGrid's sg_event_id or not.
func TestSendGridWebhookReplayAppliesOnce(t *testing.T) {
	h, runID := webhookFixture(t)
	now := time.Now().Unix()
	for i, c := range []struct {
		name    string
		event   string // %d timestamp, %q outbox id
		replays []string
	}{
		{name: "sg_event_id", event: `{"email":"pat@acme.test","event":"delivered","timestamp":%d,"sg_event_id":"ZGVsaXZlcmVk","outbox_id":%q}`},
		{name: "no sg_event_id", event: `{"email":"pat@acme.test","event":"delivered","timestamp":%d,"outbox_id":%q}`,
			// The same event serialised differently is the same event.
			replays: []string{`[ {"outbox_id":%[2]q, "timestamp":%[1]d, "event":"delivered", "email":"pat@acme.test"} ]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			emailID := h.outboxEmail(t, runID, fmt.Sprintf("step-%d", i))
			payload := "[" + fmt.Sprintf(c.event, now, emailID) + "]"
			ts := strconv.FormatInt(now, 10)
			sig := sign(t, webhookSigner, ts, payload)
			for n, want := range []struct{ applied, duplicates int }{{1, 0}, {0, 1}, {0, 1}} {
				r := h.postWebhook(t, payload, ts, sig)
				require.Equal(t, 200, r.status, r.raw)
				require.EqualValues(t, want.applied, r.body["applied"], "post %d: %s", n, r.raw)
				require.EqualValues(t, want.duplicates, r.body["duplicates"], r.raw)
			}
			for _, replay := range c.replays {
				r := h.postSigned(t, fmt.Sprintf(replay, now, emailID))
				require.Equal(t, 200, r.status, r.raw)
				require.EqualValues(t, 1, r.body["duplicates"], r.raw)
			}
			require.Equal(t, map[string]int{"email_delivered": 1}, h.emailTimeline(t, emailID))
		})
	}
}

// Only a bare email address is suppressed; anything else is reported, and
// the event itself is still recorded.
func TestSendGridWebhookSuppressesOnlyAddresses(t *testing.T) {
	h, runID := webhookFixture(t)
	emailID := h.outboxEmail(t, runID, "welcome-email")
	now := time.Now().Unix()
	var events []string
	for i, address := range []string{
		`not an address`, `Pat <pat@acme.test>`, `pat@acme.test, ops@acme.test`, ``, `<pat@acme.test>`,
		`\"pat\"`, `pat@`, strings.Repeat("p", 300) + `@acme.test`, `Pat@Acme.TEST`,
	} {
		events = append(events, fmt.Sprintf(`{"email":"%s","event":"bounce","reason":"550","timestamp":%d,"sg_event_id":"b%d","outbox_id":%q}`,
			address, now, i, emailID))
	}
	r := h.postSigned(t, "["+strings.Join(events, ",")+"]")
	require.Equal(t, 200, r.status, r.raw)
	require.EqualValues(t, len(events), r.body["applied"], r.raw)
	var indexes []int
	for _, s := range r.body["not_suppressed"].([]any) {
		require.Equal(t, "email", s.(map[string]any)["field"])
		indexes = append(indexes, int(s.(map[string]any)["index"].(float64)))
	}
	require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, indexes, r.raw)
	rows, err := h.pool.Query(context.Background(), `SELECT email FROM suppressions ORDER BY email`)
	require.NoError(t, err)
	suppressed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"pat@acme.test"}, suppressed)
	require.EqualValues(t, 1, r.body["suppressed"])
}

// NUL bytes (which PostgreSQL refuses in text) anywhere in a batch are never
// a 500: identifiers with one skip their event, a free-text reason is cleaned.
func TestSendGridWebhookNULBytesAreNotA500(t *testing.T) {
	h, runID := webhookFixture(t)
	emailID := h.outboxEmail(t, runID, "welcome-email")
	now := time.Now().Unix()
	payload := fmt.Sprintf(`[
		{"email":"pat@acme.test","event":"bounce","reason":"mailbox\u0000full","timestamp":%[1]d,"sg_event_id":"n0","outbox_id":%[2]q,"useragent":"\u0000"},
		{"email":"pat\u0000@acme.test","event":"spamreport","timestamp":%[1]d,"sg_event_id":"n1","outbox_id":%[2]q},
		{"email":"pat@acme.test","event":"open\u0000","timestamp":%[1]d,"sg_event_id":"n2","outbox_id":%[2]q},
		{"email":"pat@acme.test","event":"open","timestamp":%[1]d,"sg_event_id":"\u0000","outbox_id":%[2]q},
		{"email":"pat@acme.test","event":"open","timestamp":%[1]d,"sg_event_id":"n4","outbox_id":"\u0000"},
		{"\u0000":"\u0000"}
	]`, now, emailID)
	r := h.postSigned(t, payload)
	require.Equal(t, 200, r.status, r.raw)
	require.EqualValues(t, 2, r.body["applied"], r.raw)
	require.Len(t, r.body["skipped"], 4, r.raw)
	require.Len(t, r.body["not_suppressed"], 1, r.raw)
	var reason string
	require.NoError(t, h.pool.QueryRow(context.Background(),
		`SELECT data->>'reason' FROM events WHERE type = 'email_bounce' AND data->>'email_id' = $1`, emailID).Scan(&reason))
	require.Equal(t, "mailbox full", reason)
}

// FuzzSendGridWebhook signs arbitrary bodies: the answer is never a 5xx and
// matches the OpenAPI document.
//
//	go test -run XXX -fuzz FuzzSendGridWebhook -fuzztime 60s ./api
func FuzzSendGridWebhook(f *testing.F) {
	h := newHarness(f)
	for _, body := range []string{
		`[]`, `{}`, `null`, `[null, 1, "x", [], {}]`,
		`[{"email":"a@b.test","event":"bounce","timestamp":1700000000,"sg_event_id":"x","outbox_id":"00000000-0000-0000-0000-000000000001"}]`,
		`[{"email":"\u0000","event":"unsubscribe","timestamp":-99999999999999,"reason":"\u0000"}]`,
		`[{"email":"A@B.TEST","event":"group_unsubscribe","timestamp":1e3}]`,
		`[{"event":"dropped","timestamp":9223372036854775807},{"event":"dropped","timestamp":-9223372036854775808}]`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h.mismatch = t.Errorf
		r := h.postSigned(t, string(body))
		if r.status >= 500 {
			t.Fatalf("%q: %d %s", body, r.status, r.raw)
		}
	})
}

// BenchmarkSendGridWebhook20k posts signed batches of 20,000 new events
// (about 2,000 outbox rows, one in ten events suppressing) through the
// handler against PostgreSQL.
//
//	go test -run '^$' -bench SendGridWebhook20k -benchtime 5x ./api
func BenchmarkSendGridWebhook20k(b *testing.B) {
	h := newHarness(b)
	ctx := context.Background()
	var runID string
	require.NoError(b, h.pool.QueryRow(ctx, `
		WITH m AS (INSERT INTO team_members (email, name, level) VALUES ('b@cs.test', 'B', 'csm') RETURNING id),
		     a AS (INSERT INTO accounts (id, name, arr, segment, csm_id, timezone) SELECT 'bench', 'Bench', 1, 'smb', id, 'UTC' FROM m RETURNING id)
		INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, ended_at)
		SELECT gen_random_uuid(), id, 'onboarding', 1, 'w', 'r', 'completed', now() FROM a RETURNING id`).Scan(&runID))
	_, err := h.pool.Exec(ctx, `INSERT INTO contacts (account_id, email, role) SELECT 'bench', 'c' || g || '@bench.test', 'user' FROM generate_series(1, 2000) g`)
	require.NoError(b, err)
	rows, err := h.pool.Query(ctx, `
		INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status)
		SELECT $1, 's' || g, 'bench', 'c' || g || '@bench.test', 't', 's', '', '', 'sent' FROM generate_series(1, 2000) g
		RETURNING id::text, recipient`, runID)
	require.NoError(b, err)
	type outbox struct{ ID, Recipient string }
	emails, err := pgx.CollectRows(rows, pgx.RowToStructByPos[outbox])
	require.NoError(b, err)
	names := []string{"processed", "delivered", "open", "click", "open", "click", "open", "click", "deferred", "bounce"}

	now := time.Now().Unix()
	for i := range b.N {
		b.StopTimer()
		var sb strings.Builder
		sb.WriteByte('[')
		for n := range 20_000 {
			if n > 0 {
				sb.WriteByte(',')
			}
			e := emails[n%len(emails)]
			fmt.Fprintf(&sb, `{"email":%q,"event":%q,"timestamp":%d,"reason":"r","sg_event_id":"i%d-%d","sg_message_id":"m.%d","outbox_id":%q}`,
				e.Recipient, names[n/len(emails)%len(names)], now-int64(20_000-n), i, n, n, e.ID)
		}
		sb.WriteByte(']')
		payload := sb.String()
		b.StartTimer()
		r := h.postSigned(b, payload)
		require.Equal(b, 200, r.status, r.raw)
		require.EqualValues(b, 20_000, r.body["applied"])
	}
}
