package reconcile

import (
	"context"
	"strings"
	"testing"

	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/models"
)

// TestDiffPasswordSources checks the decisions Diff makes for given hashes
// and policies. The stored hashes are not valid PHC strings: any attempt
// to verify one would count as a change, so an Unchanged result shows that
// no verification happened.
func TestDiffPasswordSources(t *testing.T) {
	const given = "$argon2id$v=19$m=19456,t=2,p=1$nn/xMPV8K3Dv+HcHytJubQ$UKBtJva7r7Muzx/JLr4YA9k1gGrgGM1fhM9LCqXQW4s"
	tests := []struct {
		name     string
		user     userfile.User
		stored   string // "" for a user not in the database
		action   Action
		needHash bool
		rowHash  string // the PasswordHash of the row to write
	}{
		{"create with a hash", userfile.User{PasswordHash: given}, "", Create, false, given},
		{"create with a plaintext", userfile.User{Password: "pw"}, "", Create, true, ""},
		{"create under initial", userfile.User{Password: "pw", PasswordPolicy: userfile.PolicyInitial}, "", Create, true, ""},
		{"equal hash", userfile.User{PasswordHash: given}, given, Unchanged, false, given},
		{"other hash", userfile.User{PasswordHash: given}, "stored-elsewhere", Update, false, given},
		{"initial plaintext", userfile.User{Password: "pw", PasswordPolicy: userfile.PolicyInitial}, "changed-by-the-user", Unchanged, false, "changed-by-the-user"},
		{"initial hash", userfile.User{PasswordHash: given, PasswordPolicy: userfile.PolicyInitial}, "changed-by-the-user", Unchanged, false, "changed-by-the-user"},
		{"always plaintext", userfile.User{Password: "pw", PasswordPolicy: userfile.PolicyAlways}, "not-a-phc", Update, true, "not-a-phc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.user
			u.Username = "alice"
			cur := &Current{Users: map[string]*models.User{}}
			if tc.stored != "" {
				cur.Users["alice"] = &models.User{Subject: "s", Username: "alice", PasswordHash: tc.stored, Enabled: 1}
			}
			plan, err := Diff(context.Background(), &userfile.File{Users: []userfile.User{u}}, cur, Options{})
			if err != nil {
				t.Fatal(err)
			}
			c := plan.Changes[0]
			if c.Action != tc.action || c.NeedHash != tc.needHash || c.Row.PasswordHash != tc.rowHash || c.Rehash {
				t.Fatalf("action %s needHash %v row hash %q rehash %v; want %s %v %q false",
					c.Action, c.NeedHash, c.Row.PasswordHash, c.Rehash, tc.action, tc.needHash, tc.rowHash)
			}
			if c.Action == Update && strings.Join(c.Columns, ",") != "password_hash" {
				t.Fatalf("columns %v", c.Columns)
			}
		})
	}
	unresolved := &userfile.File{Users: []userfile.User{{Username: "bob", PasswordEnv: "BOB_PASSWORD"}}}
	if _, err := Diff(context.Background(), unresolved, &Current{Users: map[string]*models.User{}}, Options{}); err == nil ||
		!strings.Contains(err.Error(), `password of "bob" was not resolved`) {
		t.Fatalf("Diff of an unresolved file = %v", err)
	}
}
