package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

var noLimit = store.LinkLimit{Count: 100, Per: time.Hour}

func signInTeam(t *testing.T) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	for _, m := range []store.UpsertTeamMember{
		{Email: "casey@cs.test", Name: "Casey", Level: "csm"},
		{Email: "lee@cs.test", Name: "Lee", Level: "senior_csm"},
	} {
		_, _, err := st.UpsertTeamMember(context.Background(), m)
		require.NoError(t, err)
	}
	return st, pool
}

func deactivate(t *testing.T, pool *pgxpool.Pool, email string) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `UPDATE team_members SET deactivated_at = now() WHERE email = $1`, email)
	require.NoError(t, err)
}

// A link signs its member in once: checking it changes nothing, the first
// use makes a session acting as the member, and a second use is refused.
// Only the token's hash is stored.
func TestSignInLinkWorksOnce(t *testing.T) {
	st, pool := signInTeam(t)
	ctx := context.Background()
	token, member, err := st.CreateSignInLink(ctx, "casey@cs.test", 15*time.Minute, noLimit)
	require.NoError(t, err)
	require.Equal(t, "casey@cs.test", member.Email)
	require.Equal(t, "csm", member.Role)
	var stored int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM sign_in_links WHERE token_hash = convert_to($1, 'UTF8')`, token).Scan(&stored))
	require.Zero(t, stored, "the token itself is not stored")

	for range 2 {
		got, err := st.CheckSignInLink(ctx, token)
		require.NoError(t, err)
		require.Equal(t, member, got)
	}

	cookie, sess, err := st.SignInWithLink(ctx, token, time.Hour)
	require.NoError(t, err)
	require.Equal(t, member.ID, *sess.MemberID)
	_, _, err = st.SignInWithLink(ctx, token, time.Hour)
	require.ErrorIs(t, err, store.ErrSignInLinkUsed)
	_, err = st.CheckSignInLink(ctx, token)
	require.ErrorIs(t, err, store.ErrSignInLinkUsed)

	got, err := st.LookupSession(ctx, cookie)
	require.NoError(t, err)
	require.Equal(t, "casey@cs.test", got.MemberEmail)
	require.Equal(t, "csm", got.Role)
	require.Nil(t, got.KeyID)
	require.Nil(t, got.AdminKeyHash)

	// The session acts with the member's role of now.
	_, err = pool.Exec(ctx, `UPDATE team_members SET role = 'ops' WHERE email = 'casey@cs.test'`)
	require.NoError(t, err)
	got, err = st.LookupSession(ctx, cookie)
	require.NoError(t, err)
	require.Equal(t, "ops", got.Role)

	_, _, err = st.SignInWithLink(ctx, "not-a-token", time.Hour)
	require.ErrorIs(t, err, store.ErrSignInLinkUnknown)
	_, err = st.CheckSignInLink(ctx, "not-a-token")
	require.ErrorIs(t, err, store.ErrSignInLinkUnknown)
}

// Of many uses of one link at once, exactly one signs in.
func TestSignInLinkUsedOnceUnderConcurrency(t *testing.T) {
	st, pool := signInTeam(t)
	ctx := context.Background()
	token, _, err := st.CreateSignInLink(ctx, "casey@cs.test", 15*time.Minute, noLimit)
	require.NoError(t, err)
	const tries = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range tries {
		wg.Go(func() {
			_, _, err := st.SignInWithLink(ctx, token, time.Hour)
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, store.ErrSignInLinkUsed)
		}
	}
	require.Equal(t, 1, ok)
	var sessions int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM console_sessions`).Scan(&sessions))
	require.Equal(t, 1, sessions)
}

func TestSignInLinkExpires(t *testing.T) {
	st, pool := signInTeam(t)
	ctx := context.Background()
	token, _, err := st.CreateSignInLink(ctx, "casey@cs.test", 15*time.Minute, noLimit)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE sign_in_links SET expires_at = now() - interval '1 second'`)
	require.NoError(t, err)
	_, err = st.CheckSignInLink(ctx, token)
	require.ErrorIs(t, err, store.ErrSignInLinkExpired)
	_, _, err = st.SignInWithLink(ctx, token, time.Hour)
	require.ErrorIs(t, err, store.ErrSignInLinkExpired)
	var used int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM sign_in_links WHERE used_at IS NOT NULL`).Scan(&used))
	require.Zero(t, used, "an expired link is not spent")
}

// A deactivated member gets no link, cannot use one sent before, cannot
// sign in with single sign-on, and their sessions (their own, and their
// keys') stop working; an unknown email gets no link.
func TestDeactivatedMemberCannotSignIn(t *testing.T) {
	st, pool := signInTeam(t)
	ctx := context.Background()
	token, member, err := st.CreateSignInLink(ctx, "casey@cs.test", 15*time.Minute, noLimit)
	require.NoError(t, err)
	unused, _, err := st.CreateSignInLink(ctx, "casey@cs.test", 15*time.Minute, noLimit)
	require.NoError(t, err)
	cookie, _, err := st.SignInWithLink(ctx, token, time.Hour)
	require.NoError(t, err)
	ssoCookie, _, err := st.CreateMemberSession(ctx, member, time.Hour)
	require.NoError(t, err)
	_, secret, err := st.CreateAPIKey(ctx, "casey", "csm", "casey@cs.test")
	require.NoError(t, err)
	key, err := st.LookupAPIKey(ctx, secret)
	require.NoError(t, err)
	keyCookie, _, err := st.CreateSession(ctx, &key.ID, nil, "csm", time.Hour)
	require.NoError(t, err)
	for _, c := range []string{cookie, ssoCookie, keyCookie} {
		_, err := st.LookupSession(ctx, c)
		require.NoError(t, err)
	}

	deactivate(t, pool, "casey@cs.test")
	for _, c := range []string{cookie, ssoCookie, keyCookie} {
		_, err := st.LookupSession(ctx, c)
		require.ErrorIs(t, err, store.ErrNoSession)
	}
	_, _, err = st.CreateSignInLink(ctx, "casey@cs.test", 15*time.Minute, noLimit)
	require.ErrorIs(t, err, store.ErrInactiveMember)
	_, err = st.CheckSignInLink(ctx, unused)
	require.ErrorIs(t, err, store.ErrInactiveMember)
	_, _, err = st.SignInWithLink(ctx, unused, time.Hour)
	require.ErrorIs(t, err, store.ErrInactiveMember)
	_, err = st.SignInMemberByEmail(ctx, "casey@cs.test")
	require.ErrorIs(t, err, store.ErrInactiveMember)

	_, _, err = st.CreateSignInLink(ctx, "nobody@cs.test", 15*time.Minute, noLimit)
	require.ErrorIs(t, err, store.ErrUnknownMember)
	_, err = st.SignInMemberByEmail(ctx, "nobody@cs.test")
	require.ErrorIs(t, err, store.ErrUnknownMember)
	lee, err := st.SignInMemberByEmail(ctx, "lee@cs.test")
	require.NoError(t, err)
	require.Equal(t, "Lee", lee.Name)
}

// One member is sent a bounded number of links, whoever asks for them;
// others are not held back.
func TestSignInLinksPerMemberAreLimited(t *testing.T) {
	st, _ := signInTeam(t)
	ctx := context.Background()
	limit := store.LinkLimit{Count: 2, Per: time.Hour}
	for range limit.Count {
		_, _, err := st.CreateSignInLink(ctx, "casey@cs.test", 15*time.Minute, limit)
		require.NoError(t, err)
	}
	_, member, err := st.CreateSignInLink(ctx, "casey@cs.test", 15*time.Minute, limit)
	require.ErrorIs(t, err, store.ErrTooManyLinks)
	require.Equal(t, "casey@cs.test", member.Email)
	_, _, err = st.CreateSignInLink(ctx, "lee@cs.test", 15*time.Minute, limit)
	require.NoError(t, err)
}
