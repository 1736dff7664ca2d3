package database

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"
	goosedb "github.com/pressly/goose/v3/database"
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
	store, err := goosedb.NewStore(db.GooseDialect(), goose.DefaultTablename)
	if err != nil {
		return SchemaState{}, fmt.Errorf("read schema version: %w", err)
	}
	ext, ok := store.(goosedb.StoreExtender)
	if !ok {
		return SchemaState{}, fmt.Errorf("read schema version: goose store cannot check its table")
	}
	exists, err := ext.TableExists(ctx, db.SQL)
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
