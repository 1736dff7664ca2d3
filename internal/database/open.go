// Package database turns a database URL into a driver, a dialect, one
// *sql.DB and its *bun.DB, and builds the goose providers that run on them.
// It is the only package that imports the database drivers.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pressly/goose/v3"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// DB is an open database: one *sql.DB serves goose and bun.
type DB struct {
	Config *Config
	SQL    *sql.DB
	Bun    *bun.DB
}

// Open opens the database a Config names and checks that it answers. For
// SQLite in mode rwc it creates the file's directory when missing.
func Open(ctx context.Context, cfg *Config) (*DB, error) {
	var (
		sqlDB *sql.DB
		err   error
	)
	switch cfg.Backend {
	case SQLite:
		if cfg.Mode == "rwc" && cfg.Path != "" {
			if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
				return nil, fmt.Errorf("create directory for %s: %w", cfg.Path, err)
			}
		}
		sqlDB, err = sql.Open("sqlite", cfg.DSN)
		if err == nil && cfg.Memory() {
			// Each connection to an in-memory database sees its own empty
			// database: keep exactly one, for the life of the process.
			sqlDB.SetMaxOpenConns(1)
			sqlDB.SetConnMaxLifetime(0)
			sqlDB.SetConnMaxIdleTime(0)
		}
	case Postgres:
		sqlDB, err = sql.Open("pgx", cfg.DSN)
	default:
		return nil, fmt.Errorf("unknown backend %q", cfg.Backend)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Redacted, err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, &ConnectError{Config: cfg, Err: err}
	}
	db := &DB{Config: cfg, SQL: sqlDB}
	if cfg.Backend == Postgres {
		db.Bun = bun.NewDB(sqlDB, pgdialect.New())
	} else {
		db.Bun = bun.NewDB(sqlDB, sqlitedialect.New())
	}
	return db, nil
}

// Close closes the database. goose's Provider.Close would close the same
// *sql.DB: close here, once, and never through a provider.
func (db *DB) Close() error { return db.SQL.Close() }

// GooseDialect is the goose dialect of the backend. goose calls SQLite
// "sqlite3" whatever the driver's registered name.
func (db *DB) GooseDialect() goose.Dialect {
	if db.Config.Backend == Postgres {
		return goose.DialectPostgres
	}
	return goose.DialectSQLite3
}

// ConnectError is a failure to reach the database. Its message names the
// server (never the password) and the driver's error.
type ConnectError struct {
	Config *Config
	Err    error
}

func (e *ConnectError) Error() string {
	where := e.Config.Redacted
	if e.Config.Backend == Postgres {
		where = "PostgreSQL at " + e.Config.HostPort()
	}
	return fmt.Sprintf("connect to %s: %v", where, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }
