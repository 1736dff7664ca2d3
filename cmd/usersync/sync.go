package main

import "context"

const syncExamples = `  usersync sync --users-file users.json
  usersync migrate up && usersync sync
`

// cmdSync syncs without migrating, and refuses while migrations are
// pending (without writing anything to find out).
func cmdSync(ctx context.Context, e *env, args []string) error {
	return syncCommand(ctx, e, args, modeSync, "sync", "sync [flags]", syncExamples)
}
