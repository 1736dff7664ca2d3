package reconcile

import (
	"context"
	"fmt"
	"sort"

	"github.com/uptrace/bun"

	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/models"
)

// PruneAction is what a prune does to a managed user that left the file.
type PruneAction string

// The prune actions.
const (
	// PruneDisable sets enabled = 0 and keeps the user and its properties;
	// the user is enabled again when it comes back to the file.
	PruneDisable PruneAction = "disable"
	// PruneDelete deletes the user and its properties.
	PruneDelete PruneAction = "delete"
)

// PruneOptions turn pruning on. Only users the sync created (Origin
// created in usersync_managed) are ever pruned.
type PruneOptions struct {
	// Enabled turns pruning on.
	Enabled bool
	// Action is what happens to a pruned user; "" means PruneDisable.
	Action PruneAction
	// Max is the most users one run prunes without Force (the CLI's
	// default is 10; 0 here means any prune needs Force).
	Max int
	// Force lifts the guard: more than Max, or more than half of the
	// managed users.
	Force bool
}

// ManagedUser is a usersync_managed record and whether its user still
// exists (a users row with the same subject and username).
type ManagedUser struct {
	models.Managed
	Present bool
}

// LoadManaged reads every usersync_managed record through conn, each with
// whether its user is still there.
func LoadManaged(ctx context.Context, db *bun.DB, conn bun.IConn) (map[string]*ManagedUser, error) {
	var rows []struct {
		Username      string `bun:"username"`
		Subject       string `bun:"subject"`
		Origin        string `bun:"origin"`
		FirstSyncedAt int64  `bun:"first_synced_at"`
		PrunedAt      *int64 `bun:"pruned_at"`
		Present       int64  `bun:"present"`
	}
	err := db.NewRaw(`SELECT m.username, m.subject, m.origin, m.first_synced_at, m.pruned_at,
		CASE WHEN u.subject IS NULL THEN 0 ELSE 1 END AS present
		FROM usersync_managed AS m
		LEFT JOIN users AS u ON u.subject = m.subject AND u.username = m.username`).Conn(conn).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read managed users: %w", err)
	}
	out := make(map[string]*ManagedUser, len(rows))
	for _, r := range rows {
		out[r.Username] = &ManagedUser{
			Managed: models.Managed{Username: r.Username, Subject: r.Subject, Origin: r.Origin, FirstSyncedAt: r.FirstSyncedAt, PrunedAt: r.PrunedAt},
			Present: r.Present == 1,
		}
	}
	return out, nil
}

// Prune is one managed user that left the file.
type Prune struct {
	Username string
	Subject  string
	Action   PruneAction
}

// PruneRefusedError is the guard's refusal: the plan would prune more users
// than allowed without Force. Nothing was written.
type PruneRefusedError struct {
	Count   int // users the run would prune
	Managed int // users pruning may remove (the base of "half")
	Max     int
	Action  PruneAction
}

func (e *PruneRefusedError) Error() string {
	why := fmt.Sprintf("more than --max-prune %d", e.Max)
	if e.Count <= e.Max {
		why = "more than half of them"
	}
	return fmt.Sprintf("prune refused: %d of %d managed users would be %s (%s); nothing was written: "+
		"check the users file, or rerun with --force", e.Count, e.Managed, pastTense(e.Action), why)
}

func pastTense(a PruneAction) string {
	if a == PruneDelete {
		return "deleted"
	}
	return "disabled"
}

// CheckPrune applies the prune guard to the plan: more than o.Max users, or
// more than half of the managed users, need o.Force.
func (p *Plan) CheckPrune(o PruneOptions) error {
	n := len(p.Prunes)
	if n == 0 || o.Force {
		return nil
	}
	if n > o.Max || 2*n > p.ManagedActive {
		return &PruneRefusedError{Count: n, Managed: p.ManagedActive, Max: o.Max, Action: pruneAction(o)}
	}
	return nil
}

func pruneAction(o PruneOptions) PruneAction {
	if o.Action == "" {
		return PruneDisable
	}
	return o.Action
}

// reenablePruned turns a user that a prune disabled, and that is back in
// the file without "enabled", on again: pruning is undone when the entry
// returns. It returns the fields and columns with "enabled" in its place.
func reenablePruned(u *userfile.User, m *ManagedUser, row *models.User, fields, columns []string) ([]string, []string) {
	if m == nil || m.PrunedAt == nil || m.Subject != row.Subject || u.Enabled != nil || row.Enabled == 1 {
		return fields, columns
	}
	row.Enabled = 1
	at := 0
	if len(fields) > 0 && fields[0] == FieldEmail {
		at = 1
	}
	fields = append(fields[:at:at], append([]string{FieldEnabled}, fields[at:]...)...)
	columns = append(columns[:at:at], append([]string{"enabled"}, columns[at:]...)...)
	return fields, columns
}

// planManaged fills in the records to write and, when pruning, the users to
// prune: managed users created by the sync, still present, not pruned yet,
// and no longer in the file.
func planManaged(f *userfile.File, cur *Current, plan *Plan, opts Options, now int64) {
	inFile := make(map[string]bool, len(f.Users))
	for i := range plan.Changes {
		c := &plan.Changes[i]
		inFile[c.Row.Username] = true
		m := cur.Managed[c.Row.Username]
		switch {
		case c.Action == Create:
			plan.Managed = append(plan.Managed, models.Managed{Username: c.Row.Username, Subject: c.Row.Subject, Origin: models.OriginCreated, FirstSyncedAt: now})
		case m == nil || m.Subject != c.Row.Subject:
			// Seen for the first time, or a record of another user of the
			// same name: the current one was not created by the sync.
			plan.Managed = append(plan.Managed, models.Managed{Username: c.Row.Username, Subject: c.Row.Subject, Origin: models.OriginAdopted, FirstSyncedAt: now})
		case m.PrunedAt != nil:
			back := m.Managed
			back.PrunedAt = nil
			plan.Managed = append(plan.Managed, back)
		}
	}
	for _, m := range cur.Managed {
		if m.Origin != models.OriginCreated || !m.Present || m.PrunedAt != nil {
			continue
		}
		plan.ManagedActive++
		if opts.Prune.Enabled && !inFile[m.Username] {
			plan.Prunes = append(plan.Prunes, Prune{Username: m.Username, Subject: m.Subject, Action: pruneAction(opts.Prune)})
		}
	}
	sort.Slice(plan.Prunes, func(i, j int) bool { return plan.Prunes[i].Username < plan.Prunes[j].Username })
}

// applyManaged writes what the plan holds beyond users and properties rows:
// property deletes, prunes, and usersync_managed records.
func applyManaged(ctx context.Context, db *bun.DB, conn bun.IConn, plan *Plan, now int64) error {
	for _, c := range plan.Changes {
		if len(c.DeleteProperties) == 0 {
			continue
		}
		_, err := db.NewDelete().Conn(conn).Model((*models.Property)(nil)).
			Where("owner = ?", c.Row.Subject).Where(`"key" IN (?)`, bun.In(c.DeleteProperties)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete properties of %q: %w", c.Row.Username, err)
		}
	}
	var disable, del, delNames []string
	for _, p := range plan.Prunes {
		if p.Action == PruneDelete {
			del, delNames = append(del, p.Subject), append(delNames, p.Username)
		} else {
			disable = append(disable, p.Subject)
		}
	}
	for chunk := range chunks(disable, chunkSize) {
		if _, err := db.NewUpdate().Conn(conn).Model((*models.User)(nil)).Set("enabled = 0").
			Where("subject IN (?)", bun.In(chunk)).Exec(ctx); err != nil {
			return fmt.Errorf("prune (disable) users: %w", err)
		}
		if _, err := db.NewUpdate().Conn(conn).Model((*models.Managed)(nil)).Set("pruned_at = ?", now).
			Where("subject IN (?)", bun.In(chunk)).Exec(ctx); err != nil {
			return fmt.Errorf("record pruned users: %w", err)
		}
	}
	for chunk := range chunks(del, chunkSize) {
		if _, err := db.NewDelete().Conn(conn).Model((*models.Property)(nil)).Where("owner IN (?)", bun.In(chunk)).Exec(ctx); err != nil {
			return fmt.Errorf("prune (delete) properties: %w", err)
		}
		if _, err := db.NewDelete().Conn(conn).Model((*models.User)(nil)).Where("subject IN (?)", bun.In(chunk)).Exec(ctx); err != nil {
			return fmt.Errorf("prune (delete) users: %w", err)
		}
	}
	for chunk := range chunks(delNames, chunkSize) {
		if _, err := db.NewDelete().Conn(conn).Model((*models.Managed)(nil)).Where("username IN (?)", bun.In(chunk)).Exec(ctx); err != nil {
			return fmt.Errorf("forget pruned users: %w", err)
		}
	}
	for chunk := range chunks(plan.Managed, chunkSize) {
		if isPostgres(db) {
			if err := upsertManagedUnnest(ctx, conn, chunk); err != nil {
				return err
			}
			continue
		}
		_, err := db.NewInsert().Conn(conn).Model(&chunk).
			On("CONFLICT (username) DO UPDATE").
			Set("subject = EXCLUDED.subject").
			Set("origin = EXCLUDED.origin").
			Set("first_synced_at = EXCLUDED.first_synced_at").
			Set("pruned_at = EXCLUDED.pruned_at").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("record managed users: %w", err)
		}
	}
	return nil
}
