package main

import "context"

const planExamples = `  usersync plan --database-url postgres://app@db:5432/barycenter --users-file users.json
  usersync plan --output json | jq '.users[] | select(.action != "unchanged")'
  usersync plan --detailed-exitcode; [ $? -eq 3 ] && echo "drift: the database differs from users.json"
  usersync plan --prune --prune-action delete
`

// cmdPlan shows what `usersync up` would do to the users, without writing
// anything and without migrating: one line per user, or one JSON document.
// It takes the same flags as up, so that it computes what up would do.
func cmdPlan(ctx context.Context, e *env, args []string) error {
	return syncCommand(ctx, e, args, modePlan, "plan", "plan [flags]", planExamples)
}
