package database

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/pressly/goose/v3"
)

// SchemaState is where the schema stands.
type SchemaState struct {
	Applied int64 // highest applied migration; 0 on an empty database
	Latest  int64 // highest migration embedded in this binary
	Pending int   // migrations not applied yet
}

// SchemaState reads where the schema stands without writing anything:
// unlike goose's own status calls it does not create goose's version table
// on an empty database, so a plan or a dry run leaves no trace.
func (db *DB) SchemaState(ctx context.Context) (SchemaState, error) {
	p, err := db.Migrator()
	if err != nil {
		return SchemaState{}, err
	}
	var st SchemaState
	for _, s := range p.ListSources() {
		st.Latest = max(st.Latest, s.Version)
		st.Pending++
	}
	exists, err := db.HasTable(ctx, goose.DefaultTablename)
	if err != nil {
		return SchemaState{}, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return st, nil
	}
	status, err := p.Status(ctx)
	if err != nil {
		return SchemaState{}, fmt.Errorf("read schema version: %w", err)
	}
	for _, s := range status {
		if s.State == goose.StateApplied {
			st.Applied = max(st.Applied, s.Source.Version)
			st.Pending--
		}
	}
	return st, nil
}

// HasTable reports whether the table exists (on PostgreSQL: in the search
// path), reading the catalog only.
func (db *DB) HasTable(ctx context.Context, name string) (bool, error) {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
	if db.Config.Backend == Postgres {
		q = "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = $1 AND schemaname = ANY(current_schemas(false))"
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, fmt.Errorf("look up table %s: %w", name, err)
	}
	return n > 0, nil
}

// ForPlan returns the config a plan opens instead of c, so that it cannot
// create or change a SQLite file: an existing file is opened read-only
// (mode=ro), a missing one that mode rwc would create is replaced by an
// empty in-memory database (with mode ro or rw the plan fails as up would).
// PostgreSQL configs are returned unchanged (a plan reads in a read-only
// transaction there).
func (c *Config) ForPlan() *Config {
	if c.Backend != SQLite || c.Memory() {
		return c
	}
	if _, err := os.Stat(c.Path); errors.Is(err, fs.ErrNotExist) && c.Mode == "rwc" {
		// up would create it: plan against an empty database instead.
		mem, _ := ParseURL("sqlite::memory:")
		return mem
	}
	ro := *c
	ro.Mode = "ro"
	ro.DSN = strings.Replace(c.DSN, "?mode="+c.Mode+"&", "?mode=ro&", 1)
	return &ro
}
