//go:build unix

package database

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// fileLock is a held lock; Close releases it.
type fileLock interface{ Close() error }

// lockFile opens (creating) path and takes an exclusive flock on it,
// polling so that ctx can end the wait.
func lockFile(ctx context.Context, path string) (fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	delay := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil // closing f releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}
