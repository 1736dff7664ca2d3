package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/barycenter/usersync/internal/database"
	"github.com/barycenter/usersync/internal/reconcile"
	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/seeds"
)

const upExamples = `  usersync up
  usersync up --database-url postgres://app@db:5432/barycenter --users-file /secrets/users.json
  DATABASE_URL=sqlite:///var/lib/barycenter/db.sqlite usersync up --log-format json
`

// cmdUp is the init container's entrypoint: migrate, then sync.
func cmdUp(ctx context.Context, e *env, args []string) (err error) {
	f := newFlagSet(e, "up", "up [flags]", upExamples)
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
	out := newOutcome(e, f.c, logger, "up")
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
		return planRun(ctx, e, f.c, db, file, opts, out, false)
	}
	if err := migrate(ctx, db, logger); err != nil {
		return err
	}
	return syncUsers(ctx, db, file, opts, logger, out)
}

// migrate applies pending migrations and logs each one.
func migrate(ctx context.Context, db *database.DB, logger *slog.Logger) error {
	res, v, err := db.Migrate(ctx)
	for _, r := range res {
		logger.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return err
	}
	logger.Info("schema up to date", "version", v, "backend", db.Config.Backend)
	return nil
}

func syncUsers(ctx context.Context, db *database.DB, file *userfile.File, opts reconcile.Options, logger *slog.Logger, out *outcome) error {
	if st, err := db.SchemaState(ctx); err == nil {
		out.version = st.Applied
	}
	plan, err := seeds.Run(ctx, db, file, opts)
	var refused *reconcile.PruneRefusedError
	if errors.As(err, &refused) {
		return refused // goose's wrapping says nothing useful here
	}
	if err != nil {
		return err
	}
	out.plan = plan
	reconcile.Log(logger, plan)
	return nil
}
