package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

func TestSecretsAreWrittenAndListedWithoutValues(t *testing.T) {
	_, pool := storetest.NewDatabase(t)
	st, ctx := store.New(pool), context.Background()

	s, created, err := st.PutSecret(ctx, "slack-cs-alerts", "https://hooks.slack.com/services/T/B/one", "admin key")
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "admin key", s.CreatedBy)
	s, created, err = st.PutSecret(ctx, "slack-cs-alerts", "https://hooks.slack.com/services/T/B/two", "key pbk_abcd (ops lead)")
	require.NoError(t, err)
	require.False(t, created, "a second put replaces the value")
	require.Equal(t, "admin key", s.CreatedBy)
	require.Equal(t, "key pbk_abcd (ops lead)", s.UpdatedBy)
	require.False(t, s.UpdatedAt.Before(s.CreatedAt))

	v, err := st.SecretValue(ctx, "slack-cs-alerts")
	require.NoError(t, err)
	require.Equal(t, "https://hooks.slack.com/services/T/B/two", v)
	_, err = st.SecretValue(ctx, "nope")
	require.ErrorIs(t, err, store.ErrUnknownSecret)

	_, _, err = st.PutSecret(ctx, "zz-other", "https://hooks.example.com/x", "admin key")
	require.NoError(t, err)
	list, err := st.ListSecrets(ctx, "", 1)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "slack-cs-alerts", list[0].Name)
	list, err = st.ListSecrets(ctx, "slack-cs-alerts", 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "zz-other", list[0].Name)

	missing, err := st.MissingSecrets(ctx, []string{"zz-other", "gone", "slack-cs-alerts", "also-gone"})
	require.NoError(t, err)
	require.Equal(t, []string{"gone", "also-gone"}, missing)

	require.NoError(t, st.DeleteSecret(ctx, "zz-other"))
	require.ErrorIs(t, st.DeleteSecret(ctx, "zz-other"), store.ErrUnknownSecret)
}

// A secret that a version in use names (published, or with live runs)
// cannot be deleted; one only drafts or finished versions name can.
func TestSecretsInUseStay(t *testing.T) {
	f := newFixture(t)
	names := func(secret string) json.RawMessage {
		return json.RawMessage(`{"key":"alerts","name":"Alerts","steps":[{"id":"w","wait":"1d"},
			{"id":"b","if":{"health_band":"red"},"then":[{"id":"n","notify":{"secret":"` + secret + `","message":"hi"}}]}]}`)
	}
	for _, name := range []string{"slack-cs-alerts", "drafts-only"} {
		_, _, err := f.st.PutSecret(f.ctx, name, "https://hooks.slack.com/services/T/B/x", "admin key")
		require.NoError(t, err)
	}
	_, err := f.st.CreatePlaybookVersion(f.ctx, store.NewPlaybookVersion{Key: "alerts", Name: "Alerts", Definition: names("slack-cs-alerts"), SourceFormat: "json"})
	require.NoError(t, err)
	_, err = f.st.CreatePlaybookVersion(f.ctx, store.NewPlaybookVersion{Key: "alerts", Name: "Alerts", Definition: names("drafts-only"), SourceFormat: "json"})
	require.NoError(t, err)

	require.NoError(t, f.st.DeleteSecret(f.ctx, "drafts-only"), "only a draft names it")
	_, err = f.st.PublishPlaybookVersion(f.ctx, "alerts", 1)
	require.NoError(t, err)
	err = f.st.DeleteSecret(f.ctx, "slack-cs-alerts")
	require.ErrorIs(t, err, store.ErrSecretInUse)
	require.ErrorContains(t, err, "alerts v1")

	// Archived with a live run, it is still in use.
	_, err = f.st.RecordRunStarted(f.ctx, store.NewRun{ID: uuid.New(), AccountID: "acme", PlaybookKey: "alerts", PlaybookVersion: 1,
		WorkflowID: "playbook/alerts/account/acme", TemporalRunID: "r", StartedAt: time.Now()})
	require.NoError(t, err)
	_, err = f.st.CreatePlaybookVersion(f.ctx, store.NewPlaybookVersion{Key: "alerts", Name: "Alerts",
		Definition: json.RawMessage(`{"key":"alerts","name":"Alerts","steps":[{"id":"w","wait":"1d"}]}`), SourceFormat: "json"})
	require.NoError(t, err)
	_, err = f.st.PublishPlaybookVersion(f.ctx, "alerts", 3)
	require.NoError(t, err)
	require.ErrorIs(t, f.st.DeleteSecret(f.ctx, "slack-cs-alerts"), store.ErrSecretInUse)
	_, err = f.st.SecretValue(f.ctx, "slack-cs-alerts")
	require.NoError(t, err, "still there")
}

// The database holds the rules, whatever the caller checked.
func TestSecretsConstraints(t *testing.T) {
	_, pool := storetest.NewDatabase(t)
	st, ctx := store.New(pool), context.Background()
	for name, put := range map[string][3]string{
		"name with capitals": {"Slack", "https://x.example/y", "admin key"},
		"name with a slash":  {"a/b", "https://x.example/y", "admin key"},
		"name too long":      {strings.Repeat("a", 64), "https://x.example/y", "admin key"},
		"empty value":        {"a", "", "admin key"},
		"value too long":     {"a", "https://x.example/" + strings.Repeat("y", 2048), "admin key"},
		"nobody wrote it":    {"a", "https://x.example/y", ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := st.PutSecret(ctx, put[0], put[1], put[2])
			require.ErrorContains(t, err, "violates check constraint")
		})
	}
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM secrets`).Scan(&n))
	require.Zero(t, n)
}
