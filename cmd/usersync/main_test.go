package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/barycenter/usersync/internal/database"
)

// mainEnv makes the test binary behave as the usersync binary: tests that
// need a real process (signals, SIGKILL, many processes on one database)
// run os.Args[0] with it set, so no separate build is needed.
const mainEnv = "USERSYNC_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

// cheapHashing are CLI flags for a low Argon2 cost.
var cheapHashing = []string{"--argon2-memory", "64", "--argon2-iterations", "1", "--argon2-parallelism", "1"}

// usersyncCmd returns the usersync binary (this test binary in main mode)
// with args, its standard output and error captured.
func usersyncCmd(ctx context.Context, args ...string) (*exec.Cmd, *lockedBuffer, *lockedBuffer) {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, errb
	return cmd, out, errb
}

// exitStatus returns the exit status of a finished command, or -1 when a
// signal ended it.
func exitStatus(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("run usersync: %v", err)
	return 0
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testUser is one entry written to a users file.
type testUser struct {
	Username   string         `json:"username"`
	Password   string         `json:"password"`
	Email      string         `json:"email,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// writeUsersFile writes users as a users file in a temporary directory.
func writeUsersFile(t *testing.T, users []testUser) string {
	t.Helper()
	b, err := json.MarshalIndent(users, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, string(b))
}

// rowsText runs query and returns each row as "column=value|…" text.
func rowsText(t *testing.T, db *database.DB, query string) []string {
	t.Helper()
	rows, err := db.SQL.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v|", cols[i], v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dumpTables returns every row of every table of the database, each
// column formatted as text, table by table in name order.
func dumpTables(t *testing.T, db *database.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.Config.Backend == database.Postgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	}
	rows, err := db.SQL.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	out := map[string][]string{}
	for _, tb := range tables {
		out[tb] = rowsText(t, db, `SELECT * FROM "`+tb+`"`)
		sort.Strings(out[tb])
	}
	return out
}

// userRow is what a test compares of a users row.
type userRow struct {
	Email string
	Hash  string
	Props string // the user's properties, key=value, sorted
}

// userRows reads the users and their properties by username.
func userRows(t *testing.T, db *database.DB) map[string]userRow {
	t.Helper()
	ctx := context.Background()
	rows, err := db.SQL.QueryContext(ctx, `SELECT u.username, COALESCE(u.email, ''), u.password_hash,
		COALESCE(p."key", ''), COALESCE(p.value, '')
		FROM users u LEFT JOIN properties p ON p.owner = u.subject ORDER BY u.username, p."key"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]userRow{}
	for rows.Next() {
		var name, email, hash, key, value string
		if err := rows.Scan(&name, &email, &hash, &key, &value); err != nil {
			t.Fatal(err)
		}
		r := out[name]
		r.Email, r.Hash = email, hash
		if key != "" {
			r.Props += key + "=" + value + ";"
		}
		out[name] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// countUsers returns the number of rows of the users table and of
// distinct usernames in it.
func countUsers(t *testing.T, db *database.DB) (rows, distinct int) {
	t.Helper()
	err := db.SQL.QueryRow(`SELECT count(*), count(DISTINCT username) FROM users`).Scan(&rows, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
