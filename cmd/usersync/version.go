package main

import (
	"context"
	"fmt"
)

func cmdVersion(_ context.Context, e *env, args []string) error {
	f := newFlagSet(e, "version", "version", "")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noArgs(f, pos); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "usersync %s\n", version)
	return nil
}
