//go:build !unix

package database

import "context"

// fileLock is a held lock; Close releases it.
type fileLock interface{ Close() error }

type noLock struct{}

func (noLock) Close() error { return nil }

// lockFile does not lock where flock(2) is missing: concurrent migrations
// of one SQLite file are then not serialized.
func lockFile(context.Context, string) (fileLock, error) { return noLock{}, nil }
