package database

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/barycenter/usersync/migrations"
)

// Migrator returns the goose provider for the versioned schema migrations
// embedded from migrations/. On PostgreSQL it holds a session advisory lock
// while it migrates, so that concurrent runs apply each migration once.
func (db *DB) Migrator() (*goose.Provider, error) {
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.Config.Backend == Postgres {
		l, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("create migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(l))
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
// the database is at afterwards.
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
