package userfile

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/barycenter/usersync/internal/password"
)

// PasswordPolicy says when a sync writes a user's password.
type PasswordPolicy string

// The password policies.
const (
	// PolicyAlways makes the stored password match the file on every run:
	// the seed's behaviour, and the default.
	PolicyAlways PasswordPolicy = "always"
	// PolicyInitial sets the password when the user is created and never
	// again, so that a user who changed it keeps it.
	PolicyInitial PasswordPolicy = "initial"
)

// ParsePolicy returns the policy named s.
func ParsePolicy(s string) (PasswordPolicy, error) {
	switch p := PasswordPolicy(s); p {
	case PolicyAlways, PolicyInitial:
		return p, nil
	}
	return "", fmt.Errorf("password policy must be %q or %q", PolicyAlways, PolicyInitial)
}

// passwordSources are the fields that give a user's password; a user has
// exactly one.
var passwordSources = []string{fPassword, fPasswordHash, fPasswordEnv, fPasswordFile}

// Bounds of the names password_env and password_file hold.
const (
	maxEnvName  = 256
	maxFileName = 4096
)

// password decodes the password source and policy of a user object.
// password_env and password_file are only named here; Resolve reads them.
func (p *parser) password(fields map[string]json.RawMessage, u *User, bad func(field, format string, a ...any)) {
	var given []string
	for _, f := range passwordSources {
		if _, ok := fields[f]; ok {
			given = append(given, f)
		}
	}
	switch len(given) {
	case 0:
		bad(fPassword, "is required (or one of password_hash, password_env, password_file)")
	case 1:
	default:
		bad("", "give only one of password, password_hash, password_env and password_file (found %s)", strings.Join(given, ", "))
	}

	if v, ok := fields[fPassword]; ok {
		if s, ok := str(v); !ok {
			bad(fPassword, "must be a string")
		} else if s == "" {
			bad(fPassword, "must not be empty")
		} else if len(s) > p.lim.MaxPasswordLen {
			bad(fPassword, "is longer than %d bytes", p.lim.MaxPasswordLen)
		} else if strings.ContainsRune(s, 0) {
			bad(fPassword, "contains a NUL character")
		} else {
			u.Password = s
		}
	}

	if v, ok := fields[fPasswordHash]; ok {
		if s, ok := str(v); !ok {
			bad(fPasswordHash, "must be a string (an Argon2 PHC string)")
		} else if s == "" {
			bad(fPasswordHash, "must not be empty")
		} else if _, err := password.ParseImport(s); err != nil {
			bad(fPasswordHash, "%v", err)
		} else {
			u.PasswordHash = s
		}
	}

	for _, f := range []struct {
		name string
		max  int
		dst  *string
	}{{fPasswordEnv, maxEnvName, &u.PasswordEnv}, {fPasswordFile, maxFileName, &u.PasswordFile}} {
		v, ok := fields[f.name]
		if !ok {
			continue
		}
		s, ok := str(v)
		switch {
		case !ok:
			bad(f.name, "must be a string")
		case s == "":
			bad(f.name, "must not be empty")
		case len(s) > f.max:
			bad(f.name, "is longer than %d bytes", f.max)
		case strings.ContainsRune(s, 0):
			bad(f.name, "contains a NUL character")
		case f.name == fPasswordEnv && strings.ContainsRune(s, '='):
			bad(f.name, "is not a variable name (contains =)")
		default:
			*f.dst = s
		}
	}

	if v, ok := fields[fPasswordPolicy]; ok {
		s, _ := str(v)
		if pol, err := ParsePolicy(s); err != nil {
			bad(fPasswordPolicy, "must be %q or %q", PolicyAlways, PolicyInitial)
		} else {
			u.PasswordPolicy = pol
		}
	}
}
