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
	if hashErr != nil {
		return hashErr
	}
	if writeErr != nil {
		return writeErr
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
	return nil
}

func insertUsers(ctx context.Context, db *bun.DB, conn bun.IConn, rows []models.User) error {
	if _, err := db.NewInsert().Conn(conn).Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert users: %w", err)
	}
	return nil
}

// hashAll fills in the password hash of every change that needs one, on
// opts.Workers goroutines, and hands each change to done once hashed.
func hashAll(ctx context.Context, plan *Plan, opts Options, done func(*Change)) error {
	a := argon2{opts.Argon2Calls}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Workers)
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if !c.NeedHash {
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			h, err := a.generate(c.User.Password, opts.Params)
			if err != nil {
				return fmt.Errorf("hash password of %q: %w", c.User.Username, err)
			}
			c.Row.PasswordHash = h
			done(c)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("hash passwords: %w", err)
	}
	return nil
}

// Sync runs Load, Diff and Apply through conn and returns the plan it
// applied. Between Load and Diff it checks the fingerprint of the last
// sync, which spares Diff the verification of the passwords it proves
// unchanged; after Apply it writes the new fingerprint, in the same
// transaction.
func Sync(ctx context.Context, db *bun.DB, conn bun.IConn, f *userfile.File, opts Options) (*Plan, error) {
	opts = opts.withDefaults()
	s := &session{db: db, conn: conn, opts: opts, argon2: argon2{opts.Argon2Calls}}
	cur, err := Load(ctx, db, conn, f)
	if err != nil {
		return nil, err
	}
	stored, err := loadState(ctx, s)
	if err != nil {
		return nil, err
	}
	fp, proven, err := checkFingerprint(ctx, s, f, cur, stored)
	if err != nil {
		return nil, err
	}
	cur.Proven = proven
	opts.Logger.Info("checked fingerprint", "path", fp.path, "buckets", fp.k, "proven", fp.proven, "workers", opts.Workers)
	plan, err := Diff(ctx, f, cur, opts)
	if err != nil {
		return nil, err
	}
	if err := Apply(ctx, db, conn, plan, opts); err != nil {
		return nil, err
	}
	if err := saveFingerprint(ctx, s, fp, plan); err != nil {
		return nil, err
	}
	return plan, nil
}

// Log writes one record per created or updated user (its username and the
// names of what changed, never a value) and the summary record with the
// keys created, updated and unchanged.
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
	created, updated, unchanged := plan.Counts()
	logger.Info("sync complete", "created", created, "updated", updated, "unchanged", unchanged)
}
