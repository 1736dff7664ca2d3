// Package seeds holds the Go seed migration that goose runs, unversioned,
// on every `usersync up`: it syncs the users file into the users and
// properties tables in one transaction. Because it is idempotent, running
// it again with the same file changes nothing.
package seeds

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/barycenter/usersync/internal/database"
	"github.com/barycenter/usersync/internal/reconcile"
	"github.com/barycenter/usersync/internal/userfile"
)

// Users returns the seed migration that syncs f. It runs in the
// transaction goose opens (RunTx: a RunDB seed would wait for a second
// pooled connection while goose holds one), takes the sync lock first, and
// stores the applied plan in *out.
func Users(db *database.DB, f *userfile.File, opts reconcile.Options, out **reconcile.Plan) *goose.Migration {
	return goose.NewGoMigration(1, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if err := db.LockSync(ctx, tx); err != nil {
			return err
		}
		plan, err := reconcile.Sync(ctx, db.Bun, tx, f, opts)
		if err != nil {
			return err
		}
		*out = plan
		return nil
	}}, nil)
}

// Run runs the users seed through an unversioned goose provider and
// returns the plan it applied. On error nothing was written.
func Run(ctx context.Context, db *database.DB, f *userfile.File, opts reconcile.Options) (*reconcile.Plan, error) {
	// The Argon2 work first, outside the lock and any transaction: it only
	// reads. The seed below then finds every verification and hash it needs
	// in the memo, and holds the lock (on SQLite, the database's write lock)
	// for the reads, the writes and the fingerprint of the buckets that
	// changed, not for the hashing of every password.
	// A file without plaintext passwords needs no Argon2 at all.
	if opts.Memo == nil {
		opts.Memo = reconcile.NewMemo()
	}
	if hasPlaintext(f) {
		if err := reconcile.Prepare(ctx, db.Bun, db.SQL, f, opts); err != nil {
			return nil, fmt.Errorf("sync users (nothing was written): %w", err)
		}
	}
	var plan *reconcile.Plan
	p, err := db.Seeder(Users(db, f, opts, &plan))
	if err != nil {
		return nil, err
	}
	if _, err := p.Up(ctx); err != nil {
		// goose reports the seed as a "partial migration"; say what failed.
		var pe *goose.PartialError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("sync users (nothing was written): %w", err)
	}
	if plan == nil {
		return nil, fmt.Errorf("sync users: the seed did not run")
	}
	return plan, nil
}

// hasPlaintext reports whether any user of f has a plaintext password (given,
// or read from a variable or a file): only those cost Argon2 work.
func hasPlaintext(f *userfile.File) bool {
	for i := range f.Users {
		if f.Users[i].Password != "" {
			return true
		}
	}
	return false
}
