package reconcile

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/barycenter/usersync/internal/database"
	"github.com/barycenter/usersync/internal/dbtest"
	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/models"
)

type testUser struct{ name, pw, email string }

func testUsers(n int) []testUser {
	us := make([]testUser, n)
	for i := range us {
		us[i] = testUser{fmt.Sprintf("user%05d", i), fmt.Sprintf("password-%05d", i), fmt.Sprintf("user%05d@example.com", i)}
	}
	return us
}

func usersFile(t testing.TB, us []testUser) *userfile.File {
	t.Helper()
	var b strings.Builder
	b.WriteString("[")
	for i, u := range us {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"username": %q, "password": %q, "email": %q}`, u.name, u.pw, u.email)
	}
	b.WriteString("]")
	f, err := userfile.Parse(strings.NewReader(b.String()), userfile.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// migrated opens url with the schema applied.
func migrated(t testing.TB, url string) *database.DB {
	t.Helper()
	db := dbtest.Open(t, url)
	if _, _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// syncOnce runs one sync in a transaction and returns its plan and the
// number of Argon2 computations it made.
func syncOnce(t testing.TB, db *database.DB, f *userfile.File, opts Options) (*Plan, int64) {
	t.Helper()
	ctx := context.Background()
	var calls atomic.Int64
	opts.Argon2Calls = &calls
	if opts.Params == (password.Params{}) {
		opts.Params = cheap
	}
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Sync(ctx, db.Bun, tx, f, opts)
	if err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return plan, calls.Load()
}

func exec(t *testing.T, db *database.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Bun.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func state(t *testing.T, db *database.DB) []models.SyncState {
	t.Helper()
	var rows []models.SyncState
	if err := db.Bun.NewSelect().Model(&rows).Order("bucket").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rows
}

// bucketSize is the number of users in the bucket of name among k
// buckets.
func bucketSize(us []testUser, name string, k int64) int64 {
	var n int64
	for _, u := range us {
		if bucketOf(u.name, int(k)) == bucketOf(name, int(k)) {
			n++
		}
	}
	return n
}

// TestFingerprintArgon2Calls counts the Argon2 computations of each kind
// of re-run: the fingerprint path is taken exactly when it proves
// something, and a change costs only its buckets.
func TestFingerprintArgon2Calls(t *testing.T) {
	const n = 30 // k = round(√30) = 5 buckets
	dbtest.Each(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		us := testUsers(n)
		k := int64(bucketCount(n, 0))
		clock := time.Unix(1_700_000_000, 0)
		opts := Options{Now: func() time.Time { return clock }}
		step := func(name string, f *userfile.File, wantCalls int64, created, updated, unchanged int) *Plan {
			t.Helper()
			clock = clock.Add(time.Hour)
			plan, calls := syncOnce(t, db, f, opts)
			c, u, un := plan.Counts()
			if calls != wantCalls || c != created || u != updated || un != unchanged {
				t.Fatalf("%s: %d Argon2 calls, created=%d updated=%d unchanged=%d; want %d, %d %d %d",
					name, calls, c, u, un, wantCalls, created, updated, unchanged)
			}
			return plan
		}

		// Cold: every password hashed, then k bucket fingerprints and the top.
		step("cold", usersFile(t, us), n+k+1, n, 0, 0)
		if got := int64(len(state(t, db))); got != k+1 {
			t.Fatalf("state rows after the cold sync: %d, want %d", got, k+1)
		}

		// Unchanged: one Argon2 (the top), and no write, not even of the state.
		before := state(t, db)
		step("unchanged", usersFile(t, us), 1, 0, 0, n)
		if after := state(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("an unchanged re-run rewrote the state:\n%v\n%v", before, after)
		}

		// One email changed: no more hashing than unchanged.
		us[3].email = "new@example.com"
		step("email", usersFile(t, us), 1, 0, 1, n-1)

		// One password changed: top, k buckets, the members of one bucket,
		// the new hash, the new bucket fingerprint and the new top.
		us[7].pw = "a-new-password"
		m := bucketSize(us, us[7].name, k)
		step("password", usersFile(t, us), 1+k+m+1+1+1, 0, 1, n-1)
		step("unchanged after password", usersFile(t, us), 1, 0, 0, n)

		// A user added: its bucket's other members are verified.
		us = append(us, testUser{"zed", "zed-password", "zed@example.com"})
		m = bucketSize(us, "zed", k) - 1
		step("added", usersFile(t, us), 1+k+m+1+1+1, 1, 0, n)
		step("unchanged after add", usersFile(t, us), 1, 0, 0, n+1)

		// Stronger parameters: the top still proves every password, so each
		// is rehashed without a verification, and the fingerprints follow.
		opts.Params = password.Params{Memory: 128, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
		plan := step("stronger", usersFile(t, us), 1+int64(n+1)+k+1, 0, n+1, 0)
		if !plan.Changes[0].Rehash {
			t.Fatalf("stronger parameters: change not marked rehash: %+v", plan.Changes[0])
		}
		step("unchanged after rehash", usersFile(t, us), 1, 0, 0, n+1)

		// No state (lost or never written): every password is verified.
		exec(t, db, "DELETE FROM usersync_state")
		k = int64(bucketCount(n+1, 0)) // buckets made afresh for 31 users
		step("no state", usersFile(t, us), int64(n+1)+k+1, 0, 0, n+1)
		step("unchanged after no state", usersFile(t, us), 1, 0, 0, n+1)
	})
}

// TestFingerprintCorrectsDrift edits managed rows behind usersync's back:
// the next run finds and corrects each edit, verifying only the bucket a
// replaced hash sits in.
func TestFingerprintCorrectsDrift(t *testing.T) {
	const n = 30
	dbtest.Each(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		us := testUsers(n)
		f := usersFile(t, us)
		syncOnce(t, db, f, Options{})

		// An email edited in the database: compared directly, one Argon2.
		exec(t, db, "UPDATE users SET email = 'evil@example.com' WHERE username = ?", us[2].name)
		plan, calls := syncOnce(t, db, f, Options{})
		if _, u, _ := plan.Counts(); u != 1 || calls != 1 {
			t.Fatalf("edited email: updated=%d with %d Argon2 calls; want 1 and 1", u, calls)
		}

		// A hash replaced by one of another password: the bucket's digest
		// differs, its members are verified, the intruder's hash replaced.
		other, err := password.Generate("not-the-password", cheap)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, db, "UPDATE users SET password_hash = ? WHERE username = ?", other, us[5].name)
		plan, calls = syncOnce(t, db, f, Options{})
		k := int64(bucketCount(n, 0))
		m := bucketSize(us, us[5].name, k)
		if _, u, _ := plan.Counts(); u != 1 || calls != 1+m+1 {
			t.Fatalf("replaced hash: updated=%d with %d Argon2 calls; want 1 and %d", u, calls, 1+m+1)
		}
		if got := plan.Changes[5].Fields; fmt.Sprint(got) != "[password]" {
			t.Fatalf("replaced hash: changed %v, want [password]", got)
		}

		// The hash itself deleted from under a user (row gone): recreated.
		exec(t, db, "DELETE FROM users WHERE username = ?", us[9].name)
		plan, _ = syncOnce(t, db, f, Options{})
		if c, _, _ := plan.Counts(); c != 1 {
			t.Fatalf("deleted row: created=%d, want 1", c)
		}

		// A fingerprint row tampered with: it proves nothing, and is rewritten.
		exec(t, db, "UPDATE usersync_state SET fingerprint = 'garbage'")
		_, calls = syncOnce(t, db, f, Options{})
		if calls != n+k+1 {
			t.Fatalf("tampered state: %d Argon2 calls, want %d", calls, n+k+1)
		}

		var rows []models.User
		if err := db.Bun.NewSelect().Model(&rows).Order("username").Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			if ok, err := password.Verify(r.PasswordHash, us[i].pw); err != nil || !ok {
				t.Fatalf("%s: stored hash does not verify its password", r.Username)
			}
			if r.Email == nil || *r.Email != us[i].email {
				t.Fatalf("%s: email %v, want %s", r.Username, r.Email, us[i].email)
			}
		}
		if _, calls = syncOnce(t, db, f, Options{}); calls != 1 {
			t.Fatalf("after the corrections: %d Argon2 calls, want 1", calls)
		}
	})
}

// TestWorkersDoNotChangeTheResult syncs the same sequence of files with 1
// and with 4 workers: the databases end up equal but for salts.
func TestWorkersDoNotChangeTheResult(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		var results []string
		for _, workers := range []int{1, 4} {
			name := fmt.Sprintf("workers%d", workers)
			t.Run(name, func(t *testing.T) {
				u := url
				if workers != 1 {
					if strings.HasPrefix(url, "sqlite") {
						u = dbtest.SQLiteURL(t)
					} else {
						u = dbtest.PostgresURL(t)
					}
				}
				db := migrated(t, u)
				subject := 0
				opts := Options{Workers: workers, Now: func() time.Time { return time.Unix(1_700_000_000, 0) },
					NewSubject: func() string { subject++; return fmt.Sprintf("subject-%04d", subject) }}
				// Subjects are handed out in file order, whatever the workers.
				us := testUsers(2500) // more than two chunks of creates
				syncOnce(t, db, usersFile(t, us), opts)
				for i := 0; i < len(us); i += 100 {
					us[i].pw += "-changed"
					us[i+1].email = "changed@example.com"
				}
				syncOnce(t, db, usersFile(t, us), opts)
				var rows []models.User
				if err := db.Bun.NewSelect().Model(&rows).Order("username").Scan(context.Background()); err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				for i, r := range rows {
					if ok, err := password.Verify(r.PasswordHash, us[i].pw); err != nil || !ok {
						t.Fatalf("%s: stored hash does not verify", r.Username)
					}
					fmt.Fprintf(&b, "%s %s %s %v %d\n", r.Subject, r.Username, *r.Email, r.Enabled, r.CreatedAt)
				}
				results = append(results, b.String())
			})
		}
		if len(results) == 2 && results[0] != results[1] {
			t.Fatal("1 and 4 workers synced different rows")
		}
	})
}

func TestHashWorkers(t *testing.T) {
	mib := int64(1 << 20)
	for _, tc := range []struct {
		name      string
		requested int
		memory    uint32 // KiB
		budget    int64
		want      int
	}{
		{"requested within budget", 4, 19456, 96 * mib, 4},
		{"capped by the budget", 16, 19456, 96 * mib, 5},
		{"at least one", 4, 19456, 10 * mib, 1},
		{"cheap hashes", 64, 64, 160 * mib, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := password.Params{Memory: tc.memory}
			if got := HashWorkers(tc.requested, p, tc.budget); got != tc.want {
				t.Fatalf("HashWorkers(%d, m=%d, %d) = %d, want %d", tc.requested, tc.memory, tc.budget, got, tc.want)
			}
		})
	}
}

func TestBucketCountKeepsBucketsWhileNearSize(t *testing.T) {
	for _, tc := range []struct{ n, stored, want int }{
		{0, 0, 1}, {1, 0, 1}, {10000, 0, 100}, {10001, 100, 100},
		{40000, 100, 100}, {40001, 100, 200}, {2500, 100, 100}, {2499, 100, 50},
	} {
		if got := bucketCount(tc.n, tc.stored); got != tc.want {
			t.Errorf("bucketCount(%d, %d) = %d, want %d", tc.n, tc.stored, got, tc.want)
		}
	}
}
