package database

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Backend names a database engine.
type Backend string

// The supported backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// DefaultURL is the embedded default: a SQLite file in the working
// directory, created when missing, so that `usersync up` needs no server.
const DefaultURL = "sqlite://barycenter.db?mode=rwc"

// ErrBadURL is wrapped by every error ParseURL returns.
var ErrBadURL = errors.New("invalid database URL")

// Config is a parsed database URL.
type Config struct {
	Backend Backend
	// DSN is what the driver opens: a file: URI for SQLite, the URL for
	// PostgreSQL. It may hold a password: never print it.
	DSN string
	// Path is the SQLite file ("" for an in-memory database).
	Path string
	// Mode is the SQLite open mode: ro, rw, rwc or memory.
	Mode string
	// Host and Port locate a PostgreSQL server, for messages.
	Host string
	Port uint16
	// Redacted is the URL with any password replaced by "xxxxx", safe to log.
	Redacted string
}

// Memory reports whether the database lives only in this process.
func (c *Config) Memory() bool { return c.Backend == SQLite && c.Mode == "memory" }

// ParseURL parses the URL forms the identity provider accepts:
// postgres:// and postgresql:// URLs, sqlite://relative/path?mode=rwc,
// sqlite:///absolute/path and sqlite::memory:. SQLite URLs honour
// mode=ro|rw|rwc; without mode the file is created (rwc). Errors never
// contain the password.
func ParseURL(raw string) (*Config, error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return parsePostgres(raw)
	case strings.HasPrefix(raw, "sqlite:"):
		return parseSQLite(raw)
	case raw == "":
		return nil, fmt.Errorf("%w: empty", ErrBadURL)
	}
	return nil, fmt.Errorf("%w: want postgres://, postgresql:// or sqlite: (got scheme %q)", ErrBadURL, scheme(raw))
}

func scheme(raw string) string {
	if i := strings.Index(raw, ":"); i > 0 && i < 20 {
		return raw[:i]
	}
	return ""
}

func parsePostgres(raw string) (*Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL, password included: say only what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	pc, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadURL, redactErr(err.Error(), u))
	}
	return &Config{Backend: Postgres, DSN: raw, Host: pc.Host, Port: pc.Port, Redacted: u.Redacted()}, nil
}

// redactErr removes the password of u from a driver's message.
func redactErr(msg string, u *url.URL) string {
	if u.User == nil {
		return msg
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
		msg = strings.ReplaceAll(msg, url.QueryEscape(pw), "xxxxx")
		msg = strings.ReplaceAll(msg, url.PathEscape(pw), "xxxxx")
	}
	return msg
}

func parseSQLite(raw string) (*Config, error) {
	rest := strings.TrimPrefix(raw, "sqlite:")
	rest = strings.TrimPrefix(rest, "//")
	path, query, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("%w: query: %v", ErrBadURL, err)
	}
	c := &Config{Backend: SQLite, Redacted: raw, Mode: "rwc"}
	for k, v := range q {
		switch k {
		case "mode":
			switch v[len(v)-1] {
			case "ro", "rw", "rwc", "memory":
				c.Mode = v[len(v)-1]
			default:
				return nil, fmt.Errorf("%w: mode must be ro, rw or rwc", ErrBadURL)
			}
		default:
			return nil, fmt.Errorf("%w: unsupported SQLite parameter %q (only mode is)", ErrBadURL, k)
		}
	}
	if path, err = url.PathUnescape(path); err != nil {
		return nil, fmt.Errorf("%w: path: %v", ErrBadURL, err)
	}
	if path == ":memory:" || c.Mode == "memory" {
		c.Mode, c.Path = "memory", ""
		c.DSN = "file:usersync?mode=memory&" + sqlitePragmas
		return c, nil
	}
	if path == "" {
		return nil, fmt.Errorf("%w: SQLite URL has no file path", ErrBadURL)
	}
	c.Path = filepath.Clean(path)
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: c.Path}).EscapedPath()}
	c.DSN = u.String() + "?mode=" + c.Mode + "&" + sqlitePragmas
	return c, nil
}

// sqlitePragmas make concurrent writers wait for each other instead of
// failing with "database is locked": a busy timeout, and transactions that
// take the write lock when they begin (BEGIN IMMEDIATE).
const sqlitePragmas = "_pragma=busy_timeout(30000)&_pragma=foreign_keys(1)&_txlock=immediate"

// HostPort formats the server address for messages ("" for SQLite).
func (c *Config) HostPort() string {
	if c.Backend != Postgres {
		return ""
	}
	return net.JoinHostPort(c.Host, fmt.Sprint(c.Port))
}
