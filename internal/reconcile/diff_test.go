package reconcile

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/models"
)

var cheap = password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func parse(t *testing.T, s string) *userfile.File {
	t.Helper()
	f, err := userfile.Parse(strings.NewReader(s), userfile.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func hashOf(t *testing.T, pw string) string {
	t.Helper()
	h, err := password.Generate(pw, cheap)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDiff(t *testing.T) {
	email := "a@example.com"
	stored := &models.User{Subject: "s-alice", Username: "alice", PasswordHash: hashOf(t, "pw-1"), Email: &email, Enabled: 1, CreatedAt: 5}
	cur := &Current{
		Users:      map[string]*models.User{"alice": stored},
		Properties: map[string]map[string]models.Property{"s-alice": {"k": {Owner: "s-alice", Key: "k", Value: `{"b":2, "a":1}`, UpdatedAt: 1}}},
	}
	tests := []struct {
		name    string
		file    string
		action  Action
		fields  []string
		columns []string
	}{
		{"unchanged", `[{"username":"alice","password":"pw-1"}]`, Unchanged, nil, nil},
		{"same email and equivalent property", `[{"username":"alice","password":"pw-1","email":"a@example.com","properties":{"k":{"a":1,"b":2}}}]`, Unchanged, nil, nil},
		{"password", `[{"username":"alice","password":"pw-2"}]`, Update, []string{"password"}, []string{"password_hash"}},
		{"email cleared", `[{"username":"alice","password":"pw-1","email":null}]`, Update, []string{"email"}, []string{"email"}},
		{"everything", `[{"username":"alice","password":"pw-2","email":"b@example.com","enabled":false,"email_verified":true,"requires_2fa":true,"properties":{"k":1,"new":true}}]`,
			Update, []string{"password", "email", "enabled", "email_verified", "requires_2fa", "properties.k", "properties.new"},
			[]string{"password_hash", "email", "enabled", "email_verified", "requires_2fa"}},
		{"only a property", `[{"username":"alice","password":"pw-1","properties":{"k":2}}]`, Update, []string{"properties.k"}, nil},
		{"create", `[{"username":"bob","password":"pw"}]`, Create, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Diff(context.Background(), parse(t, tc.file), cur, Options{Params: cheap, Now: func() time.Time { return time.Unix(100, 0) }})
			if err != nil {
				t.Fatal(err)
			}
			c := plan.Changes[0]
			if c.Action != tc.action || !reflect.DeepEqual(c.Fields, tc.fields) || !reflect.DeepEqual(c.Columns, tc.columns) {
				t.Fatalf("got %s %v %v, want %s %v %v", c.Action, c.Fields, c.Columns, tc.action, tc.fields, tc.columns)
			}
			if c.NeedHash != (tc.action == Create || slices.Contains(tc.fields, "password")) {
				t.Fatalf("NeedHash = %v", c.NeedHash)
			}
			if tc.action != Create && (c.Row.Subject != "s-alice" || c.Row.CreatedAt != 5) {
				t.Fatalf("the row lost its identity: %+v", c.Row)
			}
		})
	}
	if *stored.Email != email || stored.Enabled != 1 {
		t.Fatal("Diff modified the loaded row")
	}
}

func TestNewRowDefaults(t *testing.T) {
	f := parse(t, `[{"username":"bob","password":"pw"},{"username":"carol","password":"pw","email":"c@x.y","enabled":false,"email_verified":true,"requires_2fa":true}]`)
	plan, err := Diff(context.Background(), f, &Current{Users: map[string]*models.User{}}, Options{Params: cheap, Now: func() time.Time { return time.Unix(100, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	bob, carol := plan.Changes[0].Row, plan.Changes[1].Row
	if bob.Enabled != 1 || bob.EmailVerified != 0 || bob.Requires2FA != 0 || bob.Email != nil || bob.CreatedAt != 100 {
		t.Fatalf("bob: %+v", bob)
	}
	if carol.Enabled != 0 || carol.EmailVerified != 1 || carol.Requires2FA != 1 || *carol.Email != "c@x.y" {
		t.Fatalf("carol: %+v", carol)
	}
	if bob.Subject == carol.Subject || len(bob.Subject) != 36 || bob.Subject[14] != '4' {
		t.Fatalf("subjects %q %q are not distinct random UUIDs", bob.Subject, carol.Subject)
	}
}
