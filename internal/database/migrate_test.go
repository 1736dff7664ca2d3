package database_test

import (
	"context"
	"slices"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/barycenter/usersync/internal/dbtest"
	"github.com/barycenter/usersync/migrations"
)

// tables lists the user tables of the database, sorted.
func tables(t *testing.T, url string) []string {
	t.Helper()
	db := dbtest.Open(t, url)
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	if db.Config.Backend == "postgres" {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"
	}
	rows, err := db.SQL.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestMigrations(t *testing.T) {
	files, err := migrations.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	// Versions need not be contiguous (00003 and 00004 come from different
	// branches): compare with the numbers in the file names.
	var versions []int64
	for _, f := range files {
		if f.Name() != "migrations.go" {
			v, err := goose.NumericComponent(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			versions = append(versions, v)
		}
	}
	n, last := int64(len(versions)), versions[len(versions)-1]
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := dbtest.Open(t, url)
		p, err := db.Migrator()
		if err != nil {
			t.Fatal(err)
		}

		// Up from empty applies every migration.
		res, v, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(res)) != n || v != last {
			t.Fatalf("up from empty applied %d, version %d; want %d and %d", len(res), v, n, last)
		}
		if got := tables(t, url); !slices.Contains(got, "users") || !slices.Contains(got, "properties") || !slices.Contains(got, "usersync_state") {
			t.Fatalf("tables after up: %v", got)
		}

		// Up again is a no-op.
		res, v, err = db.Migrate(ctx)
		if err != nil || len(res) != 0 || v != last {
			t.Fatalf("up again: %d applied, version %d, %v; want 0, %d", len(res), v, err, last)
		}
		if pending, err := p.HasPending(ctx); err != nil || pending {
			t.Fatalf("HasPending = %v, %v", pending, err)
		}

		// Status lists every migration as applied.
		st, err := p.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.State != goose.StateApplied {
				t.Fatalf("migration %d is %s", s.Source.Version, s.State)
			}
		}

		// Down to zero removes the tables.
		if _, err := p.DownTo(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if v, err := p.GetDBVersion(ctx); err != nil || v != 0 {
			t.Fatalf("version after down to zero: %d, %v", v, err)
		}
		if got := tables(t, url); slices.Contains(got, "users") || slices.Contains(got, "properties") || slices.Contains(got, "usersync_state") {
			t.Fatalf("tables after down: %v", got)
		}

		// Up one by one reaches the same version.
		for i, want := range versions {
			r, err := p.UpByOne(ctx)
			if err != nil || r.Source.Version != want {
				t.Fatalf("UpByOne #%d: %v, %v", i+1, r, err)
			}
		}
		if _, err := p.UpByOne(ctx); err == nil {
			t.Fatal("UpByOne past the last migration succeeded")
		}
		if pending, err := p.HasPending(ctx); err != nil || pending {
			t.Fatalf("HasPending after one by one = %v, %v", pending, err)
		}
	})
}
