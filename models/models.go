// Package models holds the bun models of the identity provider's tables.
// Booleans are 0/1 integers, as the identity provider stores them.
package models

import "github.com/uptrace/bun"

// User is a row of the users table.
type User struct {
	bun.BaseModel `bun:"table:users"`

	Subject           string  `bun:"subject,pk"`
	Username          string  `bun:"username,notnull"`
	PasswordHash      string  `bun:"password_hash,notnull"`
	Email             *string `bun:"email"`
	EmailVerified     int64   `bun:"email_verified,notnull"`
	CreatedAt         int64   `bun:"created_at,notnull"`
	Enabled           int64   `bun:"enabled,notnull"`
	Requires2FA       int64   `bun:"requires_2fa,notnull"`
	PasskeyEnrolledAt *int64  `bun:"passkey_enrolled_at"`
}

// Property is a row of the properties table: one key of one user.
type Property struct {
	bun.BaseModel `bun:"table:properties"`

	Owner     string `bun:"owner,pk"`
	Key       string `bun:"key,pk"`
	Value     string `bun:"value,notnull"`
	UpdatedAt int64  `bun:"updated_at,notnull"`
}

// Managed is a row of usersync_managed, usersync's own table: a user the
// sync created (Origin "created") or found already present when the file
// first named it (Origin "adopted"). Only created users are ever pruned.
type Managed struct {
	bun.BaseModel `bun:"table:usersync_managed"`

	Username      string `bun:"username,pk"`
	Subject       string `bun:"subject,notnull"`
	Origin        string `bun:"origin,notnull"`
	FirstSyncedAt int64  `bun:"first_synced_at,notnull"`
	PrunedAt      *int64 `bun:"pruned_at"` // set when a prune disabled the user
}

// The origins of a Managed row.
const (
	OriginCreated = "created"
	OriginAdopted = "adopted"
)
