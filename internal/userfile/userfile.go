// Package userfile decodes and validates a users file: a JSON array of user
// objects, or an object {"users": [...]}. Decoding is strict (unknown fields,
// wrong types and duplicates are errors) and validation reports every
// problem at once, each with its position, without quoting any value from
// the file: a password typed under a misspelt key is still a password.
package userfile

import (
	"encoding/json"
	"sort"
)

// File is a decoded, valid users file.
type File struct {
	Users []User
	// Prune is the object form's top-level "prune": nil when absent. It
	// turns pruning of managed users on or off unless the command line
	// says otherwise.
	Prune *bool
}

// User is one entry of the users file. For every optional field, "absent"
// means: on creation take the default, on an existing user keep the stored
// value.
type User struct {
	Index    int    // position in the file's users array, from 0
	Line     int    // line of the object's opening brace, from 1
	Username string // unique key
	Password string // plaintext; never logged, never stored

	// A user gives exactly one of password, password_hash, password_env
	// and password_file. Password holds the plaintext of the first and,
	// once Resolve has run, of the last two.
	PasswordHash   string         // an Argon2 PHC string, stored verbatim
	PasswordEnv    string         // a variable holding the password
	PasswordFile   string         // a file holding the password
	PasswordPolicy PasswordPolicy // "" until Resolve: the default

	Email         OptString // absent: keep; null: clear; string: set
	Enabled       *bool     // default true
	EmailVerified *bool     // default false
	Requires2FA   *bool     // default false

	// Properties maps a key to the canonical JSON encoding of its value.
	Properties map[string]string
	// DeleteProperties lists, sorted, the keys whose value is null: they
	// are deleted.
	DeleteProperties []string
	// PropertiesReplace is set by "properties_mode": "replace": the stored
	// properties become exactly Properties and every other key is deleted.
	// The default ("merge") writes per key and leaves other keys alone.
	PropertiesReplace bool
}

// TouchesProperties reports whether syncing the user may write or delete
// any of its properties.
func (u *User) TouchesProperties() bool {
	return len(u.Properties) > 0 || len(u.DeleteProperties) > 0 || u.PropertiesReplace
}

// PropertyKeys returns the user's property keys in sorted order.
func (u *User) PropertyKeys() []string {
	keys := make([]string, 0, len(u.Properties))
	for k := range u.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// OptString is an optional, nullable string field.
type OptString struct {
	Set   bool // the key was present
	Null  bool // its value was null
	Value string
}

// Limits bound what a users file may hold, so that a hostile or broken file
// cannot exhaust memory or CPU. Zero fields take the defaults.
type Limits struct {
	MaxFileSize      int64 // bytes; default 64 MiB
	MaxUsernameLen   int   // bytes; default 256
	MaxPasswordLen   int   // bytes; default 1024, checked before any hashing
	MaxEmailLen      int   // bytes; default 254 (RFC 5321)
	MaxProperties    int   // per user; default 256
	MaxPropertyKey   int   // bytes; default 256
	MaxPropertyValue int   // bytes of canonical JSON; default 64 KiB
	MaxDepth         int   // JSON nesting inside a property value; default 32
}

// DefaultLimits are the limits applied when a Limits field is zero.
var DefaultLimits = Limits{
	MaxFileSize:      64 << 20,
	MaxUsernameLen:   256,
	MaxPasswordLen:   1024,
	MaxEmailLen:      254,
	MaxProperties:    256,
	MaxPropertyKey:   256,
	MaxPropertyValue: 64 << 10,
	MaxDepth:         32,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v, def int) int {
		if v > 0 {
			return v
		}
		return def
	}
	if l.MaxFileSize > 0 {
		d.MaxFileSize = l.MaxFileSize
	}
	d.MaxUsernameLen = pick(l.MaxUsernameLen, d.MaxUsernameLen)
	d.MaxPasswordLen = pick(l.MaxPasswordLen, d.MaxPasswordLen)
	d.MaxEmailLen = pick(l.MaxEmailLen, d.MaxEmailLen)
	d.MaxProperties = pick(l.MaxProperties, d.MaxProperties)
	d.MaxPropertyKey = pick(l.MaxPropertyKey, d.MaxPropertyKey)
	d.MaxPropertyValue = pick(l.MaxPropertyValue, d.MaxPropertyValue)
	d.MaxDepth = pick(l.MaxDepth, d.MaxDepth)
	return d
}

// rawUser keeps the undecoded values of one user object by key.
type rawUser map[string]json.RawMessage
