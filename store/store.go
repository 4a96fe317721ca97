// Package store is playbookd's PostgreSQL system of record. SQL lives next to
// the methods that run it; invariants (one live run per account and playbook,
// one email per run/step/recipient) are database constraints.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store reads and writes playbookd's tables.
type Store struct {
	pool *pgxpool.Pool
}

// New wraps a pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Sentinel errors, checked with errors.Is by callers.
var (
	ErrNotFound       = errors.New("not found")
	ErrUnknownCSM     = errors.New("no team member with that email")
	ErrUnknownManager = errors.New("no team member with that manager email")
	ErrManagerCycle   = errors.New("manager chain would loop")
	ErrLiveRun        = errors.New("a live run already exists for this account and playbook")
	ErrKeyTaken       = errors.New("a playbook with this key already exists")
)

// Open connects a pool and checks that the server answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	cfg.AfterConnect = inUTC
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (4 on this machine) queues concurrent requests
		// behind each other; PostgreSQL handles a few dozen easily.
		cfg.MaxConns = defaultPoolSize
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, nil
}

// defaultPoolSize is the connections a process opens at most unless
// DATABASE_URL says otherwise (pool_max_conns=N).
const defaultPoolSize = 20

// inUTC makes timestamps scan as UTC whatever the process's zone, so the API
// answers RFC 3339 times in UTC.
func inUTC(_ context.Context, conn *pgx.Conn) error {
	conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
	return nil
}

// Ping reports whether PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
