package main

import (
	"errors"
	"fmt"
)

// The errors a command returns, and what report() makes of them: see
// exitCode.

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// fileError is a users file that is missing or unreadable: exit status 2.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// errHelp is returned after a command printed its help on request.
var errHelp = errors.New("help requested")

// errChangesPending is returned by a plan with changes under
// --detailed-exitcode: exit status 3, nothing printed.
var errChangesPending = errors.New("changes pending")

// errPending is sync's refusal while migrations are pending.
var errPending = errors.New("migrations are pending: run 'usersync migrate up' (or 'usersync up') first")
