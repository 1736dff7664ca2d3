package database_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/barycenter/usersync/internal/database"
	"github.com/barycenter/usersync/internal/dbtest"
)

const dbPassword = "Wait-Pw-7f3a9c"

// withHostPassword returns raw with its host:port replaced and a password set.
func withHostPassword(t *testing.T, raw, hostport string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = hostport
	u.User = url.UserPassword(u.User.Username(), dbPassword)
	return u.String()
}

// freePort returns an address on which nothing listens.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// countingHandler counts "database not ready" records and calls onRetry
// with the count after each.
type countingHandler struct {
	slog.Handler
	retries atomic.Int32
	onRetry func(n int)
}

func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "database not ready, retrying" {
		n := h.retries.Add(1)
		if h.onRetry != nil {
			h.onRetry(int(n))
		}
	}
	return h.Handler.Handle(ctx, r)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newLogger(onRetry func(int)) (*slog.Logger, *countingHandler, *syncBuffer) {
	buf := &syncBuffer{}
	h := &countingHandler{Handler: slog.NewTextHandler(buf, nil), onRetry: onRetry}
	return slog.New(h), h, buf
}

func TestOpenWaitGivesUpOnClosedPort(t *testing.T) {
	addr := freePort(t)
	cfg, err := database.ParseURL("postgres://app:" + dbPassword + "@" + addr + "/app?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	logger, h, logs := newLogger(nil)
	_, err = database.OpenWait(context.Background(), cfg, time.Second, logger)
	var we *database.WaitError
	if !errors.As(err, &we) {
		t.Fatalf("got %v, want a *database.WaitError", err)
	}
	if we.Attempts < 2 {
		t.Errorf("attempts = %d, want several within the wait", we.Attempts)
	}
	if got := h.retries.Load(); got < 1 {
		t.Errorf("retry log records = %d, want at least 1", got)
	}
	for what, s := range map[string]string{"error": err.Error(), "log": logs.String()} {
		if !strings.Contains(s, addr) {
			t.Errorf("%s does not name %s: %s", what, addr, s)
		}
		if strings.Contains(s, dbPassword) {
			t.Errorf("%s contains the password: %s", what, s)
		}
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error does not give the last error: %v", err)
	}
}

// TestOpenWaitUntilUp points OpenWait at a fake server that says "the
// database system is starting up" (SQLSTATE 57P03) to the first
// connections and then forwards to the real server.
func TestOpenWaitUntilUp(t *testing.T) {
	target := dbtest.PostgresURL(t)
	tu, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var ready atomic.Bool
	go serve(l, tu.Host, &ready)

	cfg, err := database.ParseURL(withHostPassword(t, target, l.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	logger, h, logs := newLogger(func(n int) {
		if n == 3 {
			ready.Store(true)
		}
	})
	db, err := database.OpenWait(context.Background(), cfg, 30*time.Second, logger)
	if err != nil {
		t.Fatalf("OpenWait: %v\nlogs:\n%s", err, logs)
	}
	defer db.Close()
	if got := h.retries.Load(); got != 3 {
		t.Errorf("retries = %d, want 3", got)
	}
	if !strings.Contains(logs.String(), "starting up") {
		t.Errorf("logs do not give the server's reason:\n%s", logs)
	}
	if strings.Contains(logs.String(), dbPassword) {
		t.Errorf("logs contain the password:\n%s", logs)
	}
	var one int
	if err := db.SQL.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
}

// serve answers each connection with 57P03 until ready, then proxies it
// to target.
func serve(l net.Listener, target string, ready *atomic.Bool) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if ready.Load() {
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
				return
			}
			be := pgproto3.NewBackend(c, c)
			for {
				msg, err := be.ReceiveStartupMessage()
				if err != nil {
					return
				}
				switch msg.(type) {
				case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
					if _, err := c.Write([]byte("N")); err != nil {
						return
					}
					continue
				}
				be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "57P03", Message: "the database system is starting up"})
				_ = be.Flush()
				return
			}
		}()
	}
}

// TestOpenWaitFailsAtOnce: errors that waiting cannot fix end the wait at
// the first attempt.
func TestOpenWaitFailsAtOnce(t *testing.T) {
	admin := dbtest.RequirePostgres(t)
	au, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		user, db string
		code     string
	}{
		{"unknown role", "usersync_no_such_role", au.Path[1:], "28000"},
		{"unknown database", au.User.Username(), "usersync_no_such_db", "3D000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := *au
			u.User = url.UserPassword(tc.user, dbPassword)
			u.Path = "/" + tc.db
			cfg, err := database.ParseURL(u.String())
			if err != nil {
				t.Fatal(err)
			}
			logger, h, logs := newLogger(nil)
			_, err = database.OpenWait(context.Background(), cfg, time.Minute, logger)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != tc.code {
				t.Fatalf("got %v, want SQLSTATE %s", err, tc.code)
			}
			var we *database.WaitError
			if errors.As(err, &we) {
				t.Errorf("got a WaitError, want the server's error at once: %v", err)
			}
			if n := h.retries.Load(); n != 0 {
				t.Errorf("retried %d times:\n%s", n, logs)
			}
			if strings.Contains(err.Error(), dbPassword) {
				t.Errorf("error contains the password: %v", err)
			}
		})
	}
}

// TestOpenWaitCanceled: a cancelled context ends the wait with
// context.Canceled, not a WaitError.
func TestOpenWaitCanceled(t *testing.T) {
	cfg, err := database.ParseURL("postgres://app@" + freePort(t) + "/app?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger, _, _ := newLogger(func(n int) { cancel() })
	_, err = database.OpenWait(ctx, cfg, time.Minute, logger)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	var we *database.WaitError
	if errors.As(err, &we) {
		t.Errorf("got a WaitError for a cancelled wait: %v", err)
	}
}
