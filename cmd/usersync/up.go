package main

import "context"

const upExamples = `  usersync up
  usersync up --database-url postgres://app@db:5432/barycenter --users-file /secrets/users.json
  DATABASE_URL=sqlite:///var/lib/barycenter/db.sqlite usersync up --log-format json
  usersync up --dry-run      # print what would change, write nothing
`

// cmdUp is the init container's entrypoint: migrate, then sync.
func cmdUp(ctx context.Context, e *env, args []string) error {
	return syncCommand(ctx, e, args, modeUp, "up", "up [flags]", upExamples)
}
