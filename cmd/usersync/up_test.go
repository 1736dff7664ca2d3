package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/barycenter/usersync/internal/dbtest"
	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/models"
)

const threeUsers = `[
  {"username": "alice", "password": "correct-horse-battery-staple", "email": "alice@example.com", "email_verified": true},
  {"username": "bob", "password": "another-strong-passphrase", "email": "bob@example.com"},
  {"username": "ci-robot", "password": "service-account-passphrase", "requires_2fa": true,
   "properties": {"role": "service", "teams": ["platform", "release"]}}
]`

var passwords = map[string]string{
	"alice": "correct-horse-battery-staple", "bob": "another-strong-passphrase", "ci-robot": "service-account-passphrase",
}

// getUser reads one row of users, or nil.
func getUser(t *testing.T, url, username string) *models.User {
	t.Helper()
	db := dbtest.Open(t, url)
	var u models.User
	err := db.Bun.NewSelect().Model(&u).Where("username = ?", username).Scan(context.Background())
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return &u
}

func verify(t *testing.T, u *models.User, pw string) bool {
	t.Helper()
	ok, err := password.Verify(u.PasswordHash, pw)
	if err != nil {
		t.Fatalf("stored hash of %s: %v", u.Username, err)
	}
	return ok
}

func TestUpCreatesThenLeavesUnchanged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		r := mustUp(t, url, threeUsers)
		summary(t, r.stderr, 3, 0, 0)
		for name, pw := range passwords {
			u := getUser(t, url, name)
			if u == nil {
				t.Fatalf("user %s not created", name)
			}
			if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") || !verify(t, u, pw) {
				t.Fatalf("%s: password hash %q does not verify", name, u.PasswordHash)
			}
			if len(u.Subject) != 36 || u.CreatedAt == 0 || u.Enabled != 1 {
				t.Fatalf("%s: subject %q created_at %d enabled %d", name, u.Subject, u.CreatedAt, u.Enabled)
			}
			if strings.Contains(r.stderr, pw) {
				t.Fatalf("the logs show %s's password", name)
			}
		}
		alice, robot := getUser(t, url, "alice"), getUser(t, url, "ci-robot")
		if alice.Email == nil || *alice.Email != "alice@example.com" || alice.EmailVerified != 1 || alice.Requires2FA != 0 {
			t.Fatalf("alice: %+v", alice)
		}
		if robot.Email != nil || robot.Requires2FA != 1 || robot.EmailVerified != 0 {
			t.Fatalf("ci-robot: %+v", robot)
		}
		before := dump(t, url)
		if !strings.Contains(before, `key=role|value="service"|`) || !strings.Contains(before, `key=teams|value=["platform","release"]|`) {
			t.Fatalf("properties not stored as JSON:\n%s", before)
		}

		r = mustUp(t, url, threeUsers)
		summary(t, r.stderr, 0, 0, 3)
		if strings.Contains(r.stderr, "created user") || strings.Contains(r.stderr, "updated user") {
			t.Fatalf("an unchanged re-run logged a change:\n%s", r.stderr)
		}
		if after := dump(t, url); after != before {
			t.Fatalf("an unchanged re-run changed rows:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func TestUpUpdatesOnlyWhatChanged(t *testing.T) {
	tests := []struct {
		name    string
		second  string
		changed string // the "changed=" value logged for alice
		check   func(t *testing.T, before, after *models.User)
	}{
		{
			name:    "password",
			second:  `[{"username": "alice", "password": "a-new-passphrase", "email": "alice@example.com"}]`,
			changed: "password",
			check: func(t *testing.T, before, after *models.User) {
				if !verify(t, after, "a-new-passphrase") || verify(t, after, "correct-horse-battery-staple") {
					t.Fatal("the stored password is not the new one")
				}
			},
		},
		{
			name:    "email",
			second:  `[{"username": "alice", "password": "correct-horse-battery-staple", "email": "alice@new.example"}]`,
			changed: "email",
			check: func(t *testing.T, before, after *models.User) {
				if after.Email == nil || *after.Email != "alice@new.example" || after.PasswordHash != before.PasswordHash {
					t.Fatalf("email %v, hash changed %v", after.Email, after.PasswordHash != before.PasswordHash)
				}
			},
		},
		{
			name:    "email null clears",
			second:  `[{"username": "alice", "password": "correct-horse-battery-staple", "email": null}]`,
			changed: "email",
			check: func(t *testing.T, before, after *models.User) {
				if after.Email != nil {
					t.Fatalf("email = %q, want NULL", *after.Email)
				}
			},
		},
		{
			name:    "flags",
			second:  `[{"username": "alice", "password": "correct-horse-battery-staple", "enabled": false, "email_verified": true, "requires_2fa": true}]`,
			changed: "enabled,email_verified,requires_2fa",
			check: func(t *testing.T, before, after *models.User) {
				if after.Enabled != 0 || after.EmailVerified != 1 || after.Requires2FA != 1 {
					t.Fatalf("flags: %+v", after)
				}
				if after.Email == nil || *after.Email != "alice@example.com" {
					t.Fatal("an absent email changed the stored one")
				}
			},
		},
		{
			name:    "password and property",
			second:  `[{"username": "alice", "password": "x-new-passphrase", "properties": {"theme": "light"}}]`,
			changed: "password,properties.theme",
			check:   func(t *testing.T, before, after *models.User) {},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, url string) {
				mustUp(t, url, `[{"username": "alice", "password": "correct-horse-battery-staple", "email": "alice@example.com"},
				                {"username": "bob", "password": "another-strong-passphrase"}]`)
				before, bob := getUser(t, url, "alice"), getUser(t, url, "bob")
				r := mustUp(t, url, tc.second)
				summary(t, r.stderr, 0, 1, 0)
				if !strings.Contains(r.stderr, `msg="updated user" username=alice changed=`+tc.changed+"\n") {
					t.Fatalf("want changed=%s logged:\n%s", tc.changed, r.stderr)
				}
				after := getUser(t, url, "alice")
				if after.Subject != before.Subject || after.CreatedAt != before.CreatedAt {
					t.Fatal("an update changed the subject or created_at")
				}
				tc.check(t, before, after)
				// bob left the file: untouched, not deleted.
				if b := getUser(t, url, "bob"); b == nil || *b != *bob {
					t.Fatalf("bob changed: %+v -> %+v", bob, b)
				}
			})
		})
	}
}

func TestUpIsAdditive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		mustUp(t, url, `[{"username": "alice", "password": "pw-alice-1"}]`)
		// A user created by other means, and a property key not in the file.
		db := dbtest.Open(t, url)
		ctx := context.Background()
		other := models.User{Subject: "other-subject", Username: "zed", PasswordHash: "not-a-phc", CreatedAt: 1, Enabled: 1}
		if _, err := db.Bun.NewInsert().Model(&other).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		alice := getUser(t, url, "alice")
		foreign := models.Property{Owner: alice.Subject, Key: "set-by-the-idp", Value: `"keep"`, UpdatedAt: 7}
		if _, err := db.Bun.NewInsert().Model(&foreign).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		before := dump(t, url)
		r := mustUp(t, url, `[{"username": "alice", "password": "pw-alice-1", "properties": {"k": 1}},
		                       {"username": "bob", "password": "pw-bob-1"}]`)
		summary(t, r.stderr, 1, 1, 0)
		after := dump(t, url)
		for _, line := range strings.Split(strings.TrimSpace(before), "\n") {
			if !strings.Contains(after, line) {
				t.Fatalf("row changed or vanished: %s\nafter:\n%s", line, after)
			}
		}
		if !strings.Contains(after, "key=k|value=1|") {
			t.Fatalf("property k not written:\n%s", after)
		}
	})
}

func TestUnchangedPropertiesGetNoWrite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		file := `[{"username": "alice", "password": "pw-alice-1", "properties": {"a": {"x": 1, "y": [1, 2]}, "b": "two"}}]`
		mustUp(t, url, file)
		db := dbtest.Open(t, url)
		// Mark the stored rows so that any rewrite shows, and store "a" in
		// another (equivalent) JSON spelling.
		if _, err := db.SQL.Exec(`UPDATE properties SET updated_at = 1`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL.Exec(`UPDATE properties SET value = '{ "y": [1,2], "x": 1 }' WHERE "key" = 'a'`); err != nil {
			t.Fatal(err)
		}
		before := dump(t, url)
		r := mustUp(t, url, file)
		summary(t, r.stderr, 0, 0, 1)
		if after := dump(t, url); after != before {
			t.Fatalf("unchanged properties were rewritten:\n%s\n%s", before, after)
		}
		r = mustUp(t, url, `[{"username": "alice", "password": "pw-alice-1", "properties": {"a": {"x": 1, "y": [1, 2]}, "b": "three"}}]`)
		summary(t, r.stderr, 0, 1, 0)
		after := dump(t, url)
		if !strings.Contains(after, `key=a|value={ "y": [1,2], "x": 1 }|updated_at=1|`) || strings.Contains(after, "key=b|value=\"three\"|updated_at=1|") {
			t.Fatalf("want only b rewritten:\n%s", after)
		}
	})
}

func TestUpRehashesWeakOrForeignHashes(t *testing.T) {
	vectors := struct {
		Valid []struct{ Password, PHC, Variant string }
	}{}
	b, err := os.ReadFile("../../internal/password/testdata/argon2-phc.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	var argon2i, argon2d, argon2id struct{ Password, PHC, Variant string }
	for _, v := range vectors.Valid {
		switch {
		case v.Variant == "argon2i":
			argon2i = v
		case v.Variant == "argon2d":
			argon2d = v
		case v.Variant == "argon2id" && v.Password == "owasp-alt-params":
			argon2id = v
		}
	}
	tests := []struct {
		name, stored, password, want string
	}{
		{"argon2i with its password is re-hashed", argon2i.PHC, argon2i.Password, "changed=password reason=rehash"},
		{"argon2d cannot be verified: replaced", argon2d.PHC, argon2d.Password, "changed=password\n"},
		{"garbage is replaced", "plaintext-by-mistake", "pw", "changed=password\n"},
		{"argon2id weaker than configured is re-hashed", argon2id.PHC, argon2id.Password, "changed=password reason=rehash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, url string) {
				mustUp(t, url, `[]`)
				db := dbtest.Open(t, url)
				u := models.User{Subject: "s1", Username: "legacy", PasswordHash: tc.stored, CreatedAt: 1, Enabled: 1}
				if _, err := db.Bun.NewInsert().Model(&u).Exec(context.Background()); err != nil {
					t.Fatal(err)
				}
				file := `[{"username": "legacy", "password": ` + jsonString(tc.password) + `}]`
				// t=2 makes owasp-alt-params (t=1) weaker than configured.
				r := mustUp(t, url, file, "--argon2-iterations", "2")
				summary(t, r.stderr, 0, 1, 0)
				if !strings.Contains(r.stderr, tc.want) {
					t.Fatalf("want %q in:\n%s", tc.want, r.stderr)
				}
				got := getUser(t, url, "legacy")
				if !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=64,t=2,p=1$") || !verify(t, got, tc.password) {
					t.Fatalf("not re-hashed with the configured parameters: %s", got.PasswordHash)
				}
				r = mustUp(t, url, file, "--argon2-iterations", "2")
				summary(t, r.stderr, 0, 0, 1)
			})
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestInvalidFileLeavesDatabaseUntouched(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		mustUp(t, url, threeUsers)
		before := dump(t, url)
		for _, bad := range []string{
			`[{"username": "alice", "password": "changed-but-file-bad"}, {"username": "alice", "password": "dup"}]`,
			`[{"username": "new-user", "password": "pw"}, {"username": "x"}]`,
			`[{"username": "new-user", "password": "pw"},`,
		} {
			r := up(t, url, bad)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2:\n%s", r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "usersync: ") || !strings.Contains(r.stderr, "invalid users file") {
				t.Fatalf("stderr: %s", r.stderr)
			}
			if after := dump(t, url); after != before {
				t.Fatalf("an invalid file changed the database")
			}
		}
	})
}

func TestInvalidFileCreatesNoDatabase(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "fresh.db")
	r := up(t, "sqlite://"+dbPath, `[{"username": "a"}]`)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2", r.code)
	}
	if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the database file was created for an invalid users file: %v", err)
	}
	r = cli(t, nil, "", "up", "--database-url", "sqlite://"+dbPath, "--users-file", filepath.Join(dir, "missing.json"))
	if r.code != 2 || !strings.Contains(r.stderr, "missing.json: no such file or directory") {
		t.Fatalf("missing file: exit %d, %s", r.code, r.stderr)
	}
}

func TestBothFileForms(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		r := mustUp(t, url, `{"users": [{"username": "alice", "password": "pw-alice-1"}]}`)
		summary(t, r.stderr, 1, 0, 0)
		r = mustUp(t, url, `[{"username": "alice", "password": "pw-alice-1"}, {"username": "bob", "password": "pw-bob-1"}]`)
		summary(t, r.stderr, 1, 0, 1)
	})
}

func TestUsersFromStdin(t *testing.T) {
	url := dbtest.SQLiteURL(t)
	r := cli(t, nil, threeUsers, "up", "--database-url", url, "--users-file", "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	summary(t, r.stderr, 3, 0, 0)
}

func TestJSONLogs(t *testing.T) {
	url := dbtest.SQLiteURL(t)
	path := writeFile(t, threeUsers)
	r := cli(t, nil, "", "up", "--database-url", url, "--users-file", path, "--log-format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON record: %s", line)
		}
		if rec["msg"] == "sync complete" {
			found = rec["created"] == 3.0 && rec["updated"] == 0.0 && rec["unchanged"] == 0.0
		}
	}
	if !found {
		t.Fatalf("no summary record with created=3:\n%s", r.stderr)
	}
	for _, pw := range passwords {
		if strings.Contains(r.stderr, pw) {
			t.Fatal("JSON logs show a password")
		}
	}
	// Errors in JSON mode are JSON records too.
	r = cli(t, map[string]string{"LOG_FORMAT": "json"}, `[{"username": 1}]`, "up", "--database-url", url, "--users-file", "-")
	var rec map[string]any
	if r.code != 2 || json.Unmarshal([]byte(strings.TrimSpace(r.stderr)), &rec) != nil || rec["problems"] == nil {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
}
