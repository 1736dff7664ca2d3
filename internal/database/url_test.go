package database

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in       string
		backend  Backend
		path     string
		mode     string
		dsn      string
		hostPort string
	}{
		{DefaultURL, SQLite, "barycenter.db", "rwc", "file:barycenter.db?mode=rwc&" + sqlitePragmas, ""},
		{"sqlite://data/app.db?mode=rwc", SQLite, "data/app.db", "rwc", "file:data/app.db?mode=rwc&" + sqlitePragmas, ""},
		{"sqlite:///var/lib/app.db", SQLite, "/var/lib/app.db", "rwc", "file:/var/lib/app.db?mode=rwc&" + sqlitePragmas, ""},
		{"sqlite:///var/lib/app.db?mode=ro", SQLite, "/var/lib/app.db", "ro", "file:/var/lib/app.db?mode=ro&" + sqlitePragmas, ""},
		{"sqlite://app.db?mode=rw", SQLite, "app.db", "rw", "file:app.db?mode=rw&" + sqlitePragmas, ""},
		{"sqlite:app.db", SQLite, "app.db", "rwc", "file:app.db?mode=rwc&" + sqlitePragmas, ""},
		{"sqlite:///tmp/a%20b.db", SQLite, "/tmp/a b.db", "rwc", "file:/tmp/a%20b.db?mode=rwc&" + sqlitePragmas, ""},
		{"sqlite::memory:", SQLite, "", "memory", "file:usersync?mode=memory&" + sqlitePragmas, ""},
		{"postgres://u:pw@db.example:6543/idp?sslmode=disable", Postgres, "", "", "postgres://u:pw@db.example:6543/idp?sslmode=disable", "db.example:6543"},
		{"postgresql://u@localhost/idp", Postgres, "", "", "postgresql://u@localhost/idp", "localhost:5432"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			c, err := ParseURL(tc.in)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if c.Backend != tc.backend || c.Path != tc.path || c.Mode != tc.mode || c.DSN != tc.dsn || c.HostPort() != tc.hostPort {
				t.Fatalf("got %s %q %q %q %q, want %s %q %q %q %q", c.Backend, c.Path, c.Mode, c.DSN, c.HostPort(),
					tc.backend, tc.path, tc.mode, tc.dsn, tc.hostPort)
			}
			if strings.Contains(c.Redacted, ":pw@") {
				t.Fatalf("Redacted keeps the password: %s", c.Redacted)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"mysql://u:hunter2@db/x", `scheme "mysql"`},
		{"sqlite://app.db?mode=rwx", "mode must be ro, rw or rwc"},
		{"sqlite://app.db?cache=shared", `unsupported SQLite parameter "cache"`},
		{"sqlite://", "no file path"},
		{"postgres://u:hunter2@db:notaport/x", "invalid"},
		{"postgres://u:hunter2@db/x?connect_timeout=abc", "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseURL(tc.in)
			if !errors.Is(err, ErrBadURL) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseURL = %v, want ErrBadURL containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}
