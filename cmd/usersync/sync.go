package main

import (
	"context"
	"fmt"
)

const syncExamples = `  usersync sync --users-file users.json
  usersync migrate up && usersync sync
`

// cmdSync syncs without migrating, and refuses while migrations are pending.
func cmdSync(ctx context.Context, e *env, args []string) (err error) {
	f := newFlagSet(e, "sync", "sync [flags]", syncExamples)
	f.database()
	f.usersFile()
	f.hashing()
	f.pruning()
	f.planFlags(true)
	f.reporting()
	f.progress()
	f.passwords()
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noArgs(f, pos); err != nil {
		return err
	}
	if err := f.c.checkOperator(); err != nil {
		return err
	}
	logger := f.c.logger(e.stderr)
	out := newOutcome(e, f.c, logger, "sync")
	defer func() { err = out.finish(err) }()
	opts, err := f.c.syncOptions(logger)
	if err != nil {
		return err
	}
	file, err := readUsers(f.c, e)
	if err != nil {
		return err
	}
	out.closers = append(out.closers, f.c.operatorOptions(&opts, file, e, logger))
	db, err := openDB(ctx, f.c, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	out.backend = string(db.Config.Backend)
	if f.c.dryRun {
		return planRun(ctx, e, f.c, db, file, opts, out, true)
	}
	p, err := db.Migrator()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if pending {
		return errPending
	}
	return syncUsers(ctx, db, file, opts, logger, out)
}
