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

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/config"
)

// sign signs a batch as SendGrid does: ECDSA over sha256(timestamp + payload), DER, base64.
func sign(t *testing.T, key *ecdsa.PrivateKey, ts, payload string) string {
	digest := sha256.Sum256([]byte(ts + payload))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(sig)
}

func (h *harness) postWebhook(t *testing.T, payload, ts, sig string) int {
	req, _ := http.NewRequest("POST", h.srv.URL+"/v1/webhooks/sendgrid", strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
	req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestSendGridWebhookVerifiesSignaturesAndRecordsEvents(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status)
	var emailID string
	require.NoError(t, h.pool.QueryRow(context.Background(), `
		INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status)
		VALUES ($1, 'welcome-email', 'acme', 'pat@acme.test', 'welcome', 'Hi', '', '', 'sent') RETURNING id`,
		r.body["id"]).Scan(&emailID))

	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	payload := fmt.Sprintf(`[{"email":"pat@acme.test","event":"delivered","timestamp":%d,"outbox_id":%q},
		{"email":"pat@acme.test","event":"bounce","timestamp":%d,"reason":"mailbox full","outbox_id":%q}]`,
		now.Unix()-60, emailID, now.Unix(), emailID)

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.Equal(t, 403, h.postWebhook(t, payload, ts, sign(t, other, ts, payload)), "signed by someone else")
	require.Equal(t, 403, h.postWebhook(t, payload+" ", ts, sign(t, webhookSigner, ts, payload)), "tampered body")
	require.Equal(t, 403, h.postWebhook(t, payload, ts, "not base64!"))
	old := strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)
	require.Equal(t, 403, h.postWebhook(t, payload, old, sign(t, webhookSigner, old, payload)), "a replayed old batch")
	var delivery string
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT delivery FROM emails WHERE id = $1`, emailID).Scan(&delivery))
	require.Equal(t, "", delivery, "nothing recorded from refused batches")

	require.Equal(t, 204, h.postWebhook(t, payload, ts, sign(t, webhookSigner, ts, payload)))
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
