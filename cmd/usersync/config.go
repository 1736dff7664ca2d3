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
	"time"

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
	operatorConfig

	passwordPolicy  string
	minPasswordLen  int
	allowWeakHashes bool
	hashFloor       string
	wait            time.Duration
	maxFileSize     int64
}

// flagSet is a command's flags, each bound to environment variables.
type flagSet struct {
	*flag.FlagSet
	e     *env
	c     *config
	envs  map[string][]string // flag name -> variables, by precedence
	usage func()              // prints the help on standard output
}

func newFlagSet(e *env, name, synopsis, examples string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &flagSet{FlagSet: fs, e: e, c: &config{}, envs: map[string][]string{}}
	// The flag package would print the usage on every parse error, to
	// whatever writer: print it only on -h, once, on standard output.
	fs.Usage = func() {}
	f.usage = func() {
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
	f.DurationVar(&f.c.wait, "wait", database.DefaultWait,
		"how long to keep retrying a PostgreSQL server that refuses connections or is starting up; 0 tries once")
	f.bind("wait", "DATABASE_WAIT")
}

func (f *flagSet) usersFile() {
	f.StringVar(&f.c.usersFile, "users-file", "users.json", "users file to sync; - reads standard input")
	f.bind("users-file", "USERS_FILE")
	f.Int64Var(&f.c.maxFileSize, "max-file-size", userfile.DefaultLimits.MaxFileSize,
		"largest users file accepted, in bytes")
	f.bind("max-file-size", "MAX_USERS_FILE_SIZE")
}

func (f *flagSet) hashing() {
	d := password.DefaultParams
	f.UintVar(&f.c.memory, "argon2-memory", uint(d.Memory), "Argon2id memory cost in KiB")
	f.bind("argon2-memory", "ARGON2_MEMORY")
	f.UintVar(&f.c.iterations, "argon2-iterations", uint(d.Iterations), "Argon2id iterations")
	f.bind("argon2-iterations", "ARGON2_ITERATIONS")
	f.UintVar(&f.c.parallelism, "argon2-parallelism", uint(d.Parallelism), "Argon2id lanes")
	f.bind("argon2-parallelism", "ARGON2_PARALLELISM")
}

// hashWorkers adds --hash-workers, for the commands that hash many
// passwords.
func (f *flagSet) hashWorkers() {
	f.IntVar(&f.c.workers, "hash-workers", 0, "concurrent Argon2 computations; 0 is one per CPU (GOMAXPROCS); always capped so that workers × --argon2-memory fits the memory budget (half of GOMEMLIMIT; 80 MiB without it)")
	f.bind("hash-workers", "HASH_WORKERS")
}

// passwords binds the flags about password sources: the default policy
// and the floor for pre-hashed passwords, then the minimum length.
func (f *flagSet) passwords() {
	f.StringVar(&f.c.passwordPolicy, "password-policy", string(userfile.PolicyAlways),
		"password policy of users without password_policy: always (match the file on every run) or initial (set at creation only)")
	f.bind("password-policy", "PASSWORD_POLICY")
	f.BoolVar(&f.c.allowWeakHashes, "allow-weak-hashes", false, "accept a password_hash weaker than --min-hash-params")
	f.bind("allow-weak-hashes", "ALLOW_WEAK_HASHES")
	f.StringVar(&f.c.hashFloor, "min-hash-params", password.DefaultFloor.String(),
		"the weakest Argon2 cost accepted for a password_hash: m=KiB,t=iterations,p=lanes")
	f.bind("min-hash-params", "MIN_HASH_PARAMS")
	f.minPasswordLength()
}

// minPasswordLength binds --min-password-length.
func (f *flagSet) minPasswordLength() {
	f.IntVar(&f.c.minPasswordLen, "min-password-length", 0, "reject plaintext passwords of fewer characters; 0 is no minimum")
	f.bind("min-password-length", "MIN_PASSWORD_LENGTH")
}

// parse reads flags, which may stand before, between or after positional
// arguments, then fills every flag not given from its environment
// variables. It returns the positional arguments.
func (f *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.usage()
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

// params returns the Argon2 parameters of the hashing flags.
func (c *config) params() (password.Params, error) {
	p := password.DefaultParams
	if c.memory > 1<<32-1 || c.iterations > 1<<32-1 || c.parallelism > 255 {
		return p, usagef("argon2 parameters out of range")
	}
	p.Memory, p.Iterations, p.Parallelism = uint32(c.memory), uint32(c.iterations), uint8(c.parallelism)
	if err := p.Validate(); err != nil {
		return p, usagef("%v", err)
	}
	return p, nil
}

func (c *config) syncOptions(logger *slog.Logger) (reconcile.Options, error) {
	p, err := c.params()
	if err != nil {
		return reconcile.Options{}, err
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
	opts, err := c.resolveOptions()
	if err != nil {
		return nil, err
	}
	if c.maxFileSize <= 0 {
		return nil, usagef("--max-file-size must be positive")
	}
	file, err := userfile.Parse(r, userfile.Limits{MaxFileSize: c.maxFileSize})
	var ve *userfile.ValidationError
	switch {
	case errors.As(err, &ve):
		return nil, fmt.Errorf("%s: %w", name, err)
	case err != nil:
		return nil, &fileError{fmt.Errorf("%s: %w", name, err)}
	}
	if err := userfile.Resolve(file, e.lookup, readSecret, opts); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return file, nil
}

// resolveOptions returns the password flags as userfile.ResolveOptions.
func (c *config) resolveOptions() (userfile.ResolveOptions, error) {
	var opts userfile.ResolveOptions
	if c.passwordPolicy != "" {
		p, err := userfile.ParsePolicy(c.passwordPolicy)
		if err != nil {
			return opts, usagef("--password-policy: %v", err)
		}
		opts.DefaultPolicy = p
	}
	if c.hashFloor != "" {
		fl, err := password.ParseFloor(c.hashFloor)
		if err != nil {
			return opts, usagef("--min-hash-params: %v", err)
		}
		opts.HashFloor = fl
	}
	if c.minPasswordLen < 0 {
		return opts, usagef("--min-password-length must not be negative")
	}
	opts.MinPasswordLen, opts.AllowWeakHashes = c.minPasswordLen, c.allowWeakHashes
	return opts, nil
}

// maxSecretFile bounds what is read of a password file: enough to tell
// that one holds more than a password may (userfile checks the limit),
// without reading a device or a huge file whole.
const maxSecretFile = 64 << 10

// readSecret reads at most maxSecretFile bytes of a password file.
func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSecretFile))
}

// openDB parses the database URL and connects, waiting up to --wait for a
// PostgreSQL server that is not there yet.
func openDB(ctx context.Context, c *config, logger *slog.Logger) (*database.DB, error) {
	cfg, err := database.ParseURL(c.databaseURL)
	if err != nil {
		return nil, usagef("--database-url: %v", err)
	}
	if c.planOnly || c.dryRun {
		cfg = cfg.ForPlan()
	}
	if c.wait < 0 {
		return nil, usagef("--wait must not be negative")
	}
	return database.OpenWait(ctx, cfg, c.wait, logger)
}
