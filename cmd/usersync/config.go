package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/barycenter/usersync/internal/database"
	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/internal/reconcile"
	"github.com/barycenter/usersync/internal/userfile"
)

// config is what the flags and environment say. Precedence, written down
// once here: a flag, then its environment variables in the order listed,
// then the default.
type config struct {
	databaseURL string
	usersFile   string
	logFormat   string
	memory      uint
	iterations  uint
	parallelism uint
	workers     int
}

// flagSet is a command's flags, each bound to environment variables.
type flagSet struct {
	*flag.FlagSet
	e    *env
	c    *config
	envs map[string][]string // flag name -> variables, by precedence
}

func newFlagSet(e *env, name, synopsis, examples string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &flagSet{FlagSet: fs, e: e, c: &config{}, envs: map[string][]string{}}
	fs.Usage = func() {
		w := e.stdout
		fmt.Fprintf(w, "Usage: usersync %s\n\n", synopsis)
		fmt.Fprintln(w, "Flags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		if examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s", examples)
		}
	}
	f.logging()
	return f
}

func (f *flagSet) bind(name string, envs ...string) {
	f.envs[name] = envs
	fl := f.Lookup(name)
	fl.Usage += " (env " + strings.Join(envs, ", then ") + ")"
}

func (f *flagSet) logging() {
	f.StringVar(&f.c.logFormat, "log-format", "text", "log format on standard error: text or json")
	f.bind("log-format", "LOG_FORMAT")
}

func (f *flagSet) database() {
	f.StringVar(&f.c.databaseURL, "database-url", database.DefaultURL,
		"database URL: postgres://…, postgresql://…, sqlite://path?mode=rwc, sqlite:///abs/path or sqlite::memory:")
	f.bind("database-url", "DATABASE_URL", "BARYCENTER__DATABASE__URL")
}

func (f *flagSet) usersFile() {
	f.StringVar(&f.c.usersFile, "users-file", "users.json", "users file to sync; - reads standard input")
	f.bind("users-file", "USERS_FILE")
}

func (f *flagSet) hashing() {
	d := password.DefaultParams
	f.UintVar(&f.c.memory, "argon2-memory", uint(d.Memory), "Argon2id memory cost in KiB")
	f.bind("argon2-memory", "ARGON2_MEMORY")
	f.UintVar(&f.c.iterations, "argon2-iterations", uint(d.Iterations), "Argon2id iterations")
	f.bind("argon2-iterations", "ARGON2_ITERATIONS")
	f.UintVar(&f.c.parallelism, "argon2-parallelism", uint(d.Parallelism), "Argon2id lanes")
	f.bind("argon2-parallelism", "ARGON2_PARALLELISM")
	f.IntVar(&f.c.workers, "hash-workers", 0, "concurrent Argon2 computations; 0 is one per CPU (GOMAXPROCS); always capped so that workers × --argon2-memory fits the memory budget (half of GOMEMLIMIT; 96 MiB without it)")
	f.bind("hash-workers", "HASH_WORKERS")
}

// parse reads flags, which may stand before, between or after positional
// arguments, then fills every flag not given from its environment
// variables. It returns the positional arguments.
func (f *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.Usage()
				return nil, errHelp
			}
			return nil, usagef("%s: %v (see 'usersync %s -h')", f.Name(), err, f.Name())
		}
		if f.NArg() == 0 {
			break
		}
		pos = append(pos, f.Arg(0))
		args = f.Args()[1:]
	}
	given := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	for name, envs := range f.envs {
		if given[name] {
			continue
		}
		for _, v := range envs {
			if val, ok := f.e.lookup(v); ok && val != "" {
				if err := f.Set(name, val); err != nil {
					return nil, usagef("environment variable %s: invalid value for --%s", v, name)
				}
				break
			}
		}
	}
	if f.c.logFormat != "text" && f.c.logFormat != "json" {
		return nil, usagef("--log-format must be text or json")
	}
	f.e.logFormat = f.c.logFormat
	return pos, nil
}

// noArgs fails when a command that takes none was given some.
func noArgs(f *flagSet, pos []string) error {
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q (see 'usersync %s -h')", f.Name(), pos[0], f.Name())
	}
	return nil
}

func (c *config) logger(w io.Writer) *slog.Logger {
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func (c *config) syncOptions(logger *slog.Logger) (reconcile.Options, error) {
	p := password.DefaultParams
	if c.memory > 1<<32-1 || c.iterations > 1<<32-1 || c.parallelism > 255 {
		return reconcile.Options{}, usagef("argon2 parameters out of range")
	}
	p.Memory, p.Iterations, p.Parallelism = uint32(c.memory), uint32(c.iterations), uint8(c.parallelism)
	if err := p.Validate(); err != nil {
		return reconcile.Options{}, usagef("%v", err)
	}
	if c.workers < 0 {
		return reconcile.Options{}, usagef("--hash-workers must not be negative")
	}
	return reconcile.Options{Params: p, Workers: c.workers, Logger: logger}, nil
}

// readUsers reads and validates the users file. A file that is missing or
// unreadable, or invalid, yields an error with exit status 2.
func readUsers(c *config, e *env) (*userfile.File, error) {
	var r io.Reader = e.stdin
	name := c.usersFile
	if name == "-" {
		name = "standard input"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, &fileError{fmt.Errorf("read users file: %w", err)}
		}
		defer f.Close()
		r = f
	}
	file, err := userfile.Parse(r, userfile.Limits{})
	var ve *userfile.ValidationError
	switch {
	case errors.As(err, &ve):
		return nil, fmt.Errorf("%s: %w", name, err)
	case err != nil:
		return nil, &fileError{fmt.Errorf("%s: %w", name, err)}
	}
	return file, nil
}

// openDB parses the database URL and connects.
func openDB(ctx context.Context, c *config) (*database.DB, error) {
	cfg, err := database.ParseURL(c.databaseURL)
	if err != nil {
		return nil, usagef("--database-url: %v", err)
	}
	return database.Open(ctx, cfg)
}
