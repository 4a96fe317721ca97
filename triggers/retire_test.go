package triggers_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// A retired playbook's trigger fires nothing; another playbook with the
// same occasion still does, and taken back it fires again.
func TestRetiredPlaybookDoesNotFire(t *testing.T) {
	ctx := context.Background()
	svc, fake, st, acct := stageFixture(t)
	_, err := st.SetPlaybookRetired(ctx, "adoption", true)
	require.NoError(t, err)

	acct.LifecycleStage = "adoption"
	_, err = svc.SaveAccount(ctx, acct)
	require.NoError(t, err)
	require.Empty(t, firingsOf(t, st, "adoption"), "retired: no firing")
	require.NotContains(t, fake.started, "adoption/acme")
	require.Len(t, firingsOf(t, st, "handover"), 1, "the other playbook on the same change fires")

	_, err = st.SetPlaybookRetired(ctx, "adoption", false)
	require.NoError(t, err)
	acct.LifecycleStage = "renewal"
	_, err = svc.SaveAccount(ctx, acct)
	require.NoError(t, err)
	acct.LifecycleStage = "adoption"
	_, err = svc.SaveAccount(ctx, acct)
	require.NoError(t, err)
	require.Len(t, firingsOf(t, st, "adoption"), 1, "taken back, it fires again")
}
