package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/barycenter/usersync/models"
)

// updateUsers writes the plan's updates as multi-row statements, one per
// set of changed columns and chunk: UPDATE users SET <those columns> FROM
// (VALUES …) joined on the subject (bun's bulk update, a CTE on both
// PostgreSQL and SQLite ≥ 3.33). So a statement writes only columns that
// changed for every row it touches, and an unchanged user is in none.
func updateUsers(ctx context.Context, db *bun.DB, conn bun.IConn, plan *Plan) error {
	groups := map[string][]models.User{}
	var keys []string
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Action != Update || len(c.Columns) == 0 {
			continue
		}
		key := strings.Join(c.Columns, ",")
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], c.Row)
	}
	slices.Sort(keys)
	for _, key := range keys {
		cols := strings.Split(key, ",")
		for chunk := range chunks(groups[key], chunkSize) {
			if _, err := db.NewUpdate().Conn(conn).Model(&chunk).Column(cols...).Bulk().Exec(ctx); err != nil {
				return fmt.Errorf("update users (%s): %w", key, err)
			}
		}
	}
	return nil
}
