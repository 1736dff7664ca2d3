// Command usersync applies the identity provider's schema with goose and
// syncs a users file into it. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/barycenter/usersync/internal/reconcile"
)

func main() {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		// Keep the garbage of finished Argon2 hashes from growing the heap
		// past what an init container is given; GOMEMLIMIT overrides.
		debug.SetMemoryLimit(reconcile.DefaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
