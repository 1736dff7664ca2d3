// Package dbtest runs database tests on every backend: SQLite always (a
// temporary file, never :memory:), PostgreSQL from TEST_DATABASE_URL or a
// server on 127.0.0.1:5432. Each test gets a fresh database of its own,
// dropped in t.Cleanup, so runs never collide. Without a server the
// PostgreSQL half skips, except under CI=true, where it fails.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/barycenter/usersync/internal/database"
)

// DefaultPostgresURL is used when TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Each runs fn as two subtests, "sqlite" and "postgres", each with the URL
// of a fresh, empty database.
func Each(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresURL(t)) })
}

// SQLiteURL returns the URL of a new SQLite file in a temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "test.db") + "?mode=rwc"
}

var (
	adminOnce sync.Once
	adminURL  string
	adminErr  error
)

// admin returns the URL of the server's maintenance database, once reached.
func admin() (string, error) {
	adminOnce.Do(func() {
		adminURL = os.Getenv("TEST_DATABASE_URL")
		if adminURL == "" {
			adminURL = DefaultPostgresURL
		}
		db, err := sql.Open("pgx", adminURL)
		if err != nil {
			adminErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		adminErr = db.PingContext(ctx)
	})
	return adminURL, adminErr
}

// RequirePostgres skips the test when no PostgreSQL server answers, or
// fails it under CI=true, and returns the maintenance URL.
func RequirePostgres(t testing.TB) string {
	t.Helper()
	u, err := admin()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI=true: %v", err)
		}
		t.Skipf("no PostgreSQL server (set TEST_DATABASE_URL): %v", err)
	}
	return u
}

// PostgresURL creates a fresh PostgreSQL database, drops it (WITH (FORCE))
// when the test ends, and returns its URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	au := RequirePostgres(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("usersync_test_%x", b)
	exec(t, au, "CREATE DATABASE "+name)
	t.Cleanup(func() { exec(t, au, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(au)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func exec(t testing.TB, dsn, stmt string) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// Open opens url and closes it when the test ends.
func Open(t testing.TB, rawURL string) *database.DB {
	t.Helper()
	cfg, err := database.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Fresh returns the URL of another new, empty database on the backend of
// url, for tests that compare two databases.
func Fresh(t testing.TB, url string) string {
	t.Helper()
	if strings.HasPrefix(url, "sqlite") {
		return SQLiteURL(t)
	}
	return PostgresURL(t)
}
