package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sethvargo/go-retry"
)

// DefaultWait is how long OpenWait keeps trying a PostgreSQL server that
// is not there yet: long enough for a database pod started alongside.
const DefaultWait = 60 * time.Second

// Backoff between connection attempts: exponential from waitBase, capped
// at waitCap, with ±25% jitter so that many replicas started at once do
// not knock in step.
const (
	waitBase   = 250 * time.Millisecond
	waitCap    = 5 * time.Second
	waitJitter = 25 // percent
)

// attemptTimeout bounds one connection attempt, so that a server that
// swallows packets cannot hold the whole wait in one dial.
const attemptTimeout = 10 * time.Second

// OpenWait is Open that, for PostgreSQL, keeps trying for up to wait while
// the server refuses connections or is starting up, with capped
// exponential backoff and jitter. It logs each failed attempt with the
// host and port (never the password). Errors that waiting cannot fix fail
// at once: authentication failures, an unknown database or role, a bad
// TLS setup. A wait of 0 tries once. SQLite is opened once: a file does
// not come up later.
func OpenWait(ctx context.Context, cfg *Config, wait time.Duration, logger *slog.Logger) (*DB, error) {
	if cfg.Backend != Postgres || wait <= 0 {
		return Open(ctx, cfg)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var (
		attempt int
		lastErr error
	)
	var b retry.Backoff = retry.NewExponential(waitBase)
	b = retry.WithCappedDuration(waitCap, b)
	b = retry.WithJitterPercent(waitJitter, b)
	b = retry.WithMaxDuration(wait, b)
	logged := retry.BackoffFunc(func() (time.Duration, bool) {
		d, stop := b.Next()
		if !stop {
			logger.Warn("database not ready, retrying",
				"host", cfg.Host, "port", cfg.Port, "attempt", attempt,
				"retry_in", d.Round(time.Millisecond), "error", lastErr.Error())
		}
		return d, stop
	})
	start := time.Now()
	db, err := retry.DoValue(ctx, logged, func(ctx context.Context) (*DB, error) {
		attempt++
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		defer cancel()
		db, err := Open(actx, cfg)
		if err == nil {
			return db, nil
		}
		lastErr = err
		if ctx.Err() == nil && Transient(err) {
			return nil, retry.RetryableError(err)
		}
		return nil, err
	})
	if err != nil && Transient(err) && ctx.Err() == nil {
		return nil, &WaitError{Config: cfg, Attempts: attempt, Waited: time.Since(start), Err: err}
	}
	if err == nil && attempt > 1 {
		logger.Info("database is up", "host", cfg.Host, "port", cfg.Port, "attempts", attempt)
	}
	return db, err
}

// WaitError is OpenWait giving up on a server that never came up. Its
// message names the host, the port and the last error.
type WaitError struct {
	Config   *Config
	Attempts int
	Waited   time.Duration
	Err      error // the last attempt's error
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("gave up waiting for PostgreSQL at %s after %s (%d attempts); last error: %v",
		e.Config.HostPort(), e.Waited.Round(100*time.Millisecond), e.Attempts, unwrapConnect(e.Err))
}

func (e *WaitError) Unwrap() error { return e.Err }

func unwrapConnect(err error) error {
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce.Err
	}
	return err
}

// Transient reports whether err is a connection failure that may go away
// by itself: the server refuses or drops connections, its name does not
// resolve yet, it is starting up, shutting down or out of connection
// slots. Authentication failures and an unknown database or role are not.
func Transient(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P03", // cannot_connect_now: the database system is starting up
			"57P01", "57P02", // admin_shutdown, crash_shutdown
			"53300": // too_many_connections
			return true
		}
		// Class 08 (connection exception) is transient too; anything else
		// the server says (28000, 28P01, 3D000, 42501, …) is final.
		return len(pe.Code) == 5 && pe.Code[:2] == "08"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true // this attempt timed out; the caller's context is checked separately
	}
	var ne net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &opErr), errors.As(err, &ne):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return false
}
