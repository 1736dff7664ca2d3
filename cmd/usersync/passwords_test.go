package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/barycenter/usersync/internal/dbtest"
	"github.com/barycenter/usersync/internal/password"
)

// independent returns hashes made by the argon2 command of the reference C
// implementation, by password (internal/password/testdata/argon2-cli.json).
func independent(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../internal/password/testdata/argon2-cli.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Vectors []struct{ Password, PHC string }
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, x := range v.Vectors {
		out[x.Password] = x.PHC
	}
	return out
}

// upEnv runs `usersync up` on url with the users file content and the
// given environment.
func upEnv(t *testing.T, env map[string]string, url, users string, extra ...string) result {
	t.Helper()
	path := writeFile(t, users)
	return cli(t, env, "", append([]string{"up", "--database-url", url, "--users-file", path}, extra...)...)
}

// setHash overwrites a stored password hash, as the identity provider does
// when a user changes their password.
func setHash(t *testing.T, url, username, phc string) {
	t.Helper()
	db := dbtest.Open(t, url)
	_, err := db.Bun.NewUpdate().Table("users").Set("password_hash = ?", phc).Where("username = ?", username).Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
}

func lowHash(t *testing.T, pw string) string {
	t.Helper()
	phc, err := password.Generate(pw, password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	return phc
}

func TestUpStoresPreHashedVerbatim(t *testing.T) {
	vec := independent(t)
	bobHash, dHash := vec["independent-default"], vec["argon2d-from-cli"]
	file := `[{"username": "bob", "password_hash": ` + jsonString(bobHash) + `, "email": "bob@example.com"},
	          {"username": "dora", "password_hash": ` + jsonString(dHash) + `}]`
	dbtest.Each(t, func(t *testing.T, url string) {
		r := mustUp(t, url, file)
		summary(t, r.stderr, 2, 0, 0)
		bob, dora := getUser(t, url, "bob"), getUser(t, url, "dora")
		if bob.PasswordHash != bobHash || dora.PasswordHash != dHash {
			t.Fatalf("not stored verbatim:\n%s\n%s", bob.PasswordHash, dora.PasswordHash)
		}
		if !verify(t, bob, "independent-default") || verify(t, bob, "independent-default ") {
			t.Fatal("the stored hash does not verify its password only")
		}
		if strings.Contains(r.stderr, bobHash) {
			t.Fatal("the logs show a hash")
		}

		before := dump(t, url)
		r = mustUp(t, url, file)
		summary(t, r.stderr, 0, 0, 2)
		if after := dump(t, url); after != before {
			t.Fatalf("an unchanged re-run wrote:\n%s\n%s", before, after)
		}

		// A hash changed in the database is restored (policy always);
		// a new hash in the file replaces the stored one.
		setHash(t, url, "bob", lowHash(t, "changed-in-the-database"))
		newHash := vec["two-lanes"]
		r = mustUp(t, url, `[{"username": "bob", "password_hash": `+jsonString(newHash)+`},
		                     {"username": "dora", "password_hash": `+jsonString(dHash)+`}]`)
		summary(t, r.stderr, 0, 1, 1)
		if !strings.Contains(r.stderr, `msg="updated user" username=bob changed=password`+"\n") {
			t.Fatalf("want bob's password updated, without rehash:\n%s", r.stderr)
		}
		if got := getUser(t, url, "bob").PasswordHash; got != newHash {
			t.Fatalf("stored %s, want %s", got, newHash)
		}
	})
}

func TestUpWeakHashes(t *testing.T) {
	weak := independent(t)["cli-defaults"] // m=4096,t=3,p=1
	file := `[{"username": "legacy", "password_hash": ` + jsonString(weak) + `}]`
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		ok    bool
	}{
		{"refused by default", nil, nil, false},
		{"--allow-weak-hashes", nil, []string{"--allow-weak-hashes"}, true},
		{"ALLOW_WEAK_HASHES", map[string]string{"ALLOW_WEAK_HASHES": "true"}, nil, true},
		{"a lower --min-hash-params", nil, []string{"--min-hash-params", "m=4096,t=3,p=1"}, true},
		{"MIN_HASH_PARAMS above the hash", map[string]string{"MIN_HASH_PARAMS": "m=4096,t=4,p=1"}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, url string) {
				mustUp(t, url, threeUsers)
				before := dump(t, url)
				r := upEnv(t, tc.env, url, file, tc.flags...)
				if !tc.ok {
					if r.code != 2 || !strings.Contains(r.stderr, `users[0] "legacy": password_hash: argon2 parameters below the floor`) {
						t.Fatalf("exit %d, want 2 naming the user:\n%s", r.code, r.stderr)
					}
					if after := dump(t, url); after != before {
						t.Fatal("a refused file changed the database")
					}
					return
				}
				if r.code != 0 {
					t.Fatalf("exit %d:\n%s", r.code, r.stderr)
				}
				if got := getUser(t, url, "legacy").PasswordHash; got != weak {
					t.Fatalf("stored %s", got)
				}
			})
		})
	}
	if r := cli(t, nil, "", "validate", "--users-file", "-", "--min-hash-params", "m=lots"); r.code != 2 || !strings.Contains(r.stderr, "--min-hash-params") {
		t.Fatalf("a bad --min-hash-params: exit %d %s", r.code, r.stderr)
	}
}

func TestUpPasswordsFromEnvAndFile(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "carol")
	if err := os.WriteFile(secret, []byte("carol-from-a-mounted-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := `[{"username": "bob", "password_env": "BOB_PASSWORD"},
	          {"username": "carol", "password_file": ` + jsonString(secret) + `}]`
	env := map[string]string{"BOB_PASSWORD": "bob-from-the-environment"}
	dbtest.Each(t, func(t *testing.T, url string) {
		r := upEnv(t, env, url, file)
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s", r.code, r.stderr)
		}
		summary(t, r.stderr, 2, 0, 0)
		if !verify(t, getUser(t, url, "bob"), "bob-from-the-environment") {
			t.Fatal("bob's password is not the variable's")
		}
		if !verify(t, getUser(t, url, "carol"), "carol-from-a-mounted-secret") {
			t.Fatal("carol's password is not the file's, without its newline")
		}
		if strings.Contains(r.stderr, "from-the-environment") || strings.Contains(r.stderr, "mounted-secret") {
			t.Fatal("the logs show a password")
		}
		r = upEnv(t, env, url, file)
		summary(t, r.stderr, 0, 0, 2)

		// A changed secret is a changed password (policy always).
		r = upEnv(t, map[string]string{"BOB_PASSWORD": "bob-rotated"}, url, file)
		summary(t, r.stderr, 0, 1, 1)
		if !verify(t, getUser(t, url, "bob"), "bob-rotated") {
			t.Fatal("bob's rotated password was not stored")
		}

		// Missing secrets fail before the database is touched.
		before := dump(t, url)
		for _, tc := range []struct {
			name, file string
			env        map[string]string
			want       string
		}{
			{"unset variable", file, nil, `users[0] "bob": password_env: variable "BOB_PASSWORD" is not set`},
			{"empty variable", file, map[string]string{"BOB_PASSWORD": ""}, `variable "BOB_PASSWORD" is empty`},
			{"missing file", `[{"username": "carol", "password_file": ` + jsonString(secret+".missing") + `}]`, env,
				`users[0] "carol": password_file: file ` + jsonString(secret+".missing") + ` does not exist`},
		} {
			r := upEnv(t, tc.env, url, tc.file)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("%s: exit %d, want 2 with %q:\n%s", tc.name, r.code, tc.want, r.stderr)
			}
			if after := dump(t, url); after != before {
				t.Fatalf("%s: the database changed", tc.name)
			}
		}
	})

	// Not even a SQLite file is created.
	dbPath := filepath.Join(t.TempDir(), "fresh.db")
	r := upEnv(t, nil, "sqlite://"+dbPath, file)
	if r.code != 2 {
		t.Fatalf("exit %d, want 2", r.code)
	}
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Fatalf("the database file was created: %v", err)
	}
	// validate resolves too.
	path := writeFile(t, file)
	if r := cli(t, nil, "", "validate", "--users-file", path); r.code != 2 || !strings.Contains(r.stderr, "BOB_PASSWORD") {
		t.Fatalf("validate without the variable: exit %d %s", r.code, r.stderr)
	}
	if r := cli(t, env, "", "validate", "--users-file", path); r.code != 0 {
		t.Fatalf("validate with the variable: exit %d %s", r.code, r.stderr)
	}
}

func TestPasswordPolicy(t *testing.T) {
	argon2i := ""
	for _, v := range loadReference(t) {
		if v.Variant == "argon2i" {
			argon2i = v.PHC // the password is "argon2i-variant"
		}
	}
	tests := []struct {
		name   string
		policy string // password_policy in the file, or ""
		env    map[string]string
		flags  []string
		keeps  bool // the password set in the database survives
	}{
		{"default is always", "", nil, nil, false},
		{"always in the file", `"always"`, nil, nil, false},
		{"initial in the file", `"initial"`, nil, nil, true},
		{"--password-policy initial", "", nil, []string{"--password-policy", "initial"}, true},
		{"PASSWORD_POLICY initial", "", map[string]string{"PASSWORD_POLICY": "initial"}, nil, true},
		{"the file's always beats --password-policy initial", `"always"`, nil, []string{"--password-policy", "initial"}, false},
		{"the file's initial beats PASSWORD_POLICY always", `"initial"`, map[string]string{"PASSWORD_POLICY": "always"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, url string) {
				pol := ""
				if tc.policy != "" {
					pol = `, "password_policy": ` + tc.policy
				}
				file := `[{"username": "alice", "password": "from-the-file"` + pol + `}]`
				r := upEnv(t, tc.env, url, file, tc.flags...)
				summary(t, r.stderr, 1, 0, 0)
				if !verify(t, getUser(t, url, "alice"), "from-the-file") {
					t.Fatal("not created with the file's password")
				}
				// alice changes her password in the identity provider.
				changed := lowHash(t, "changed-by-alice")
				setHash(t, url, "alice", changed)
				r = upEnv(t, tc.env, url, file, tc.flags...)
				got := getUser(t, url, "alice")
				if tc.keeps {
					summary(t, r.stderr, 0, 0, 1)
					if got.PasswordHash != changed {
						t.Fatal("policy initial overwrote the user's password")
					}
				} else {
					summary(t, r.stderr, 0, 1, 0)
					if !verify(t, got, "from-the-file") {
						t.Fatal("policy always did not restore the file's password")
					}
				}
				// A weak stored hash is re-hashed only under policy always.
				setHash(t, url, "alice", argon2i)
				file = strings.Replace(file, "from-the-file", "argon2i-variant", 1)
				r = upEnv(t, tc.env, url, file, tc.flags...)
				got = getUser(t, url, "alice")
				if tc.keeps {
					summary(t, r.stderr, 0, 0, 1)
					if got.PasswordHash != argon2i {
						t.Fatal("policy initial re-hashed")
					}
				} else if !strings.Contains(r.stderr, "changed=password reason=rehash") || !verify(t, got, "argon2i-variant") {
					t.Fatalf("policy always did not re-hash:\n%s", r.stderr)
				}
			})
		})
	}
	r := cli(t, nil, "", "up", "--password-policy", "sometimes", "--users-file", "-")
	if r.code != 2 || !strings.Contains(r.stderr, "--password-policy") {
		t.Fatalf("an unknown policy: exit %d %s", r.code, r.stderr)
	}
}

// loadReference returns the reference C vectors of internal/password.
func loadReference(t *testing.T) []struct{ Password, PHC, Variant string } {
	t.Helper()
	b, err := os.ReadFile("../../internal/password/testdata/argon2-phc.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Valid []struct{ Password, PHC, Variant string }
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Valid
}

func TestMinPasswordLength(t *testing.T) {
	file := `[{"username": "alice", "password": "long-enough-passphrase"},
	          {"username": "shorty", "password": "tiny-pw"},
	          {"username": "envy", "password_env": "ENVY_PASSWORD"}]`
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		want  []string // problems listed; none: accepted
	}{
		{"off by default", map[string]string{"ENVY_PASSWORD": "e"}, nil, nil},
		{"flag", map[string]string{"ENVY_PASSWORD": "e"}, []string{"--min-password-length", "12"}, []string{
			`users[1] "shorty": password: the password is shorter than 12 characters`,
			`users[2] "envy": password_env: the password is shorter than 12 characters`}},
		{"MIN_PASSWORD_LENGTH", map[string]string{"ENVY_PASSWORD": "e-long-enough", "MIN_PASSWORD_LENGTH": "8"}, nil, []string{
			`users[1] "shorty": password: the password is shorter than 8 characters`}},
		{"met", map[string]string{"ENVY_PASSWORD": "e-long-enough"}, []string{"--min-password-length", "7"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, url string) {
				mustUp(t, url, `[]`)
				before := dump(t, url)
				r := upEnv(t, tc.env, url, file, tc.flags...)
				if len(tc.want) == 0 {
					if r.code != 0 {
						t.Fatalf("exit %d:\n%s", r.code, r.stderr)
					}
					summary(t, r.stderr, 3, 0, 0)
					return
				}
				if r.code != 2 {
					t.Fatalf("exit %d, want 2:\n%s", r.code, r.stderr)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.stderr, w) {
						t.Fatalf("want %q in:\n%s", w, r.stderr)
					}
				}
				if strings.Contains(r.stderr, "tiny-pw") || strings.Contains(r.stderr, "e-long-enough") {
					t.Fatalf("the error shows a password:\n%s", r.stderr)
				}
				if after := dump(t, url); after != before {
					t.Fatal("a refused file changed the database")
				}
			})
		})
	}
	path := writeFile(t, file)
	r := cli(t, map[string]string{"ENVY_PASSWORD": "long-enough-too"}, "", "validate", "--users-file", path, "--min-password-length", "10")
	if r.code != 2 || !strings.Contains(r.stderr, `"shorty"`) || strings.Contains(r.stderr, "tiny-pw") {
		t.Fatalf("validate: exit %d %s", r.code, r.stderr)
	}
}

func TestHash(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string // the password the output must verify; "" for a refusal
		err   string
	}{
		{"a line", "pipe-password\n", nil, "pipe-password", ""},
		{"no newline", "pipe-password", nil, "pipe-password", ""},
		{"CRLF", "pipe-password\r\n", nil, "pipe-password", ""},
		{"the first line only", "first-line\nsecond-line\n", nil, "first-line", ""},
		{"spaces kept", " spaced password \n", nil, " spaced password ", ""},
		{"unicode", "pässwörd ✓\n", nil, "pässwörd ✓", ""},
		{"1024 bytes", strings.Repeat("p", 1024) + "\n", nil, strings.Repeat("p", 1024), ""},
		{"empty", "", nil, "", "the password is empty"},
		{"an empty line", "\nsecond-line\n", nil, "", "the password is empty"},
		{"1025 bytes", strings.Repeat("p", 1025) + "\n", nil, "", "longer than 1024 bytes"},
		{"NUL", "a\x00b\n", nil, "", "contains a NUL character"},
		{"minimum length", "short\n", []string{"--min-password-length", "6"}, "", "shorter than 6 characters"},
		{"minimum length met", "short!\n", []string{"--min-password-length", "6"}, "short!", ""},
		{"an argument", "pw\n", []string{"extra"}, "", "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, nil, tc.stdin, append([]string{"hash"}, tc.args...)...)
			if tc.err != "" {
				if r.code != 2 || !strings.Contains(r.stderr, tc.err) || r.stdout != "" {
					t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", r.code, r.stdout, r.stderr, tc.err)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			phc := strings.TrimSuffix(r.stdout, "\n")
			if strings.Contains(phc, "\n") || !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("want one PHC line with the configured parameters, got %q", r.stdout)
			}
			ok, err := password.Verify(phc, tc.want)
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v", ok, err)
			}
			if ok, _ := password.Verify(phc, tc.want+"x"); ok {
				t.Fatal("the hash verifies another password")
			}
		})
	}
	r := cli(t, nil, "", "hash", "--params", "--argon2-parallelism", "2")
	if r.code != 0 || r.stdout != "argon2id m=64,t=1,p=2 salt=16B hash=32B\n" {
		t.Fatalf("--params: exit %d %q", r.code, r.stdout)
	}
	r = cli(t, nil, "pw\n", "hash", "--argon2-iterations", "0")
	if r.code != 2 {
		t.Fatalf("iterations 0: exit %d", r.code)
	}
}

// TestHashThenUp feeds hash's output to up as a password_hash.
func TestHashThenUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		r := cli(t, nil, "made-by-usersync-hash\n", "hash")
		if r.code != 0 {
			t.Fatalf("hash: exit %d %s", r.code, r.stderr)
		}
		phc := strings.TrimSpace(r.stdout)
		file := `[{"username": "alice", "password_hash": ` + jsonString(phc) + `}]`
		// The test parameters (m=64) are below the default floor.
		if r := up(t, url, file); r.code != 2 {
			t.Fatalf("a weak hash was accepted: exit %d", r.code)
		}
		mustUp(t, url, file, "--allow-weak-hashes")
		if got := getUser(t, url, "alice"); got.PasswordHash != phc || !verify(t, got, "made-by-usersync-hash") {
			t.Fatalf("stored %s", got.PasswordHash)
		}
	})
}
