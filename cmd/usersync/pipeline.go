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

// mode says how a command runs the shared pipeline: read the users file,
// open the database, then migrate and sync (up), sync (sync) or only plan.
type mode int

const (
	modeUp mode = iota
	modeSync
	modePlan
)

// syncCommand declares the flags of up, sync and plan (the same set, so
// that a plan computes exactly what up would do) and runs the pipeline.
func syncCommand(ctx context.Context, e *env, args []string, m mode, name, synopsis, examples string) (err error) {
	f := newFlagSet(e, name, synopsis, examples)
	f.database()
	f.usersFile()
	f.hashing()
	f.hashWorkers()
	f.passwords()
	f.pruning()
	f.planFlags(m != modePlan)
	if m != modePlan {
		f.reporting()
	}
	f.progress()
	f.c.planOnly = m == modePlan
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
	out := newOutcome(e, f.c, logger, name)
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
	if m == modePlan || f.c.dryRun {
		if f.c.dryRun {
			logger.Warn("dry run: printing the plan on standard output, writing nothing")
		}
		return planRun(ctx, e, f.c, db, file, opts, out, m == modeSync)
	}
	switch m {
	case modeUp:
		if err := migrate(ctx, db, logger); err != nil {
			return err
		}
	case modeSync:
		// SchemaState reads without creating goose's version table.
		st, err := db.SchemaState(ctx)
		if err != nil {
			return err
		}
		if st.Pending > 0 {
			return errPending
		}
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

// syncUsers runs the seed and logs what it did.
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
