package userfile

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/barycenter/usersync/internal/password"
)

// ResolveOptions tune Resolve. The zero value applies the defaults.
type ResolveOptions struct {
	// MaxPasswordLen bounds a password read from a variable or a file, in
	// bytes; 0: DefaultLimits.MaxPasswordLen.
	MaxPasswordLen int
	// MinPasswordLen, when positive, rejects plaintext passwords (inline,
	// from a variable or from a file) of fewer characters (Unicode code
	// points). Off by default.
	MinPasswordLen int
	// HashFloor is the weakest cost a password_hash may have; the zero
	// value means password.DefaultFloor.
	HashFloor password.Floor
	// AllowWeakHashes accepts a password_hash below HashFloor.
	AllowWeakHashes bool
	// DefaultPolicy is the password policy of users without
	// password_policy; "": PolicyAlways.
	DefaultPolicy PasswordPolicy
}

// Resolve completes a parsed file with what lies outside it: it reads the
// password of each password_env user with lookupEnv (os.LookupEnv) and of
// each password_file user with readFile (one trailing newline, "\n" or
// "\r\n", is trimmed), checks passwords against opts.MinPasswordLen and
// pre-hashed passwords against the floor, and gives every user without
// password_policy the default policy. Defects come back as one
// *ValidationError, positioned as Parse's are; no message quotes a
// password, though they name the variable or file. f is changed only when
// Resolve succeeds.
func Resolve(f *File, lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error), opts ResolveOptions) error {
	if opts.MaxPasswordLen <= 0 {
		opts.MaxPasswordLen = DefaultLimits.MaxPasswordLen
	}
	if opts.HashFloor == (password.Floor{}) {
		opts.HashFloor = password.DefaultFloor
	}
	policy := PolicyAlways
	if opts.DefaultPolicy != "" {
		p, err := ParsePolicy(string(opts.DefaultPolicy))
		if err != nil {
			return err
		}
		policy = p
	}
	var probs []Problem
	plain := make([]string, len(f.Users))
	for i := range f.Users {
		u := &f.Users[i]
		bad := func(field, format string, a ...any) {
			probs = append(probs, Problem{Path: fmt.Sprintf("users[%d].%s", u.Index, field), Username: u.Username,
				Line: u.Line, Message: fmt.Sprintf(format, a...)})
		}
		field, pw := fPassword, u.Password
		switch {
		case u.PasswordHash != "":
			if opts.AllowWeakHashes {
				continue
			}
			h, err := password.ParseImport(u.PasswordHash)
			if err == nil {
				err = opts.HashFloor.Check(h)
			}
			if err != nil {
				bad(fPasswordHash, "%v (allow with --allow-weak-hashes)", err)
			}
			continue
		case u.PasswordEnv != "":
			field = fPasswordEnv
			v, ok := lookupEnv(u.PasswordEnv)
			if !ok {
				bad(field, "variable %s is not set", envName(u.PasswordEnv))
				continue
			}
			if msg := checkSecret(v, opts.MaxPasswordLen); msg != "" {
				bad(field, "variable %s %s", envName(u.PasswordEnv), msg)
				continue
			}
			pw = v
		case u.PasswordFile != "":
			field = fPasswordFile
			b, err := readFile(u.PasswordFile)
			if err != nil {
				bad(field, "file %s %s", fileName(u.PasswordFile), describeFileError(err))
				continue
			}
			v := string(b)
			if s, ok := strings.CutSuffix(v, "\n"); ok {
				v = strings.TrimSuffix(s, "\r")
			}
			if msg := checkSecret(v, opts.MaxPasswordLen); msg != "" {
				bad(field, "file %s %s", fileName(u.PasswordFile), msg)
				continue
			}
			pw = v
		}
		if n := opts.MinPasswordLen; n > 0 && utf8.RuneCountInString(pw) < n {
			bad(field, "the password is shorter than %d characters", n)
			continue
		}
		plain[i] = pw
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	for i := range f.Users {
		u := &f.Users[i]
		if u.PasswordHash == "" {
			u.Password = plain[i]
		}
		if u.PasswordPolicy == "" {
			u.PasswordPolicy = policy
		}
	}
	return nil
}

// checkSecret applies the users file's rules for a password to one read
// from a variable or a file; it returns what is wrong, or "".
func checkSecret(s string, maxLen int) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > maxLen:
		return fmt.Sprintf("holds more than %d bytes", maxLen)
	case strings.ContainsRune(s, 0):
		return "holds a NUL character"
	case !utf8.ValidString(s):
		return "holds bytes that are not valid UTF-8"
	}
	return ""
}

// describeFileError says why a password file could not be read, without
// anything the file holds.
func describeFileError(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "cannot be read: permission denied"
	case errors.As(err, &pe):
		return "cannot be read: " + pe.Err.Error()
	}
	return "cannot be read"
}

// conventionalEnv is how environment variables are named in practice:
// upper-case letters, digits and underscores.
var conventionalEnv = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// envName quotes a password_env value for a message only when it looks
// like a variable name: a password typed there by mistake is not shown.
func envName(s string) string {
	if conventionalEnv.MatchString(s) {
		return strconv.Quote(s)
	}
	return "(named on that line; not shown, as it does not look like a variable name)"
}

// fileName quotes a password_file value only when it is an absolute path
// (as a mounted Secret's is), for the same reason.
func fileName(s string) string {
	if strings.HasPrefix(s, "/") {
		return strconv.Quote(s)
	}
	return "(named on that line; not shown, as it is not an absolute path)"
}
