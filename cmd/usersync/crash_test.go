package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/barycenter/usersync/internal/database"
	"github.com/barycenter/usersync/internal/dbtest"
)

// crashFiles returns two users files: a has 200 users, b changes every
// one of them (password, email, property) and adds 50 more.
func crashFiles(t *testing.T) (a, b string, ua, ub []testUser) {
	t.Helper()
	for i := range 250 {
		name := fmt.Sprintf("crash-user-%03d", i)
		if i < 200 {
			ua = append(ua, testUser{Username: name, Password: fmt.Sprintf("Crash-A-%03d", i),
				Email: fmt.Sprintf("a%d@example.org", i), Properties: map[string]any{"team": "a"}})
		}
		ub = append(ub, testUser{Username: name, Password: fmt.Sprintf("Crash-B-%03d", i),
			Email: fmt.Sprintf("b%d@example.org", i), Properties: map[string]any{"team": "b"}})
	}
	return writeUsersFile(t, ua), writeUsersFile(t, ub), ua, ub
}

// slowHashing makes a sync of a few hundred users last long enough to be
// interrupted in the middle: one hashing worker, 256 KiB per hash.
var slowHashing = []string{"--argon2-memory", "256", "--argon2-iterations", "1", "--argon2-parallelism", "1", "--hash-workers", "1"}

func upArgs(url, file string, extra ...string) []string {
	args := append([]string{"up", "--database-url", url, "--users-file", file}, slowHashing...)
	return append(args, extra...)
}

// landed reports whether the users table is exactly base (false) or base
// with the file's users fully synced (true), and fails the test when it
// is anything in between. The test files change every field of a user
// together, so a user whose email already matches must be untouched.
func landed(t *testing.T, base, got map[string]userRow, file []testUser) bool {
	t.Helper()
	if equalRows(base, got) {
		return false
	}
	inFile := map[string]bool{}
	var problems []string
	for _, u := range file {
		inFile[u.Username] = true
		r, ok := got[u.Username]
		old, had := base[u.Username]
		switch {
		case had && old.Email == u.Email: // already in sync: must be untouched
			if r != old {
				problems = append(problems, u.Username+" was in sync and changed")
			}
		case !ok:
			problems = append(problems, u.Username+" missing")
		case r.Email != u.Email:
			problems = append(problems, u.Username+" has the old email")
		case r.Hash == base[u.Username].Hash:
			problems = append(problems, u.Username+" has the old password hash")
		case r.Props != fmt.Sprintf("team=%q;", u.Properties["team"]):
			problems = append(problems, u.Username+" has the old properties")
		}
	}
	for name, r := range base {
		if !inFile[name] && got[name] != r {
			problems = append(problems, name+" (not in the file) changed")
		}
	}
	if len(got) != len(inFile)+countNotIn(base, inFile) {
		problems = append(problems, fmt.Sprintf("%d users, want %d", len(got), len(inFile)+countNotIn(base, inFile)))
	}
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
		}
		t.Fatalf("partial sync: neither the state before nor the state after:\n  %s", strings.Join(problems, "\n  "))
	}
	return true
}

func equalRows(a, b map[string]userRow) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func countNotIn(base map[string]userRow, in map[string]bool) int {
	n := 0
	for k := range base {
		if !in[k] {
			n++
		}
	}
	return n
}

// TestCrashAllOrNothing kills `usersync up` with SIGKILL at spread-out
// instants of a sync (starting, migrating, verifying, hashing, writing,
// committing) and checks each time that the users and properties are as
// before or as after, never in between; then a clean run converges.
func TestCrashAllOrNothing(t *testing.T) {
	fileA, fileB, ua, ub := crashFiles(t)
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		db := dbtest.Open(t, url)

		// Sync a, then time a whole sync of b (verify, hash, write): the
		// kills are spread over that time and a little beyond.
		var full time.Duration
		for _, f := range []string{fileA, fileB} {
			start := time.Now()
			cmd, _, errb := usersyncCmd(ctx, upArgs(url, f)...)
			if err := cmd.Run(); err != nil {
				t.Fatalf("sync %s: %v\n%s", f, err, errb)
			}
			full = time.Since(start)
		}
		base := userRows(t, db)
		if len(base) != len(ub) {
			t.Fatalf("after the first syncs: %d users, want %d", len(base), len(ub))
		}

		files := [][]testUser{ua, ub}
		paths := []string{fileA, fileB}
		target := 0 // each run syncs towards the other file
		const kills = 5
		var before, after int
		for i := range kills {
			delay := time.Duration(float64(full) * (0.1 + 1.2*(float64(i)+rand.Float64())/kills))
			cmd, _, errb := usersyncCmd(ctx, upArgs(url, paths[target])...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("run %d ended before the kill: %v\n%s", i, err, errb)
				}
			case <-time.After(delay):
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-done
			}
			got := userRows(t, db)
			if landed(t, base, got, files[target]) {
				after++
				base, target = got, 1-target
			} else {
				before++
			}
		}
		t.Logf("%d kills over a %v run: %d left the database as before, %d as after", kills, full.Round(time.Millisecond), before, after)

		// A clean run converges, and the next finds nothing to do.
		for _, want := range []string{"sync complete", "unchanged=250"} {
			cmd, _, errb := usersyncCmd(ctx, upArgs(url, fileB)...)
			if err := cmd.Run(); err != nil {
				t.Fatalf("clean run: %v\n%s", err, errb)
			}
			if !strings.Contains(errb.String(), want) {
				t.Errorf("clean run: log lacks %q:\n%s", want, errb)
			}
		}
		got := userRows(t, db)
		for _, u := range ub {
			if got[u.Username].Email != u.Email {
				t.Fatalf("after the clean run %s has email %q, want %q", u.Username, got[u.Username].Email, u.Email)
			}
		}
		if rows, distinct := countUsers(t, db); rows != len(ub) || distinct != len(ub) {
			t.Errorf("after the clean run: %d rows, %d usernames, want %d", rows, distinct, len(ub))
		}
	})
}

// startUp starts `usersync up` and waits until it has migrated, so that
// what follows hits the sync. It returns the command and a channel that
// yields its exit error.
func startUp(t *testing.T, ctx context.Context, args []string) (*exec.Cmd, *lockedBuffer, <-chan error) {
	t.Helper()
	cmd, _, errb := usersyncCmd(ctx, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errb.String(), "schema up to date") {
		select {
		case err := <-done:
			t.Fatalf("usersync ended before the sync began: %v\n%s", err, errb)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("usersync did not migrate within 30s:\n%s", errb)
		}
	}
	return cmd, errb, done
}

// firstSync syncs file into url and returns the database and its users,
// the state an interrupted second sync must leave as it was.
func firstSync(t *testing.T, ctx context.Context, url, file string) (*database.DB, map[string]userRow) {
	t.Helper()
	cmd, _, errb := usersyncCmd(ctx, upArgs(url, file)...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("first sync: %v\n%s", err, errb)
	}
	db := dbtest.Open(t, url)
	return db, userRows(t, db)
}

// TestInterrupted sends SIGTERM (what Kubernetes sends on a rollout) and
// SIGINT in the middle of a sync: the run must roll back, say it was
// interrupted, and exit 1 promptly.
func TestInterrupted(t *testing.T) {
	fileA, fileB, _, _ := crashFiles(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, url string) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				db, base := firstSync(t, ctx, url, fileA)

				c, errb2, done := startUp(t, ctx, upArgs(url, fileB))
				sent := time.Now()
				if err := c.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				var err error
				select {
				case err = <-done:
				case <-time.After(15 * time.Second):
					_ = c.Process.Kill()
					t.Fatalf("still running 15s after %v:\n%s", sig, errb2)
				}
				t.Logf("exited %v after %v", err, time.Since(sent).Round(time.Millisecond))
				if code := exitStatus(t, err); code != exitFailure {
					t.Errorf("exit %d, want %d\n%s", code, exitFailure, errb2)
				}
				if !strings.Contains(errb2.String(), "interrupted") {
					t.Errorf("stderr does not say it was interrupted:\n%s", errb2)
				}
				if got := userRows(t, db); !equalRows(base, got) {
					t.Errorf("the interrupted sync changed the users table")
				}
			})
		})
	}
}

// TestBackendTerminated terminates the sync's PostgreSQL backend while its
// transaction is open: the run must exit 1 with nothing written, and the
// next run must succeed.
func TestBackendTerminated(t *testing.T) {
	fileA, fileB, _, ub := crashFiles(t)
	url := dbtest.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, base := firstSync(t, ctx, url, fileA)

	c, errb2, done := startUp(t, ctx, upArgs(url, fileB))
	var pid int
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := db.SQL.QueryRowContext(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
			ORDER BY xact_start LIMIT 1`).Scan(&pid)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = c.Process.Kill()
			t.Fatalf("no open transaction of the sync found: %v\n%s", err, errb2)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var ok bool
	if err := db.SQL.QueryRowContext(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
	err := <-done
	if code := exitStatus(t, err); code != exitFailure {
		t.Errorf("exit %d, want %d\n%s", code, exitFailure, errb2)
	}
	if !strings.Contains(errb2.String(), "usersync: ") {
		t.Errorf("no error message on stderr:\n%s", errb2)
	}
	if got := userRows(t, db); !equalRows(base, got) {
		t.Errorf("the failed sync changed the users table")
	}

	cmd, _, errb := usersyncCmd(ctx, upArgs(url, fileB)...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("run after the failure: %v\n%s", err, errb)
	}
	if !landed(t, base, userRows(t, db), ub) {
		t.Errorf("the run after the failure did not sync")
	}
}
