package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"github.com/barycenter/usersync/internal/userfile"
)

// version is stamped in at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // database unreachable, migration failure, …
	exitInvalid = 2 // usage error, invalid or unreadable users file
	exitChanges = 3 // --detailed-exitcode: the plan has changes
)

// env is what a command may touch of the outside world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookup         func(string) (string, bool) // os.LookupEnv
	logFormat      string                      // set once a command has read its flags
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"up", "apply pending migrations, then sync the users file", cmdUp},
		{"plan", "show what up would change, without writing", cmdPlan},
		{"migrate", "schema only: up, down, status, redo, version", cmdMigrate},
		{"sync", "sync the users file; refuses while migrations are pending", cmdSync},
		{"validate", "check a users file without a database", cmdValidate},
		{"hash", "print the Argon2id PHC string of a password read from standard input", cmdHash},
		{"version", "print the version", cmdVersion},
	}
}

// run is main without os.Exit: it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, &env{stdin: stdin, stdout: stdout, stderr: stderr, lookup: os.LookupEnv})
}

func runEnv(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitInvalid
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(e.stdout)
		return exitOK
	case "-version", "--version":
		args = []string{"version"}
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return report(e, c.run(ctx, e, args[1:]))
		}
	}
	fmt.Fprintf(e.stderr, "usersync: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return exitInvalid
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usersync applies the identity provider's schema and syncs a users file into it.")
	fmt.Fprintln(w, "\nUsage:\n  usersync <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'usersync <command> -h' for a command's flags.")
}

// exitCode maps an error to the exit status.
func exitCode(err error) int {
	var ue *usageError
	var fe *fileError
	var ve *userfile.ValidationError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errChangesPending):
		return exitChanges
	case errors.As(err, &ue), errors.As(err, &fe), errors.As(err, &ve):
		return exitInvalid
	}
	return exitFailure
}

// report prints err once, on stderr, and returns the exit status.
func report(e *env, err error) int {
	code := exitCode(err)
	if err == nil || errors.Is(err, errHelp) || errors.Is(err, errChangesPending) {
		return code
	}
	if errors.Is(err, context.Canceled) {
		// The chain below is only "context canceled" and goose's rollback
		// notice: say what it means instead.
		err = errors.New("interrupted: the unfinished step was rolled back, nothing of it was written")
	}
	format := e.logFormat
	if format == "" {
		format, _ = e.lookup("LOG_FORMAT")
	}
	if format == "json" {
		logger := slog.New(slog.NewJSONHandler(e.stderr, nil))
		msg := redactURLs(err.Error())
		attrs := []any{"error", msg, "exit", code}
		var ve *userfile.ValidationError
		if errors.As(err, &ve) {
			problems := make([]string, len(ve.Problems))
			for i, p := range ve.Problems {
				problems[i] = p.String()
			}
			// "users.json: invalid users file", without the listing.
			head, _, _ := strings.Cut(msg, "invalid users file")
			attrs = []any{"error", head + "invalid users file", "problems", problems, "exit", code}
		}
		logger.Error("usersync failed", attrs...)
		return code
	}
	fmt.Fprintf(e.stderr, "usersync: %s\n", strings.TrimSpace(redactURLs(err.Error())))
	return code
}

// urlPassword matches the password of a URL's user information.
// The password runs to the last "@" before the host, as url.Parse reads it.
var urlPassword = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@"]*:)[^\s/"]*@`)

// redactURLs replaces the password of any URL in msg with "xxxxx": a last
// guard for a database URL given where something else was expected (a
// stray argument, a flag's value), whose message would quote it.
func redactURLs(msg string) string {
	return urlPassword.ReplaceAllString(msg, "${1}xxxxx@")
}
