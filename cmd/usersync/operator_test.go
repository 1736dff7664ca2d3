package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/barycenter/usersync/internal/dbtest"
	"github.com/barycenter/usersync/internal/reconcile"
	"github.com/barycenter/usersync/models"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/plan")

func init() {
	// Tests never write the real termination log of a pod they may run in.
	defaultTerminationLog = filepath.Join(os.TempDir(), "usersync-test-no-termination-log", "x")
}

const fourUsers = `[
  {"username": "alice", "password": "pw-alice-1", "email": "alice@example.com"},
  {"username": "bob", "password": "pw-bob-1", "properties": {"theme": "dark", "lang": "en"}},
  {"username": "carol", "password": "pw-carol-1", "properties": {"a": 1, "b": 2}},
  {"username": "dave", "password": "pw-dave-1", "properties": {"team": "ops"}}
]`

// planFile changes bob (email, password, a deleted property), replaces
// carol's properties, creates erin and leaves dave out (pruned with
// --prune).
const planFile = `{"prune": true, "users": [
  {"username": "alice", "password": "pw-alice-1", "email": "alice@example.com"},
  {"username": "bob", "password": "pw-bob-2", "email": "bob@example.com", "properties": {"theme": null}},
  {"username": "carol", "password": "pw-carol-1", "properties_mode": "replace", "properties": {"a": 1}},
  {"username": "erin", "password": "pw-erin-1"}
]}`

func insertForeign(t *testing.T, url string) {
	t.Helper()
	db := dbtest.Open(t, url)
	zed := models.User{Subject: "foreign-subject", Username: "zed", PasswordHash: "x", CreatedAt: 1, Enabled: 1}
	if _, err := db.Bun.NewInsert().Model(&zed).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "plan", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("plan differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestPlanGolden(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		mustUp(t, url, fourUsers)
		insertForeign(t, url)
		path := writeFile(t, planFile)
		before := dump(t, url)
		for _, tc := range []struct{ name, cmd, output string }{
			{"plan.txt", "plan", "text"}, {"plan.json", "plan", "json"},
			{"plan.txt", "up", "text"}, {"plan.json", "sync", "json"},
		} {
			args := []string{tc.cmd, "--database-url", url, "--users-file", path, "--output", tc.output, "--detailed-exitcode"}
			if tc.cmd != "plan" {
				args = append(args, "--dry-run")
			}
			r := cli(t, nil, "", args...)
			if r.code != exitChanges {
				t.Fatalf("%v: exit %d, want 3: %s", args, r.code, r.stderr)
			}
			golden(t, tc.name, r.stdout)
			for _, pw := range []string{"pw-bob-2", "pw-erin-1", "pw-alice-1"} {
				if strings.Contains(r.stdout+r.stderr, pw) {
					t.Fatalf("the plan shows a password")
				}
			}
			if after := dump(t, url); after != before {
				t.Fatalf("%s wrote to the database", tc.cmd)
			}
		}
		// Applying it does what the plan said, and the plan is then empty.
		report := filepath.Join(t.TempDir(), "report.json")
		r := mustUp(t, url, planFile, "--report", report)
		summary(t, r.stderr, 1, 2, 1)
		var rep ReportDoc
		readJSON(t, report, &rep)
		var planned PlanDoc
		b, _ := os.ReadFile(filepath.Join("testdata", "plan", "plan.json"))
		if err := json.Unmarshal(b, &planned); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rep.Users, planned.Users) || rep.Counts != planned.Counts {
			t.Fatalf("the report differs from the plan:\n%+v\n%+v", rep.PlanDoc, planned)
		}
		r = cli(t, nil, "", "plan", "--database-url", url, "--users-file", path, "--detailed-exitcode")
		if r.code != 0 || !strings.HasSuffix(r.stdout, "Plan: 0 to create, 0 to update, 4 unchanged, 0 to prune.\n") {
			t.Fatalf("plan after up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
}

func TestPlanOnEmptyDatabaseWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		for _, cmd := range [][]string{{"plan"}, {"up", "--dry-run"}} {
			r := cli(t, nil, threeUsers, append(cmd, "--database-url", url, "--users-file", "-")...)
			if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("# %d schema migration(s) pending", len(migrationVersions(t)))) ||
				!strings.HasSuffix(r.stdout, "Plan: 3 to create, 0 to update, 0 unchanged, 0 to prune.\n") {
				t.Fatalf("%v: exit %d\n%s%s", cmd, r.code, r.stdout, r.stderr)
			}
		}
		if strings.HasPrefix(url, "sqlite://") {
			path := strings.TrimSuffix(strings.TrimPrefix(url, "sqlite://"), "?mode=rwc")
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("the plan created the SQLite file: %v", err)
			}
			return
		}
		db := dbtest.Open(t, url)
		var n int
		if err := db.SQL.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("the plan created %d tables (%v)", n, err)
		}
		// sync --dry-run refuses like sync does.
		r := cli(t, nil, threeUsers, "sync", "--dry-run", "--database-url", url, "--users-file", "-")
		if r.code != 1 || !strings.Contains(r.stderr, "migrations are pending") {
			t.Fatalf("sync --dry-run: exit %d %s", r.code, r.stderr)
		}
	})
}

func TestDetailedExitcode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		mustUp(t, url, threeUsers)
		same, changed := writeFile(t, threeUsers), writeFile(t, `[{"username": "alice", "password": "a-new-one"}]`)
		tests := []struct {
			name string
			args []string
			code int
		}{
			{"no changes", []string{"plan", "--users-file", same}, 0},
			{"changes", []string{"plan", "--users-file", changed}, 3},
			{"dry run without changes", []string{"up", "--dry-run", "--users-file", same}, 0},
			{"dry run with changes", []string{"sync", "--dry-run", "--users-file", changed}, 3},
			{"invalid file", []string{"plan", "--users-file", writeFile(t, `[{"username": "x"}]`)}, 2},
			{"without --dry-run", []string{"up", "--users-file", same}, 2},
			{"prune guard", []string{"plan", "--users-file", changed, "--prune"}, 1},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := cli(t, nil, "", append(tc.args, "--database-url", url, "--detailed-exitcode")...)
				if r.code != tc.code {
					t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
				}
			})
		}
		// Without the flag a plan with changes exits 0.
		if r := cli(t, nil, "", "plan", "--database-url", url, "--users-file", changed); r.code != 0 {
			t.Fatalf("plan without --detailed-exitcode: exit %d", r.code)
		}
	})
}

func TestPrune(t *testing.T) {
	for _, action := range []string{"disable", "delete"} {
		t.Run(action, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, url string) {
				// "old" exists before the sync names it: adopted, never pruned.
				mustUp(t, url, `[]`)
				db := dbtest.Open(t, url)
				old := models.User{Subject: "old-subject", Username: "old", PasswordHash: "x", CreatedAt: 1, Enabled: 1}
				if _, err := db.Bun.NewInsert().Model(&old).Exec(context.Background()); err != nil {
					t.Fatal(err)
				}
				mustUp(t, url, `[{"username": "old", "password": "pw-old-1"}]`)
				mustUp(t, url, fourUsers)
				insertForeign(t, url)
				dave := getUser(t, url, "dave")
				before := dump(t, url)

				// dave and old leave the file; zed was never in it.
				r := mustUp(t, url, strings.Replace(fourUsers, `,
  {"username": "dave", "password": "pw-dave-1", "properties": {"team": "ops"}}`, "", 1), "--prune", "--prune-action", action)
				if !strings.Contains(r.stderr, `msg="pruned user" username=dave action=`+action) || !strings.Contains(r.stderr, "pruned=1") {
					t.Fatalf("want dave pruned:\n%s", r.stderr)
				}
				after := dump(t, url)
				for _, line := range strings.Split(strings.TrimSpace(before), "\n") {
					if strings.Contains(line, dave.Subject) {
						continue
					}
					if !strings.Contains(after, line) {
						t.Fatalf("a row other than dave's changed: %s\nafter:\n%s", line, after)
					}
				}
				got := getUser(t, url, "dave")
				switch action {
				case "disable":
					if got == nil || got.Enabled != 0 || !strings.Contains(after, "key=team") {
						t.Fatalf("dave: %+v, properties:\n%s", got, after)
					}
				case "delete":
					if got != nil || strings.Contains(after, dave.Subject) {
						t.Fatalf("dave or his properties remain:\n%s", after)
					}
				}
				// A re-run writes nothing.
				r = mustUp(t, url, strings.Replace(fourUsers, `,
  {"username": "dave", "password": "pw-dave-1", "properties": {"team": "ops"}}`, "", 1), "--prune", "--prune-action", action)
				if !strings.Contains(r.stderr, "pruned=0") || dump(t, url) != after {
					t.Fatalf("a re-run changed something:\n%s", r.stderr)
				}
				// Back in the file: a disabled dave is enabled again, a deleted
				// one is created again.
				r = mustUp(t, url, fourUsers, "--prune")
				if got := getUser(t, url, "dave"); got == nil || got.Enabled != 1 {
					t.Fatalf("dave back in the file: %+v\n%s", got, r.stderr)
				}
			})
		})
	}
}

func TestPruneGuard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		mustUp(t, url, fourUsers)
		before := dump(t, url)
		tests := []struct {
			name, file string
			args       []string
			want       string
		}{
			{"empty file", `[]`, []string{"--prune"}, "prune refused: 4 of 4 managed users would be disabled (more than half of them)"},
			{"empty file, prune in the file", `{"prune": true, "users": []}`, nil, "prune refused: 4 of 4"},
			{"more than --max-prune", `[{"username": "alice", "password": "pw-alice-1"}, {"username": "bob", "password": "pw-bob-1"}]`,
				[]string{"--prune", "--max-prune", "1", "--prune-action", "delete"}, "prune refused: 2 of 4 managed users would be deleted (more than --max-prune 1)"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := up(t, url, tc.file, tc.args...)
				if r.code != 1 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "nothing was written") {
					t.Fatalf("exit %d, want 1 and %q:\n%s", r.code, tc.want, r.stderr)
				}
				if dump(t, url) != before {
					t.Fatal("a refused prune wrote")
				}
			})
		}
		// --prune=false overrides the file; --force lifts the guard.
		r := mustUp(t, url, `{"prune": true, "users": []}`, "--prune=false")
		summary(t, r.stderr, 0, 0, 0)
		r = mustUp(t, url, `[]`, "--prune", "--force")
		if !strings.Contains(r.stderr, "pruned=4") {
			t.Fatalf("--force:\n%s", r.stderr)
		}
	})
}

func TestPropertiesSemantics(t *testing.T) {
	tests := []struct {
		name    string
		second  string
		changed string // "" for unchanged
		want    map[string]string
	}{
		{"merge keeps other keys", `[{"username": "u", "password": "pw-u-1", "properties": {"b": 3}}]`,
			"properties.b", map[string]string{"a": "1", "b": "3", "c": `"x"`}},
		{"null deletes a key", `[{"username": "u", "password": "pw-u-1", "properties": {"a": null, "zz": null}}]`,
			"properties.a", map[string]string{"b": "2", "c": `"x"`}},
		{"replace makes them exactly the file's", `[{"username": "u", "password": "pw-u-1", "properties_mode": "replace", "properties": {"a": 1, "d": true}}]`,
			"properties.b,properties.c,properties.d", map[string]string{"a": "1", "d": "true"}},
		{"replace without properties deletes all", `[{"username": "u", "password": "pw-u-1", "properties_mode": "replace"}]`,
			"properties.a,properties.b,properties.c", map[string]string{}},
		{"replace with the same keys writes nothing", `[{"username": "u", "password": "pw-u-1", "properties_mode": "replace", "properties": {"a": 1, "b": 2, "c": "x"}}]`,
			"", map[string]string{"a": "1", "b": "2", "c": `"x"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, url string) {
				mustUp(t, url, `[{"username": "u", "password": "pw-u-1", "properties": {"a": 1, "b": 2, "c": "x"}}]`)
				db := dbtest.Open(t, url)
				if _, err := db.SQL.Exec(`UPDATE properties SET updated_at = 1`); err != nil {
					t.Fatal(err)
				}
				r := mustUp(t, url, tc.second)
				if tc.changed == "" {
					summary(t, r.stderr, 0, 0, 1)
				} else if !strings.Contains(r.stderr, "changed="+tc.changed+"\n") {
					t.Fatalf("want changed=%s:\n%s", tc.changed, r.stderr)
				}
				var rows []models.Property
				if err := db.Bun.NewSelect().Model(&rows).Scan(context.Background()); err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for _, p := range rows {
					got[p.Key] = p.Value
					if untouched := !strings.Contains(tc.changed, "properties."+p.Key); untouched && p.UpdatedAt != 1 {
						t.Errorf("property %s was rewritten", p.Key)
					}
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("properties %v, want %v", got, tc.want)
				}
			})
		})
	}
}

func TestReport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		dir := t.TempDir()
		report, term := filepath.Join(dir, "report.json"), filepath.Join(dir, "termination-log")
		mustUp(t, url, threeUsers, "--report", report, "--termination-log", term)
		var rep ReportDoc
		readJSON(t, report, &rep)
		backend := "sqlite"
		if strings.HasPrefix(url, "postgres") {
			backend = "postgres"
		}
		want := ReportDoc{Command: "up", Status: "ok", Backend: backend, MigrationVersion: latestVersion(t), DurationSeconds: rep.DurationSeconds,
			PlanDoc: PlanDoc{FormatVersion: 1, ChangesPending: true, Counts: Counts{Created: 3},
				Users: []UserDoc{{Username: "alice", Action: "create"}, {Username: "bob", Action: "create"}, {Username: "ci-robot", Action: "create"}}}}
		if !reflect.DeepEqual(rep, want) {
			t.Fatalf("report:\n%+v\nwant\n%+v", rep, want)
		}
		// The document's keys are the schema: a rename shows here.
		var raw map[string]any
		b, _ := os.ReadFile(report)
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range raw {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		wantKeys := []string{"backend", "changes_pending", "command", "counts", "dry_run", "duration_seconds", "format_version", "migration_version", "pending_migrations", "status", "users"}
		if !reflect.DeepEqual(keys, wantKeys) {
			t.Fatalf("report keys %v, want %v", keys, wantKeys)
		}
		line, _ := os.ReadFile(term)
		if !strings.HasPrefix(string(line), "usersync up ok: created=3 updated=0 unchanged=0 pruned=0 backend="+backend+fmt.Sprintf(" version=%d ", latestVersion(t))) || strings.Count(string(line), "\n") != 1 {
			t.Fatalf("termination log: %q", line)
		}
		// A refused run reports the failure.
		r := up(t, url, `[]`, "--prune", "--report", report, "--termination-log", term)
		if r.code != 1 {
			t.Fatalf("exit %d", r.code)
		}
		rep = ReportDoc{}
		readJSON(t, report, &rep)
		if rep.Status != "failed" || !strings.Contains(rep.Error, "prune refused: 3 of 3") || rep.Counts != (Counts{}) {
			t.Fatalf("failed report: %+v", rep)
		}
		if line, _ := os.ReadFile(term); !strings.HasPrefix(string(line), "usersync up failed: prune refused") {
			t.Fatalf("termination log: %q", line)
		}
	})
}

func TestTerminationLogDefault(t *testing.T) {
	url := dbtest.SQLiteURL(t)
	saved := defaultTerminationLog
	t.Cleanup(func() { defaultTerminationLog = saved })
	defaultTerminationLog = filepath.Join(t.TempDir(), "termination-log")
	mustUp(t, url, threeUsers)
	if _, err := os.Stat(defaultTerminationLog); !os.IsNotExist(err) {
		t.Fatalf("the default path was created: %v", err)
	}
	if err := os.WriteFile(defaultTerminationLog, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mustUp(t, url, threeUsers)
	if b, _ := os.ReadFile(defaultTerminationLog); !strings.HasPrefix(string(b), "usersync up ok: created=0 updated=0 unchanged=3") {
		t.Fatalf("termination log: %q", b)
	}
}

func TestProgressLogLines(t *testing.T) {
	url := dbtest.SQLiteURL(t)
	mustUp(t, url, threeUsers)
	changed := strings.ReplaceAll(threeUsers, "passphrase", "passphrase-2")
	r := mustUp(t, url, changed, "--progress-interval", "1ns")
	for _, want := range []string{"msg=progress stage=verify done=2 total=2 rate=", "msg=progress stage=hash done=2 total=2 rate="} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("want %q in:\n%s", want, r.stderr)
		}
	}
	for name, pw := range passwords {
		if strings.Contains(r.stderr, pw) || strings.Contains(r.stderr, strings.ReplaceAll(pw, "passphrase", "passphrase-2")) {
			t.Fatalf("progress output shows %s's password", name)
		}
	}
	// The default interval logs nothing for a quick run.
	r = mustUp(t, url, threeUsers)
	if strings.Contains(r.stderr, "msg=progress") {
		t.Fatalf("a quick run logged progress:\n%s", r.stderr)
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Unix(0, 0)
	d := &progressDisplay{w: &buf, logger: slog.New(slog.NewTextHandler(io.Discard, nil)), tty: true, interval: time.Second,
		now: func() time.Time { return clock }}
	d.update(reconcile.StageHash, 0, 4)
	d.update(reconcile.StageHash, 1, 4)
	if buf.Len() != 0 {
		t.Fatalf("a bar within the first second: %q", buf.String())
	}
	clock = clock.Add(2 * time.Second)
	for i := 2; i <= 4; i++ {
		d.update(reconcile.StageHash, i, 4)
	}
	d.close()
	if out := buf.String(); !strings.Contains(out, "hashing passwords") || !strings.Contains(out, "4/4") {
		t.Fatalf("bar output: %q", out)
	}
}
