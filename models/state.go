package models

import "github.com/uptrace/bun"

// SyncState is a row of usersync's own usersync_state table: the
// fingerprint of one bucket of users after the last successful sync, or of
// all of them (Bucket -1).
type SyncState struct {
	bun.BaseModel `bun:"table:usersync_state"`

	Bucket      int64  `bun:"bucket,pk"`
	Buckets     int64  `bun:"buckets,notnull"`
	Fingerprint string `bun:"fingerprint,notnull"`
	Hashes      string `bun:"hashes,notnull"`
	UpdatedAt   int64  `bun:"updated_at,notnull"`
}
