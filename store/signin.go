package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SignInMember is the team member a sign-in is for: who the session will
// act as (their role and email).
type SignInMember struct {
	ID    uuid.UUID
	Email string
	Name  string
	Role  string
}

// Why a sign-in link was refused, besides ErrUnknownMember and
// ErrInactiveMember (a deactivated member cannot sign in, and their
// sessions end: see LookupSession).
var (
	ErrTooManyLinks      = errors.New("too many sign-in links asked for this team member lately")
	ErrSignInLinkUnknown = errors.New("unknown sign-in link")
	ErrSignInLinkUsed    = errors.New("this sign-in link has been used")
	ErrSignInLinkExpired = errors.New("this sign-in link has expired")
)

// LinkLimit bounds the sign-in links one member is sent: at most Count in
// any Per, whoever asks for them (a client's own requests are throttled by
// the edge as well).
type LinkLimit struct {
	Count int
	Per   time.Duration
}

// CreateSignInLink stores a one-time sign-in link, valid for ttl, for the
// active team member with this (lower-case) email, and returns its token,
// which is not stored (only its SHA-256 is). It refuses an unknown email
// (ErrUnknownMember), a deactivated member (ErrInactiveMember) and a
// member who has been sent limit.Count links in the last limit.Per
// (ErrTooManyLinks); the member is returned with the last two.
func (s *Store) CreateSignInLink(ctx context.Context, email string, ttl time.Duration, limit LinkLimit) (string, SignInMember, error) {
	token, err := randomToken()
	if err != nil {
		return "", SignInMember{}, err
	}
	var (
		m           SignInMember
		deactivated bool
		recent      int
		created     *time.Time
	)
	// One statement: the member, how many links they were sent lately,
	// and the new link when both allow it.
	err = s.pool.QueryRow(ctx, `
		WITH m AS (
			SELECT t.id, t.email, t.name, t.role, t.deactivated_at IS NOT NULL AS deactivated,
			       (SELECT count(*) FROM sign_in_links l
			        WHERE l.member_id = t.id AND l.created_at > now() - make_interval(secs => $5)) AS recent
			FROM team_members t WHERE t.email = $1
		), link AS (
			INSERT INTO sign_in_links (token_hash, member_id, expires_at)
			SELECT $2, m.id, now() + make_interval(secs => $3) FROM m WHERE NOT m.deactivated AND m.recent < $4
			RETURNING created_at
		)
		SELECT m.id, m.email, m.name, m.role, m.deactivated, m.recent, link.created_at FROM m LEFT JOIN link ON true`,
		email, hashKey(token), ttl.Seconds(), limit.Count, limit.Per.Seconds(),
	).Scan(&m.ID, &m.Email, &m.Name, &m.Role, &deactivated, &recent, &created)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", SignInMember{}, ErrUnknownMember
	case err != nil:
		return "", SignInMember{}, fmt.Errorf("create sign-in link: %w", err)
	case deactivated:
		return "", m, ErrInactiveMember
	case created == nil:
		return "", m, ErrTooManyLinks
	}
	return token, m, nil
}

// CheckSignInLink says whose a link is without using it: the member, or
// why it cannot sign in (ErrSignInLinkUnknown, ErrSignInLinkUsed,
// ErrSignInLinkExpired, ErrInactiveMember).
func (s *Store) CheckSignInLink(ctx context.Context, token string) (SignInMember, error) {
	m, used, expired, deactivated, err := s.signInLink(ctx, s.pool, token)
	if err != nil {
		return SignInMember{}, err
	}
	return m, linkProblem(used, expired, deactivated)
}

// SignInWithLink uses a link and signs its member in until sessionTTL
// from now, in one transaction: a link works once, before it expires, for
// an active member; of two concurrent uses only one succeeds (the update
// re-reads used_at after the other commits). It returns the session's
// cookie token, which is not stored; a link that cannot sign in is
// ErrSignInLinkUnknown, ErrSignInLinkUsed, ErrSignInLinkExpired or
// ErrInactiveMember.
func (s *Store) SignInWithLink(ctx context.Context, token string, sessionTTL time.Duration) (string, Session, error) {
	var (
		sessionToken string
		sess         Session
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var m SignInMember
		err := tx.QueryRow(ctx, `
			UPDATE sign_in_links l SET used_at = now()
			FROM team_members t
			WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > now()
			  AND t.id = l.member_id AND t.deactivated_at IS NULL
			RETURNING t.id, t.email, t.name, t.role`, hashKey(token)).Scan(&m.ID, &m.Email, &m.Name, &m.Role)
		if err != nil {
			return err
		}
		sessionToken, sess, err = createMemberSession(ctx, tx, m, sessionTTL)
		return err
	})
	if err == nil {
		return sessionToken, sess, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", Session{}, fmt.Errorf("sign in with a link: %w", err)
	}
	// Not usable: say why.
	_, used, expired, deactivated, err := s.signInLink(ctx, s.pool, token)
	if err != nil {
		return "", Session{}, err
	}
	if problem := linkProblem(used, expired, deactivated); problem != nil {
		return "", Session{}, problem
	}
	// Usable when read again: another use or a deactivation was undone in
	// between; refuse rather than guess.
	return "", Session{}, ErrSignInLinkUsed
}

func (s *Store) signInLink(ctx context.Context, q querier, token string) (m SignInMember, used, expired, deactivated bool, err error) {
	err = q.QueryRow(ctx, `
		SELECT t.id, t.email, t.name, t.role, l.used_at IS NOT NULL, l.expires_at <= now(), t.deactivated_at IS NOT NULL
		FROM sign_in_links l JOIN team_members t ON t.id = l.member_id
		WHERE l.token_hash = $1`, hashKey(token)).Scan(&m.ID, &m.Email, &m.Name, &m.Role, &used, &expired, &deactivated)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrSignInLinkUnknown
	} else if err != nil {
		err = fmt.Errorf("read sign-in link: %w", err)
	}
	return m, used, expired, deactivated, err
}

// linkProblem is why a link cannot sign in, most final first: a used link
// stays used, a deactivated member may come back.
func linkProblem(used, expired, deactivated bool) error {
	switch {
	case used:
		return ErrSignInLinkUsed
	case deactivated:
		return ErrInactiveMember
	case expired:
		return ErrSignInLinkExpired
	}
	return nil
}

// SignInMemberByEmail is the active team member with this (lower-case)
// email, for single sign-on: ErrUnknownMember or ErrInactiveMember when
// they may not sign in.
func (s *Store) SignInMemberByEmail(ctx context.Context, email string) (SignInMember, error) {
	var (
		m           SignInMember
		deactivated bool
	)
	err := s.pool.QueryRow(ctx, `
		SELECT id, email, name, role, deactivated_at IS NOT NULL FROM team_members WHERE email = $1`, email,
	).Scan(&m.ID, &m.Email, &m.Name, &m.Role, &deactivated)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return SignInMember{}, ErrUnknownMember
	case err != nil:
		return SignInMember{}, fmt.Errorf("look up team member: %w", err)
	case deactivated:
		return m, ErrInactiveMember
	}
	return m, nil
}
