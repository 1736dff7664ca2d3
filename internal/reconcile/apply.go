package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"

	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/models"
)

// Apply hashes the passwords the plan needs (in parallel) and writes the
// plan through conn, which should be a transaction: creates as multi-row
// inserts, updates of only the changed columns, properties as upserts.
// Unchanged users get no write at all.
func Apply(ctx context.Context, db *bun.DB, conn bun.IConn, plan *Plan, opts Options) error {
	opts = opts.withDefaults()
	if err := hashAll(ctx, plan, opts); err != nil {
		return err
	}
	var creates []models.User
	var props []models.Property
	for i := range plan.Changes {
		c := &plan.Changes[i]
		switch c.Action {
		case Create:
			creates = append(creates, c.Row)
		case Update:
			if len(c.Columns) > 0 {
				if _, err := db.NewUpdate().Conn(conn).Model(&c.Row).Column(c.Columns...).WherePK().Exec(ctx); err != nil {
					return fmt.Errorf("update user %q: %w", c.Row.Username, err)
				}
			}
		}
		props = append(props, c.Properties...)
	}
	for chunk := range chunks(creates, chunkSize) {
		if _, err := db.NewInsert().Conn(conn).Model(&chunk).Exec(ctx); err != nil {
			return fmt.Errorf("insert users: %w", err)
		}
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

// hashAll fills in the password hash of every change that needs one, on
// opts.Workers goroutines.
func hashAll(ctx context.Context, plan *Plan, opts Options) error {
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
			h, err := password.Generate(c.User.Password, opts.Params)
			if err != nil {
				return fmt.Errorf("hash password of %q: %w", c.User.Username, err)
			}
			c.Row.PasswordHash = h
			prog.step()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("hash passwords: %w", err)
	}
	return nil
}

// Sync runs Load, Diff and Apply through conn and returns the plan it
// applied.
func Sync(ctx context.Context, db *bun.DB, conn bun.IConn, f *userfile.File, opts Options) (*Plan, error) {
	cur, err := Load(ctx, db, conn, f)
	if err != nil {
		return nil, err
	}
	if cur.Managed, err = LoadManaged(ctx, db, conn); err != nil {
		return nil, err
	}
	plan, err := Diff(ctx, f, cur, opts)
	if err != nil {
		return nil, err
	}
	if err := plan.CheckPrune(opts.Prune); err != nil {
		return nil, err
	}
	if err := Apply(ctx, db, conn, plan, opts); err != nil {
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
