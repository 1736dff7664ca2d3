package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

const migrateExamples = `  usersync migrate status
  usersync migrate up --database-url postgres://app@db:5432/barycenter
  usersync migrate down      # roll back the latest migration
  usersync migrate redo      # roll back the latest migration and apply it again
  usersync migrate version   # print the schema version
`

// cmdMigrate manages the schema only.
func cmdMigrate(ctx context.Context, e *env, args []string) error {
	f := newFlagSet(e, "migrate", "migrate up|down|status|redo|version [flags]", migrateExamples)
	f.database()
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("migrate: want one of up, down, status, redo, version (see 'usersync migrate -h')")
	}
	action := pos[0]
	switch action {
	case "up", "down", "status", "redo", "version":
	default:
		return usagef("migrate: unknown action %q: want up, down, status, redo or version", action)
	}
	logger := f.c.logger(e.stderr)
	db, err := openDB(ctx, f.c, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if action == "up" {
		return migrate(ctx, db, logger)
	}
	p, err := db.Migrator()
	if err != nil {
		return err
	}
	switch action {
	case "down":
		r, err := p.Down(ctx)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		logger.Info("rolled back migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	case "redo":
		down, err := p.Down(ctx)
		if err != nil {
			return fmt.Errorf("migrate redo: %w", err)
		}
		up, err := p.UpByOne(ctx)
		if err != nil {
			return fmt.Errorf("migrate redo: %w", err)
		}
		logger.Info("redid migration", "version", up.Source.Version, "file", up.Source.Path, "duration", down.Duration+up.Duration)
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tSTATE\tAPPLIED AT\tFILE")
		for _, s := range st {
			at := "-"
			if !s.AppliedAt.IsZero() {
				at = s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Source.Version, s.State, at, s.Source.Path)
		}
		return w.Flush()
	case "version":
		v, err := p.GetDBVersion(ctx)
		if err != nil {
			return fmt.Errorf("migrate version: %w", err)
		}
		fmt.Fprintln(e.stdout, v)
	}
	return nil
}
