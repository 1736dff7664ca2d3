package reconcile

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/models"
)

// chunkSize bounds the rows of one statement. With nine columns a users
// insert of 3,000 rows holds 27,000 values: under SQLite's 32,766 and
// PostgreSQL's 65,535 bind parameters, should bun ever bind them.
const chunkSize = 3000

// Current is what the database holds for the usernames of a file.
type Current struct {
	// Users maps a username to its row.
	Users map[string]*models.User
	// Properties maps a subject to its properties by key, for the users
	// whose file entry has properties.
	Properties map[string]map[string]models.Property
	// Managed maps a username to its usersync_managed record, for every
	// record (see LoadManaged); nil when the table is not there yet.
	Managed map[string]*ManagedUser
	// Proven holds the usernames whose stored hash is proven, by the
	// fingerprint of the last sync, to verify the file's password: Diff
	// does not verify them again. Nil: verify everyone.
	Proven map[string]bool
}

// Load reads the rows for the file's usernames, in chunks, through conn
// (a *sql.Tx or any bun.IConn), and the properties of those users who have
// properties in the file.
func Load(ctx context.Context, db *bun.DB, conn bun.IConn, f *userfile.File) (*Current, error) {
	cur := &Current{Users: make(map[string]*models.User, len(f.Users)), Properties: map[string]map[string]models.Property{}}
	names := make([]string, 0, len(f.Users))
	for i := range f.Users {
		names = append(names, f.Users[i].Username)
	}
	for chunk := range chunks(names, chunkSize) {
		var rows []models.User
		if err := db.NewSelect().Conn(conn).Model(&rows).Where("username IN (?)", bun.In(chunk)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("read users: %w", err)
		}
		for i := range rows {
			cur.Users[rows[i].Username] = &rows[i]
		}
	}
	var owners []string
	for i := range f.Users {
		if u := cur.Users[f.Users[i].Username]; u != nil && f.Users[i].TouchesProperties() {
			owners = append(owners, u.Subject)
		}
	}
	for chunk := range chunks(owners, chunkSize) {
		var rows []models.Property
		if err := db.NewSelect().Conn(conn).Model(&rows).Where("owner IN (?)", bun.In(chunk)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("read properties: %w", err)
		}
		for _, p := range rows {
			if cur.Properties[p.Owner] == nil {
				cur.Properties[p.Owner] = map[string]models.Property{}
			}
			cur.Properties[p.Owner][p.Key] = p
		}
	}
	return cur, nil
}

// chunks yields consecutive pieces of s of at most n elements.
func chunks[T any](s []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}
