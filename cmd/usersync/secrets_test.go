package main

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/barycenter/usersync/internal/dbtest"
)

// secretMark starts every planted password: no output, error or column
// may contain it.
const secretMark = "Sekr1t-"

// runCLI runs usersync in process and returns its exit status and what
// it wrote to standard output and error.
func runCLI(args ...string) (int, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String() + errb.String()
}

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	if i := strings.Index(s, secretMark); i >= 0 {
		t.Errorf("%s contains a planted secret near %q", what, s[max(0, i-40):min(len(s), i+40)])
	}
}

// TestNoSecretLeaves syncs users with planted passwords (create, no-op,
// update) in both log formats, then feeds broken files with passwords
// next to the defect, and checks that no password reaches standard output
// or error, an error message, or any column of any table.
func TestNoSecretLeaves(t *testing.T) {
	users := []testUser{
		{Username: "alice", Password: secretMark + "Alpha-9QxV", Email: "alice@example.org"},
		{Username: "bob", Password: secretMark + "Bravo-3ZkP", Properties: map[string]any{"note": "hello"}},
	}
	changed := []testUser{
		{Username: "alice", Password: secretMark + "Charlie-7WmR", Email: "alice@example.org"},
		{Username: "bob", Password: secretMark + "Delta-5YtL"},
	}
	first, second := writeUsersFile(t, users), writeUsersFile(t, changed)

	broken := []struct{ name, json string }{
		{"syntax error after a password", `[{"username": "alice", "password": "` + secretMark + `Syntax-1" "email": "a@example.org"}]`},
		{"control character in a password", "[{\"username\": \"alice\", \"password\": \"" + secretMark + "Ctrl-2\x01\"}]"},
		{"misspelt password key", `[{"username": "alice", "pasword": "` + secretMark + `Typo-3"}]`},
		{"password in a boolean", `[{"username": "alice", "password": "x", "enabled": "` + secretMark + `Bool-4"}]`},
		{"password in the username", `[{"username": " ` + secretMark + `User-5", "password": "x"}]`},
		{"password too long", `[{"username": "alice", "password": "` + secretMark + strings.Repeat("L", 2000) + `"}]`},
		{"NUL in a password", `[{"username": "alice", "password": "` + secretMark + `Nul-6\u0000"}]`},
		{"unterminated password", `[{"username": "alice", "password": "` + secretMark + `Open-7`},
		{"invalid UTF-8 in a password", "[{\"username\": \"alice\", \"password\": \"" + secretMark + "Utf8-8\xff\"}]"},
		{"password twice", `[{"username": "alice", "password": "` + secretMark + `Dup-9", "password": "` + secretMark + `Dup-10"}]`},
		{"password as a top-level value", `{"users": [], "extra": "` + secretMark + `Top-11"}`},
		{"password in an email", `[{"username": "alice", "password": "x", "email": "` + secretMark + `Mail-12"}]`},
		{"password in a property value too deep", `[{"username": "alice", "password": "x", "properties": {"k": ` +
			strings.Repeat("[", 40) + `"` + secretMark + `Deep-13"` + strings.Repeat("]", 40) + `}}]`},
	}

	dbtest.Each(t, func(t *testing.T, dbURL string) {
		// A PostgreSQL URL carries a password too (trust auth ignores it).
		if u, err := url.Parse(dbURL); err == nil && u.Scheme == "postgres" {
			u.User = url.UserPassword(u.User.Username(), secretMark+"Db-Url-0")
			dbURL = u.String()
		}
		for _, format := range []string{"text", "json"} {
			for i, f := range []string{first, first, second} {
				code, out := runCLI(append([]string{"up", "--database-url", dbURL, "--users-file", f, "--log-format", format}, cheapHashing...)...)
				if code != exitOK {
					t.Fatalf("%s sync %d: exit %d\n%s", format, i, code, out)
				}
				assertNoSecret(t, format+" output", out)
			}
		}
		db := dbtest.Open(t, dbURL)
		before := dumpTables(t, db)
		if len(before["users"]) != 2 {
			t.Fatalf("users table: %v", before["users"])
		}
		for table, rows := range before {
			assertNoSecret(t, "table "+table, strings.Join(rows, "\n"))
		}

		for _, tc := range broken {
			t.Run(tc.name, func(t *testing.T) {
				file := writeFile(t, tc.json)
				for _, format := range []string{"text", "json"} {
					code, out := runCLI(append([]string{"up", "--database-url", dbURL, "--users-file", file, "--log-format", format}, cheapHashing...)...)
					if code != exitInvalid {
						t.Errorf("%s: exit %d, want %d\n%s", format, code, exitInvalid, out)
					}
					if !strings.Contains(out, "invalid users file") {
						t.Errorf("%s: no clear message:\n%s", format, out)
					}
					assertNoSecret(t, format+" output", out)
				}
				if after := dumpTables(t, db); !reflect.DeepEqual(before, after) {
					t.Errorf("the database changed")
				}
			})
		}
	})
}

// TestNoDatabasePasswordLeaves: a database URL's password appears in no
// message when the URL is malformed or the server is not there.
func TestNoDatabasePasswordLeaves(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	file := writeUsersFile(t, []testUser{{Username: "alice", Password: secretMark + "Echo-1"}})
	for _, tc := range []struct {
		name, url string
		args      []string
		code      int
	}{
		{"bad port", "postgres://app:" + secretMark + "Url-1@db:notaport/app", nil, exitInvalid},
		{"bad escape", "postgres://app:" + secretMark + "Url-2%zz@db/app", nil, exitInvalid},
		{"closed port", "postgres://app:" + secretMark + "Url-3@" + closed + "/app?sslmode=disable", []string{"--wait", "0"}, exitFailure},
		{"closed port, waiting", "postgres://app:" + secretMark + "Url-4@" + closed + "/app?sslmode=disable", []string{"--wait", "400ms"}, exitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, format := range []string{"text", "json"} {
				args := append([]string{"up", "--database-url", tc.url, "--users-file", file, "--log-format", format}, tc.args...)
				code, out := runCLI(args...)
				if code != tc.code {
					t.Errorf("%s: exit %d, want %d\n%s", format, code, tc.code, out)
				}
				assertNoSecret(t, format+" output", out)
				if tc.code == exitFailure && !strings.Contains(out, closed) {
					t.Errorf("%s: the message does not name %s:\n%s", format, closed, out)
				}
			}
		})
	}
}
