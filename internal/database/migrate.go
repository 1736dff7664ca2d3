package database

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/barycenter/usersync/migrations"
)

// Migrator returns the goose provider for the versioned schema migrations
// embedded from migrations/. It holds a lock while it migrates, so that
// concurrent runs apply each migration once: a session advisory lock on
// PostgreSQL, a file lock beside the database file on SQLite.
func (db *DB) Migrator() (*goose.Provider, error) {
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	switch {
	case db.Config.Backend == Postgres:
		opts = append(opts, goose.WithSessionLocker(pgMigrateLock{}))
	case db.Config.Path != "" && db.Config.Mode != "ro":
		opts = append(opts, goose.WithLocker(&sqliteMigrateLock{path: db.Config.Path + "-usersync.lock"}))
	}
	p, err := goose.NewProvider(db.GooseDialect(), db.SQL, migrations.FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// Seeder returns a goose provider, versioning disabled, that runs the given
// Go seed migrations on every call to Up.
func (db *DB) Seeder(seeds ...*goose.Migration) (*goose.Provider, error) {
	p, err := goose.NewProvider(db.GooseDialect(), db.SQL, nil, // no SQL files: Go migrations only
		goose.WithDisableGlobalRegistry(true),
		goose.WithDisableVersioning(true),
		goose.WithGoMigrations(seeds...),
	)
	if err != nil {
		return nil, fmt.Errorf("load seed: %w", err)
	}
	return p, nil
}

// Migrate applies every pending schema migration and returns the version
// the database is at afterwards. Concurrent runs are safe: goose's Up
// checks for pending migrations before it takes the lock, so on a fresh
// database several runs may try to create goose_db_version at once; goose
// retries that after a second, finds the table, and waits for the lock.
func (db *DB) Migrate(ctx context.Context) ([]*goose.MigrationResult, int64, error) {
	p, err := db.Migrator()
	if err != nil {
		return nil, 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return res, 0, fmt.Errorf("migrate: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return res, 0, fmt.Errorf("read schema version: %w", err)
	}
	return res, v, nil
}
