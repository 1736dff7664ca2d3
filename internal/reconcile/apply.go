package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"

	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/models"
)

// Apply hashes the passwords the plan needs (in parallel) and writes the
// plan through conn, which should be a transaction: creates as multi-row
// inserts, written chunk by chunk as their hashes complete; updates as
// multi-row statements that write only the changed columns; properties as
// upserts. Unchanged users get no write at all.
func Apply(ctx context.Context, db *bun.DB, conn bun.IConn, plan *Plan, opts Options) error {
	opts = opts.withDefaults()
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hashed := make(chan *Change, opts.Workers)
	var hashErr error
	go func() {
		defer close(hashed)
		hashErr = hashAll(hctx, plan, opts, func(c *Change) {
			select {
			case hashed <- c:
			case <-hctx.Done():
			}
		})
	}()
	// The database takes each chunk of created users while the workers
	// hash the next ones.
	var creates []models.User
	var writeErr error
	for c := range hashed {
		if writeErr != nil || c.Action != Create {
			continue
		}
		if creates = append(creates, c.Row); len(creates) == chunkSize {
			if writeErr = insertUsers(ctx, db, conn, creates); writeErr != nil {
				cancel()
			}
			creates = creates[:0]
		}
	}
	// A failed write cancels the hashing: report the write, not the
	// cancellation it caused.
	if writeErr != nil {
		return writeErr
	}
	if hashErr != nil {
		return hashErr
	}
	var props []models.Property
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Action == Create && !c.NeedHash {
			creates = append(creates, c.Row)
		}
		props = append(props, c.Properties...)
	}
	for chunk := range chunks(creates, chunkSize) {
		if err := insertUsers(ctx, db, conn, chunk); err != nil {
			return err
		}
	}
	if err := updateUsers(ctx, db, conn, plan); err != nil {
		return err
	}
	for chunk := range chunks(props, chunkSize) {
		_, err := db.NewInsert().Conn(conn).Model(&chunk).
			On(`CONFLICT (owner, "key") DO UPDATE`).
			Set("value = EXCLUDED.value").
			Set("updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("write properties: %w", err)
		}
	}
	return applyManaged(ctx, db, conn, plan, opts.Now().Unix())
}

func insertUsers(ctx context.Context, db *bun.DB, conn bun.IConn, rows []models.User) error {
	if isPostgres(db) {
		return insertUsersUnnest(ctx, conn, rows)
	}
	if _, err := db.NewInsert().Conn(conn).Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert users: %w", err)
	}
	return nil
}

// hashAll fills in the password hash of every change that needs one, on
// opts.Workers goroutines, and hands each change to done once hashed.
func hashAll(ctx context.Context, plan *Plan, opts Options, done func(*Change)) error {
	a := opts.hasher()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Workers)
	n := 0
	for _, c := range plan.Changes {
		if c.NeedHash {
			n++
		}
	}
	prog := newProgress(opts.Progress, StageHash, n)
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if !c.NeedHash {
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			h, err := a.hashUser(c.User.Username, c.User.Password, opts.Params)
			if err != nil {
				return fmt.Errorf("hash password of %q: %w", c.User.Username, err)
			}
			c.Row.PasswordHash = h
			prog.step()
			done(c)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("hash passwords: %w", err)
	}
	return nil
}

// Tables says which of the tables a sync reads exist. A plan against a
// database that is not fully migrated reads only those that do.
type Tables struct {
	Users   bool // users and properties
	Managed bool // usersync_managed
	State   bool // usersync_state: the fingerprint
}

// AllTables is a fully migrated database.
var AllTables = Tables{Users: true, Managed: true, State: true}

// prepare runs the steps of a sync that only read: Load, the fingerprint
// check (which spares Diff the verification of the passwords it proves
// unchanged), and Diff. fp is nil when the state table is missing.
func prepare(ctx context.Context, s *session, f *userfile.File, have Tables) (plan *Plan, fp *fingerprint, err error) {
	cur := &Current{Users: map[string]*models.User{}}
	if have.Users {
		if cur, err = Load(ctx, s.db, s.conn, f); err != nil {
			return nil, nil, err
		}
	}
	if have.Managed {
		if cur.Managed, err = LoadManaged(ctx, s.db, s.conn); err != nil {
			return nil, nil, err
		}
	}
	if have.Users && have.State {
		stored, err := loadState(ctx, s)
		if err != nil {
			return nil, nil, err
		}
		if fp, cur.Proven, err = checkFingerprint(ctx, s, f, cur, stored); err != nil {
			return nil, nil, err
		}
	}
	plan, err = Diff(ctx, f, cur, s.opts)
	return plan, fp, err
}

func newSession(db *bun.DB, conn bun.IConn, opts Options) *session {
	opts = opts.withDefaults()
	return &session{db: db, conn: conn, opts: opts, argon2: opts.hasher()}
}

// Preview computes what a sync would do, through conn, writing nothing and
// hashing nothing: the plan that `usersync plan` prints. have says which
// tables exist.
func Preview(ctx context.Context, db *bun.DB, conn bun.IConn, f *userfile.File, opts Options, have Tables) (*Plan, error) {
	plan, _, err := prepare(ctx, newSession(db, conn, opts), f, have)
	return plan, err
}

// Prepare does the Argon2 work of a sync ahead of it, through conn (outside
// any lock: it writes nothing): it verifies what Diff must verify and
// hashes what Apply must hash, remembering every result in opts.Memo, which
// must be set. A Sync given the same Memo repeats none of that work for the
// rows that did not change in between: under its lock it only reads,
// writes, and makes the new fingerprint strings of the buckets that
// changed (at most √N + 1 Argon2 computations).
func Prepare(ctx context.Context, db *bun.DB, conn bun.IConn, f *userfile.File, opts Options) error {
	if opts.Memo == nil {
		return fmt.Errorf("prepare: no memo to keep the results in")
	}
	s := newSession(db, conn, opts)
	plan, _, err := prepare(ctx, s, f, AllTables)
	if err != nil {
		return err
	}
	if err := plan.CheckPrune(s.opts.Prune); err != nil {
		return err // Sync would refuse: hash nothing for it
	}
	return hashAll(ctx, plan, s.opts, func(*Change) {})
}

// Sync reads, diffs and writes through conn, which must be a transaction,
// and returns the plan it applied: Load, the fingerprint check, Diff, the
// prune guard, Apply, and the new fingerprint, all in that transaction.
func Sync(ctx context.Context, db *bun.DB, conn bun.IConn, f *userfile.File, opts Options) (*Plan, error) {
	s := newSession(db, conn, opts)
	plan, fp, err := prepare(ctx, s, f, AllTables)
	if err != nil {
		return nil, err
	}
	s.opts.Logger.Info("checked fingerprint", "path", fp.path, "buckets", fp.k, "proven", fp.proven, "workers", s.opts.Workers)
	if err := plan.CheckPrune(s.opts.Prune); err != nil {
		return nil, err
	}
	if err := Apply(ctx, db, conn, plan, s.opts); err != nil {
		return nil, err
	}
	if err := saveFingerprint(ctx, s, fp, plan); err != nil {
		return nil, err
	}
	return plan, nil
}

// Log writes one record per created or updated user (its username and the
// names of what changed, never a value), one per pruned user, and the
// summary record with the keys created, updated, unchanged and pruned.
func Log(logger *slog.Logger, plan *Plan) {
	for _, c := range plan.Changes {
		switch c.Action {
		case Create:
			logger.Info("created user", "username", c.User.Username)
		case Update:
			attrs := []any{"username", c.User.Username, "changed", strings.Join(c.Fields, ",")}
			if c.Rehash {
				attrs = append(attrs, "reason", "rehash")
			}
			logger.Info("updated user", attrs...)
		}
	}
	for _, p := range plan.Prunes {
		logger.Info("pruned user", "username", p.Username, "action", string(p.Action))
	}
	created, updated, unchanged := plan.Counts()
	logger.Info("sync complete", "created", created, "updated", updated, "unchanged", unchanged, "pruned", len(plan.Prunes))
}
