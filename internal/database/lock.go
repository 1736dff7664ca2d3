package database

import (
	"context"
	"database/sql"
	"fmt"
)

// syncLockID is the PostgreSQL advisory lock key of the users sync
// ("usersync" in ASCII): concurrent runs serialize on it.
const syncLockID int64 = 0x7573657273796e63

// LockSync takes the sync lock inside tx and holds it until tx ends, so
// that concurrent syncs of one database run one after another and the
// later ones find the work done. On PostgreSQL it is a transaction-scoped
// advisory lock; on SQLite the transaction began IMMEDIATE and already
// holds the write lock.
func (db *DB) LockSync(ctx context.Context, tx *sql.Tx) error {
	if db.Config.Backend != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", syncLockID); err != nil {
		return fmt.Errorf("take sync lock: %w", err)
	}
	return nil
}
