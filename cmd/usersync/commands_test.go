package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/barycenter/usersync/internal/dbtest"
	"github.com/barycenter/usersync/migrations"
)

func TestSyncRefusesPendingMigrations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		path := writeFile(t, threeUsers)
		r := cli(t, nil, "", "sync", "--database-url", url, "--users-file", path)
		if r.code != 1 || !strings.Contains(r.stderr, "migrations are pending: run 'usersync migrate up'") {
			t.Fatalf("sync on an empty database: exit %d, %s", r.code, r.stderr)
		}
		if r := cli(t, nil, "", "migrate", "up", "--database-url", url); r.code != 0 {
			t.Fatalf("migrate up: exit %d, %s", r.code, r.stderr)
		}
		r = cli(t, nil, "", "sync", "--database-url", url, "--users-file", path)
		if r.code != 0 {
			t.Fatalf("sync after migrate: exit %d, %s", r.code, r.stderr)
		}
		summary(t, r.stderr, 3, 0, 0)
	})
}

// migrationVersions returns the versions of the embedded migrations, in
// order; they need not be contiguous.
func migrationVersions(t *testing.T) []int64 {
	t.Helper()
	files, err := migrations.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var vs []int64
	for _, f := range files {
		if v, err := goose.NumericComponent(f.Name()); err == nil && strings.HasSuffix(f.Name(), ".sql") {
			vs = append(vs, v)
		}
	}
	return vs
}

// latestVersion is the version of the last embedded migration.
func latestVersion(t *testing.T) int64 {
	vs := migrationVersions(t)
	return vs[len(vs)-1]
}

func TestMigrateCommands(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		run := func(args ...string) result {
			t.Helper()
			r := cli(t, nil, "", append(args, "--database-url", url)...)
			if r.code != 0 {
				t.Fatalf("%v: exit %d, %s", args, r.code, r.stderr)
			}
			return r
		}
		if r := run("migrate", "status"); !strings.Contains(r.stdout, "1        pending  -           00001_create_users.sql") {
			t.Fatalf("status before up:\n%s", r.stdout)
		}
		vs := migrationVersions(t)
		last, prev := fmt.Sprintln(vs[len(vs)-1]), fmt.Sprintln(vs[len(vs)-2])
		run("migrate", "up")
		if r := run("migrate", "version"); r.stdout != last {
			t.Fatalf("version = %q, want %q", r.stdout, last)
		}
		if r := run("migrate", "status"); strings.Contains(r.stdout, "pending") || !strings.Contains(r.stdout, "applied") {
			t.Fatalf("status after up:\n%s", r.stdout)
		}
		run("migrate", "redo")
		if r := run("migrate", "version"); r.stdout != last {
			t.Fatalf("version after redo = %q, want %q", r.stdout, last)
		}
		run("migrate", "down")
		if r := run("migrate", "version"); r.stdout != prev {
			t.Fatalf("version after down = %q, want %q", r.stdout, prev)
		}
		// Flags before the action work too.
		if r := cli(t, nil, "", "migrate", "--database-url", url, "up"); r.code != 0 {
			t.Fatalf("flags before the action: exit %d, %s", r.code, r.stderr)
		}
	})
}

func TestValidate(t *testing.T) {
	good := writeFile(t, threeUsers)
	r := cli(t, nil, "", "validate", "--users-file", good)
	if r.code != 0 || r.stdout != good+": valid, 3 users\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	bad := writeFile(t, `[{"username": "a", "pasword": "hunter2-under-a-typo"}, {"username": "a", "password": "p"}, {"username": "b", "password": "p", "email": 1}]`)
	r = cli(t, nil, "", "validate", "--users-file", bad)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2", r.code)
	}
	for _, want := range []string{
		"4 problems", `users[0] "a": unknown field "pasword" (did you mean "password"?)`,
		`users[0] "a": password: is required`, "users[1] \"a\": username: duplicate username: also at users[0]",
		`users[2] "b": email: must be a string or null`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("want %q in:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "hunter2") {
		t.Fatal("validate quoted a password")
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	users := writeFile(t, `[{"username": "a", "password": "pw-a-1"}]`)
	sqlite := func(name string) string { return "sqlite://" + filepath.Join(dir, name) }
	exists := func(name string) bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"flag beats both variables", map[string]string{"DATABASE_URL": sqlite("env.db"), "BARYCENTER__DATABASE__URL": sqlite("bary.db")},
			[]string{"--database-url", sqlite("flag.db")}, "flag.db"},
		{"DATABASE_URL beats BARYCENTER__DATABASE__URL", map[string]string{"DATABASE_URL": sqlite("env.db"), "BARYCENTER__DATABASE__URL": sqlite("bary.db")}, nil, "env.db"},
		{"BARYCENTER__DATABASE__URL", map[string]string{"BARYCENTER__DATABASE__URL": sqlite("bary.db")}, nil, "bary.db"},
		{"default", nil, nil, "barycenter.db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []string{"flag.db", "env.db", "bary.db", "barycenter.db"} {
				os.Remove(filepath.Join(dir, f))
			}
			r := cli(t, tc.env, "", append([]string{"up", "--users-file", users}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			for _, f := range []string{"flag.db", "env.db", "bary.db", "barycenter.db"} {
				if exists(f) != (f == tc.want) {
					t.Fatalf("%s exists: %v; want only %s", f, exists(f), tc.want)
				}
			}
		})
	}
	// USERS_FILE is read when the flag is absent.
	r := cli(t, map[string]string{"USERS_FILE": users}, "", "validate")
	if r.code != 0 {
		t.Fatalf("USERS_FILE: exit %d, %s", r.code, r.stderr)
	}
}

func TestExitCodes(t *testing.T) {
	users := writeFile(t, `[{"username": "a", "password": "pw-a-1"}]`)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "Usage:"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"up", "--nope"}, 2, "flag provided but not defined: -nope"},
		{"stray argument", []string{"up", "extra"}, 2, `unexpected argument "extra"`},
		{"bad log format", []string{"validate", "--log-format", "xml"}, 2, "--log-format must be text or json"},
		{"bad database URL", []string{"up", "--users-file", users, "--database-url", "mysql://u:hunter2@x/db"}, 2, "invalid database URL"},
		{"unreachable database", []string{"up", "--users-file", users, "--database-url", "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2"}, 1, "connect to PostgreSQL at 127.0.0.1:1"},
		{"bad migrate action", []string{"migrate", "sideways"}, 2, `unknown action "sideways"`},
		{"bad argon2 parameters", []string{"up", "--users-file", users, "--argon2-iterations", "0"}, 2, "iterations must be at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, nil, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, want %d; stderr %q should contain %q", r.code, tc.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, "hunter2") {
				t.Fatal("the output shows the database password")
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"up", "-h"}, {"migrate", "--help"}} {
		r := cli(t, nil, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage") {
			t.Fatalf("%v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	r := cli(t, nil, "", "up", "-h")
	if !strings.Contains(r.stdout, "(env DATABASE_URL, then BARYCENTER__DATABASE__URL)") || !strings.Contains(r.stdout, "Examples:") {
		t.Fatalf("up -h:\n%s", r.stdout)
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if r := cli(t, nil, "", args...); r.code != 0 || r.stdout != "usersync dev\n" {
			t.Fatalf("%v: %d %q", args, r.code, r.stdout)
		}
	}
}

func TestSQLiteModes(t *testing.T) {
	dir := t.TempDir()
	users := writeFile(t, `[{"username": "a", "password": "pw-a-1"}]`)
	path := filepath.Join(dir, "sub", "app.db")
	for _, mode := range []string{"ro", "rw"} {
		r := cli(t, nil, "", "up", "--users-file", users, "--database-url", "sqlite://"+path+"?mode="+mode)
		if r.code != 1 {
			t.Fatalf("mode=%s on a missing file: exit %d, %s", mode, r.code, r.stderr)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("mode=%s created the file", mode)
		}
	}
	if r := cli(t, nil, "", "plan", "--users-file", users, "--database-url", "sqlite://"+path+"?mode=rw"); r.code != 1 {
		t.Fatalf("plan with mode=rw on a missing file: exit %d, want 1 as up gives", r.code)
	}
	if r := cli(t, nil, "", "up", "--users-file", users, "--database-url", "sqlite://"+path); r.code != 0 {
		t.Fatalf("no mode (rwc): exit %d, %s", r.code, r.stderr)
	}
	r := cli(t, nil, "", "up", "--users-file", users, "--database-url", "sqlite://"+path+"?mode=ro")
	if r.code != 0 {
		t.Fatalf("mode=ro on an up-to-date database with nothing to write: exit %d, %s", r.code, r.stderr)
	}
	changed := writeFile(t, `[{"username": "a", "password": "pw-a-2"}]`)
	r = cli(t, nil, "", "up", "--users-file", changed, "--database-url", "sqlite://"+path+"?mode=ro")
	if r.code != 1 || !strings.Contains(r.stderr, "readonly") {
		t.Fatalf("mode=ro with a change to write: exit %d, %s", r.code, r.stderr)
	}
	if r := cli(t, nil, "", "up", "--users-file", users, "--database-url", "sqlite::memory:"); r.code != 0 {
		t.Fatalf("sqlite::memory:: exit %d, %s", r.code, r.stderr)
	}
}

func TestHelpOnceAndNotOnErrors(t *testing.T) {
	r := cli(t, nil, "", "up", "-h")
	if n := strings.Count(r.stdout, "Usage: usersync up"); n != 1 {
		t.Fatalf("up -h printed the usage %d times", n)
	}
	r = cli(t, nil, "", "plan", "--output", "json", "--typo")
	if r.code != 2 || r.stdout != "" {
		t.Fatalf("a flag typo: exit %d, stdout %q (a pipe must get nothing)", r.code, r.stdout)
	}
}

func TestURLPasswordsInArgumentsAreRedacted(t *testing.T) {
	const url = "postgres://app:Sekr1t-pw@db/idp"
	for _, args := range [][]string{
		{"up", url}, {"migrate", url}, {"up", "--wait", url}, {"sync", "--hash-workers", url},
	} {
		for _, format := range []string{"text", "json"} {
			r := cli(t, map[string]string{"LOG_FORMAT": format}, "", args...)
			if r.code != 2 || !strings.Contains(r.stderr, "app:xxxxx@db") || strings.Contains(r.stderr+r.stdout, "Sekr1t") {
				t.Fatalf("%v (%s): exit %d, stderr %s", args, format, r.code, r.stderr)
			}
		}
	}
}

func TestGenericVariablesAreNotOurs(t *testing.T) {
	// DRY_RUN or PRUNE meant for another tool in the pod must not turn the
	// init container into a no-op or a pruner.
	url := dbtest.SQLiteURL(t)
	users := writeFile(t, `[{"username": "a", "password": "pw-a-1"}]`)
	r := cli(t, map[string]string{"DRY_RUN": "1", "PRUNE": "true", "PLAN_OUTPUT": "json"}, "", "up", "--database-url", url, "--users-file", users)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	summary(t, r.stderr, 1, 0, 0)
	r = cli(t, map[string]string{"USERSYNC_DRY_RUN": "1"}, "", "up", "--database-url", url, "--users-file", users)
	if r.code != 0 || !strings.Contains(r.stdout, "= unchanged a") || !strings.Contains(r.stderr, "dry run") {
		t.Fatalf("USERSYNC_DRY_RUN: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := cli(t, nil, "", "up", "--database-url", url, "--users-file", users, "--output", "json"); r.code != 2 {
		t.Fatalf("--output without --dry-run: exit %d, want 2", r.code)
	}
}

func TestSyncRefusalWritesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fresh.db")
	users := writeFile(t, `[{"username": "a", "password": "pw-a-1"}]`)
	// mode=rw: an existing, empty file; the refusal must not create goose's table.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, nil, "", "sync", "--database-url", "sqlite://"+path, "--users-file", users)
	if r.code != 1 || !strings.Contains(r.stderr, "migrations are pending") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if st, _ := os.Stat(path); st.Size() != 0 {
		t.Fatalf("sync wrote %d bytes to a database it refused", st.Size())
	}
}

func TestPlanTakesThePasswordSettingsOfUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		mustUp(t, url, `[{"username": "a", "password": "pw-a-1"}]`)
		changed := writeFile(t, `[{"username": "a", "password": "pw-a-2"}]`)
		env := map[string]string{"PASSWORD_POLICY": "initial"}
		plan := cli(t, env, "", "plan", "--database-url", url, "--users-file", changed)
		dry := cli(t, env, "", "up", "--dry-run", "--database-url", url, "--users-file", changed)
		if plan.code != 0 || plan.stdout != dry.stdout || !strings.Contains(plan.stdout, "= unchanged a") {
			t.Fatalf("plan %d %q, up --dry-run %d %q", plan.code, plan.stdout, dry.code, dry.stdout)
		}
	})
}

func TestURLPasswordsAreRedactedEverywhere(t *testing.T) {
	dir := t.TempDir()
	term, rep := filepath.Join(dir, "termination-log"), filepath.Join(dir, "report.json")
	for _, url := range []string{"postgres://app:S3cretPw@db/app", "postgres://app:p@ss-S3cretPw@db/app"} {
		r := cli(t, nil, "", "up", "--users-file", url, "--termination-log", term, "--report", rep)
		if r.code != 2 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for name, out := range map[string]string{"stderr": r.stderr, "stdout": r.stdout, "termination log": readString(t, term), "report": readString(t, rep)} {
			if strings.Contains(out, "S3cretPw") {
				t.Errorf("%s shows the password of %s:\n%s", name, url, out)
			}
		}
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}
