package database

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3/lock"
)

// pgMigrateLock is goose's session lock for PostgreSQL migrations, taken
// with the blocking pg_advisory_lock instead of goose's own locker, which
// polls pg_try_advisory_lock every 5 seconds (at best every second): a
// replica waiting behind another gets the lock the moment it is released.
// It uses goose's lock key, so it also excludes the goose CLI. The wait
// ends with ctx; PostgreSQL releases the lock when the session ends, so a
// killed run never leaves it held.
type pgMigrateLock struct{}

var _ lock.SessionLocker = pgMigrateLock{}

func (pgMigrateLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lock.DefaultLockID); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	return nil
}

func (pgMigrateLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", lock.DefaultLockID).Scan(&ok); err != nil {
		return fmt.Errorf("release migration lock: %w", err)
	}
	if !ok {
		return fmt.Errorf("release migration lock: it was not held")
	}
	return nil
}

// sqliteMigrateLock serializes migrations of one SQLite file across
// processes with an exclusive flock(2) on a lock file beside it
// (<path>-usersync.lock). SQLite's own locks cannot do it: goose reads
// the applied versions outside the transaction that applies the next one,
// so two runs would both apply it and record it twice. The kernel drops
// the lock when the process dies. The lock file is never removed:
// removing it would let two runs lock two different files.
type sqliteMigrateLock struct {
	path string
	f    fileLock
}

var _ lock.Locker = (*sqliteMigrateLock)(nil)

func (l *sqliteMigrateLock) Lock(ctx context.Context, _ *sql.DB) error {
	f, err := lockFile(ctx, l.path)
	if err != nil {
		return fmt.Errorf("take migration lock %s: %w", l.path, err)
	}
	l.f = f
	return nil
}

func (l *sqliteMigrateLock) Unlock(context.Context, *sql.DB) error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("release migration lock %s: %w", l.path, err)
	}
	return nil
}
