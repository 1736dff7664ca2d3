package seeds_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/barycenter/usersync/internal/database"
	"github.com/barycenter/usersync/internal/dbtest"
	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/internal/reconcile"
	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/seeds"
)

var cheap = password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func file(t *testing.T, n int, suffix string) *userfile.File {
	t.Helper()
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"username": "user%03d", "password": "pw-%d-%s"}`, i, i, suffix)
	}
	b.WriteString("]")
	f, err := userfile.Parse(strings.NewReader(b.String()), userfile.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRunHashesOnce checks that the unlocked first pass of Run leaves the
// locked seed no Argon2 work: Run costs exactly as many Argon2 calls as one
// pass of reconcile.Sync on an identical database.
func TestRunHashesOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		count := func(run func(db *database.DB, opts reconcile.Options)) int64 {
			t.Helper()
			var calls atomic.Int64
			db := dbtest.Open(t, dbtest.Fresh(t, url))
			if _, _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			run(db, reconcile.Options{Params: cheap, Workers: 2, Argon2Calls: &calls})
			return calls.Load()
		}
		for _, step := range []struct{ name, suffix string }{{"cold", "a"}, {"passwords changed", "b"}} {
			f := file(t, 30, step.suffix)
			viaRun := count(func(db *database.DB, opts reconcile.Options) {
				if step.suffix != "a" {
					if _, err := seeds.Run(ctx, db, file(t, 30, "a"), reconcile.Options{Params: cheap}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := seeds.Run(ctx, db, f, opts); err != nil {
					t.Fatal(err)
				}
			})
			onePass := count(func(db *database.DB, opts reconcile.Options) {
				if step.suffix != "a" {
					if _, err := seeds.Run(ctx, db, file(t, 30, "a"), reconcile.Options{Params: cheap}); err != nil {
						t.Fatal(err)
					}
				}
				tx, err := db.SQL.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if _, err := reconcile.Sync(ctx, db.Bun, tx, f, opts); err != nil {
					t.Fatal(err)
				}
			})
			if viaRun != onePass || onePass < 30 {
				t.Errorf("%s: Run made %d Argon2 calls, one pass %d: the memo did not carry the first pass's work", step.name, viaRun, onePass)
			}
		}
	})
}
