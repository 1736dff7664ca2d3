package main

import (
	"strings"
	"testing"

	"github.com/barycenter/usersync/internal/dbtest"
)

// TestUpRerunProvesPasswordsByFingerprint: the first run has no
// fingerprint to use, a re-run proves every password through it, and a
// password hash replaced behind usersync's back is still corrected.
func TestUpRerunProvesPasswordsByFingerprint(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		for _, tc := range []struct {
			name    string
			before  string // SQL run before the sync
			want    string // in the logs
			updated int
		}{
			{"cold", "", `msg="checked fingerprint" path=none buckets=2 proven=0`, 0},
			{"unchanged", "", `msg="checked fingerprint" path=top buckets=2 proven=3`, 0},
			{"hash replaced", "UPDATE users SET password_hash = '$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE username = 'bob'",
				`msg="checked fingerprint" path=top buckets=2 proven=`, 1},
			{"corrected", "", `msg="checked fingerprint" path=top buckets=2 proven=3`, 0},
		} {
			if tc.before != "" {
				db := dbtest.Open(t, url)
				if _, err := db.SQL.Exec(tc.before); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			r := mustUp(t, url, threeUsers, "--hash-workers", "1")
			if !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("%s: want %q in the logs:\n%s", tc.name, tc.want, r.stderr)
			}
			if tc.updated > 0 {
				summary(t, r.stderr, 0, tc.updated, 3-tc.updated)
				if u := getUser(t, url, "bob"); !verify(t, u, passwords["bob"]) {
					t.Fatalf("%s: bob's hash was not corrected", tc.name)
				}
			}
		}
	})
}
