package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/barycenter/usersync/internal/dbtest"
)

// testEnv is the environment tests run the CLI with: cheap Argon2
// parameters, so that -race runs stay fast.
var testEnv = map[string]string{"ARGON2_MEMORY": "64", "ARGON2_ITERATIONS": "1"}

type result struct {
	code           int
	stdout, stderr string
}

// cli runs usersync with args, the given extra environment and stdin.
func cli(t *testing.T, extraEnv map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	lookup := func(k string) (string, bool) {
		if v, ok := extraEnv[k]; ok {
			return v, true
		}
		v, ok := testEnv[k]
		return v, ok
	}
	code := runEnv(context.Background(), args, &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, lookup: lookup})
	return result{code, out.String(), errb.String()}
}

// up runs `usersync up` on url with the users file content.
func up(t *testing.T, url, users string, extra ...string) result {
	t.Helper()
	path := writeFile(t, users)
	return cli(t, nil, "", append([]string{"up", "--database-url", url, "--users-file", path}, extra...)...)
}

// mustUp runs up and fails the test unless it exits 0.
func mustUp(t *testing.T, url, users string, extra ...string) result {
	t.Helper()
	r := up(t, url, users, extra...)
	if r.code != 0 {
		t.Fatalf("up exited %d:\n%s", r.code, r.stderr)
	}
	return r
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dump renders every row of users and properties as text, for
// byte-for-byte comparisons.
func dump(t *testing.T, url string) string {
	t.Helper()
	db := dbtest.Open(t, url)
	var b strings.Builder
	for _, q := range []string{
		"SELECT subject, username, password_hash, email, email_verified, created_at, enabled, requires_2fa, passkey_enrolled_at FROM users ORDER BY username",
		`SELECT owner, "key", value, updated_at FROM properties ORDER BY owner, "key"`,
	} {
		for _, row := range rowsText(t, db, q) {
			b.WriteString(row + "\n")
		}
	}
	return b.String()
}

// summary checks the sync summary record in text logs.
func summary(t *testing.T, stderr string, created, updated, unchanged int) {
	t.Helper()
	want := fmt.Sprintf("created=%d updated=%d unchanged=%d", created, updated, unchanged)
	if !strings.Contains(stderr, want) {
		t.Fatalf("want %q in the logs:\n%s", want, stderr)
	}
}
