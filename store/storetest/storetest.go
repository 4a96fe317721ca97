// Package storetest gives tests a fresh, migrated PostgreSQL database.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playbookd/playbookd/migrations"
	"github.com/playbookd/playbookd/store"
)

// AdminURLEnv names a PostgreSQL URL with the right to create databases.
const AdminURLEnv = "PLAYBOOKD_TEST_DATABASE_URL"

// RequireEnv, when "1", turns a missing PostgreSQL into a failure instead of a
// skip; the test command sets it so CI cannot pass by skipping.
const RequireEnv = "PLAYBOOKD_REQUIRE_INTEGRATION"

const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Unavailable skips or fails the test, as RequireEnv says.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// NewDatabase creates an empty database, applies the migrations and drops it
// when the test ends. It returns the database's URL and a pool on it.
func NewDatabase(t testing.TB) (string, *pgxpool.Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dbURL := NewEmptyDatabase(t)
	pool, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(pool.Close)
	if _, err := migrations.Up(ctx, pool); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return dbURL, pool
}

// NewEmptyDatabase creates a database without tables, dropped when the test
// ends, and returns its URL.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	adminURL := os.Getenv(AdminURLEnv)
	if adminURL == "" {
		adminURL = defaultAdminURL
	}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		Unavailable(t, "PostgreSQL not reachable at %s (set %s): %v", adminURL, AdminURLEnv, err)
	}
	defer admin.Close(ctx)

	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "playbookd_test_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})

	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("parse %s: %v", AdminURLEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}
