// Package reconcile brings the users table in line with a users file, in
// four steps that other features build on:
//
//  1. the file is validated (package userfile) before anything else;
//  2. Load reads the current rows for the file's usernames;
//  3. Diff compares each user field by field and decides create, update
//     (with the changed field names) or unchanged, verifying passwords
//     against the stored hashes;
//  4. Apply hashes what must be hashed and writes the diff, inside the
//     caller's transaction.
//
// Users not in the file, and property keys not in the file, are never read
// for writing and never touched.
package reconcile

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/models"
)

// Options tune a sync. The zero value is usable: default Argon2
// parameters, one hash worker per available CPU within the memory budget,
// no logging.
type Options struct {
	// Params are the Argon2id parameters for new hashes; a stored hash that
	// is weaker is replaced once its password is verified.
	Params password.Params
	// Workers bounds concurrent Argon2 computations; 0 means GOMAXPROCS.
	// Either way it is capped by MemoryBudget (see HashWorkers).
	Workers int
	// MemoryBudget bounds the bytes of Argon2 memory in use at once
	// (Workers × Params.Memory); 0 means MemoryBudget().
	MemoryBudget int64
	// Argon2Calls, when set, counts every Argon2 computation of the sync
	// (hashes, verifications, fingerprints): for tests and benchmarks.
	Argon2Calls *atomic.Int64
	// Memo, when set, remembers Argon2 results across the passes of one
	// run (see Prepare); nil: nothing is remembered.
	Memo *Memo
	// Logger receives one record per created or updated user; nil: none.
	Logger *slog.Logger
	// Now is the clock for created_at and updated_at; nil: time.Now.
	Now func() time.Time
	// NewSubject makes the subject of a created user; nil: a random UUID.
	NewSubject func() string
	// Prune removes managed users that left the file; the zero value
	// prunes nothing.
	Prune PruneOptions
	// Progress, when set, is called as passwords are verified (StageVerify)
	// and hashed (StageHash): first with done 0, then after each one. Calls
	// are serialized. It never receives a username or a password.
	Progress func(stage Stage, done, total int)
}

func (o Options) withDefaults() Options {
	if o.Params == (password.Params{}) {
		o.Params = password.DefaultParams
	}
	o.Workers = HashWorkers(o.Workers, o.Params, o.MemoryBudget)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewSubject == nil {
		o.NewSubject = newSubject
	}
	return o
}

// Action is what a sync does to one user.
type Action string

// The actions of a diff.
const (
	Create    Action = "create"
	Update    Action = "update"
	Unchanged Action = "unchanged"
)

// Field names reported in a Change.
const (
	FieldPassword      = "password"
	FieldEmail         = "email"
	FieldEnabled       = "enabled"
	FieldEmailVerified = "email_verified"
	FieldRequires2FA   = "requires_2fa"
	// FieldPropertyPrefix precedes a property key: "properties.theme".
	FieldPropertyPrefix = "properties."
)

// Change is the diff of one user.
type Change struct {
	User   *userfile.User
	Action Action
	// Fields names what differs, in a fixed order: password, email,
	// enabled, email_verified, requires_2fa, then properties.<key> sorted.
	Fields []string
	// Rehash is set when the password is unchanged but its stored hash is
	// weaker than the configured parameters (or not Argon2id) and is
	// replaced.
	Rehash bool

	// Row is the users row to write: the stored row with the file's values
	// applied, or a new row for Create. Its PasswordHash is filled in by
	// Apply when NeedHash is set.
	Row models.User
	// Columns are the users columns an Update writes.
	Columns []string
	// NeedHash is set when Apply must hash the user's password.
	NeedHash bool
	// Properties are the rows to insert or overwrite.
	Properties []models.Property
	// DeleteProperties are the keys of stored properties to delete: set to
	// null in the file, or absent from it under properties_mode replace.
	DeleteProperties []string
}

// Plan is the diff of a whole file, in file order.
type Plan struct {
	Changes []Change
	// Prunes are the managed users that left the file, by username; empty
	// unless Options.Prune.Enabled.
	Prunes []Prune
	// Managed are the usersync_managed records to write: users seen for
	// the first time, and pruned users that are back in the file.
	Managed []models.Managed
	// ManagedActive counts the users that pruning may remove (created by
	// the sync, present, not pruned): the base of the prune guard.
	ManagedActive int
}

// Counts returns how many users are created, updated and unchanged.
func (p *Plan) Counts() (created, updated, unchanged int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			created++
		case Update:
			updated++
		default:
			unchanged++
		}
	}
	return
}

// HasChanges reports whether applying the plan changes any user: a create,
// an update or a prune. (Bookkeeping in usersync_managed does not count.)
func (p *Plan) HasChanges() bool {
	c, u, _ := p.Counts()
	return c+u+len(p.Prunes) > 0
}

// hasher returns the Argon2 runner of these options.
func (o Options) hasher() argon2 { return argon2{calls: o.Argon2Calls, memo: o.Memo} }
