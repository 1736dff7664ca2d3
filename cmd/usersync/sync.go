package main

import (
	"context"
	"fmt"
)

const syncExamples = `  usersync sync --users-file users.json
  usersync migrate up && usersync sync
`

// cmdSync syncs without migrating, and refuses while migrations are pending.
func cmdSync(ctx context.Context, e *env, args []string) error {
	f := newFlagSet(e, "sync", "sync [flags]", syncExamples)
	f.database()
	f.usersFile()
	f.hashing()
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noArgs(f, pos); err != nil {
		return err
	}
	logger := f.c.logger(e.stderr)
	opts, err := f.c.syncOptions(logger)
	if err != nil {
		return err
	}
	file, err := readUsers(f.c, e)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, f.c, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := db.Migrator()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if pending {
		return fmt.Errorf("migrations are pending: run 'usersync migrate up' (or 'usersync up') first")
	}
	return syncUsers(ctx, db, file, opts, logger)
}
