package main

import (
	"context"
	"fmt"
)

const validateExamples = `  usersync validate --users-file users.json
  kubectl get secret barycenter-users -o jsonpath='{.data.users\.json}' | base64 -d | usersync validate --users-file -
`

// cmdValidate checks a users file without a database and lists every problem.
func cmdValidate(_ context.Context, e *env, args []string) error {
	f := newFlagSet(e, "validate", "validate [flags]", validateExamples)
	f.usersFile()
	f.passwords()
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noArgs(f, pos); err != nil {
		return err
	}
	file, err := readUsers(f.c, e)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: valid, %d users\n", f.c.usersFile, len(file.Users))
	return nil
}
