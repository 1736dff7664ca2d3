package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/barycenter/usersync/internal/dbtest"
	"github.com/barycenter/usersync/internal/userfile"
)

// TestApplyReportsTheFailedWrite: when an insert of created users fails
// while other passwords are still being hashed, the error is the insert's,
// not the cancellation of the hashing it caused.
func TestApplyReportsTheFailedWrite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := dbtest.Open(t, url)
		if _, _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		refuse := []string{`CREATE TRIGGER refuse BEFORE INSERT ON users WHEN NEW.username = 'user0100'
			BEGIN SELECT RAISE(ABORT, 'trigger refused'); END`}
		if db.Config.Backend == "postgres" {
			refuse = []string{`CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN
				IF NEW.username = 'user0100' THEN RAISE EXCEPTION 'trigger refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER refuse BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse()`}
		}
		for _, q := range refuse {
			if _, err := db.SQL.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		var b strings.Builder
		b.WriteString("[")
		for i := range chunkSize + 2000 {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"username":"user%04d","password":"pw-%d"}`, i, i)
		}
		b.WriteString("]")
		f, err := userfile.Parse(strings.NewReader(b.String()), userfile.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		_, err = Sync(ctx, db.Bun, tx, f, Options{Params: cheap, Workers: 1})
		if err == nil || !strings.Contains(err.Error(), "insert users") || !strings.Contains(err.Error(), "trigger refused") {
			t.Fatalf("Sync = %v, want the failed insert", err)
		}
	})
}

// TestSyncThroughBunHandles: Sync works through a bun.Tx as through a
// *sql.Tx (the PostgreSQL inserts bind their arrays on the database/sql
// handle underneath).
func TestSyncThroughBunHandles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := dbtest.Open(t, url)
		if _, _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		f, err := userfile.Parse(strings.NewReader(`[{"username":"a","password":"pw-a","email":"a@x.y"},{"username":"b","password":"pw-b"}]`), userfile.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.Bun.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := Sync(ctx, db.Bun, tx, f, Options{Params: cheap})
		if err != nil {
			t.Fatalf("Sync through a bun.Tx: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if created, _, _ := plan.Counts(); created != 2 {
			t.Fatalf("created %d, want 2", created)
		}
		var n int
		if err := db.SQL.QueryRow(`SELECT COUNT(*) FROM users WHERE email IS NULL`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("users without email: %d, %v; want 1", n, err)
		}
	})
}
