package main

import (
	"context"
)

const planExamples = `  usersync plan --database-url postgres://app@db:5432/barycenter --users-file users.json
  usersync plan --output json | jq '.users[] | select(.action != "unchanged")'
  usersync plan --detailed-exitcode || [ $? -eq 3 ] && echo "drift: the database differs from users.json"
  usersync plan --prune --prune-action delete
`

// cmdPlan shows what `usersync up` would do to the users, without writing
// anything and without migrating: one line per user, or one JSON document.
func cmdPlan(ctx context.Context, e *env, args []string) (err error) {
	f := newFlagSet(e, "plan", "plan [flags]", planExamples)
	f.database()
	f.usersFile()
	f.hashing()
	f.pruning()
	f.planFlags(false)
	f.progress()
	f.c.planOnly = true
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
	out := newOutcome(e, f.c, logger, "plan")
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
	return planRun(ctx, e, f.c, db, file, opts, out, false)
}
