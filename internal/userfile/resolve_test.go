package userfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/barycenter/usersync/internal/password"
)

const (
	goodHash = "$argon2id$v=19$m=19456,t=2,p=1$nn/xMPV8K3Dv+HcHytJubQ$UKBtJva7r7Muzx/JLr4YA9k1gGrgGM1fhM9LCqXQW4s"
	weakHash = "$argon2id$v=19$m=4096,t=1,p=1$62QSxGgeBSHmX4GOC6mF1A$ldjrJGT5Kyt/DF8meKu7of5UguPIAGTVdX147s5h1LI"
)

// TestPasswordFields checks what each password field decodes to.
func TestPasswordFields(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want User
	}{
		{"inline", `{"username":"a","password":"pw"}`, User{Password: "pw"}},
		{"hash", `{"username":"a","password_hash":"` + goodHash + `"}`, User{PasswordHash: goodHash}},
		{"weak hash parses", `{"username":"a","password_hash":"` + weakHash + `"}`, User{PasswordHash: weakHash}},
		{"env", `{"username":"a","password_env":"A_PW"}`, User{PasswordEnv: "A_PW"}},
		{"file", `{"username":"a","password_file":"/run/secrets/a"}`, User{PasswordFile: "/run/secrets/a"}},
		{"policy initial", `{"username":"a","password":"pw","password_policy":"initial"}`, User{Password: "pw", PasswordPolicy: PolicyInitial}},
		{"policy always", `{"username":"a","password_env":"X","password_policy":"always"}`, User{PasswordEnv: "X", PasswordPolicy: PolicyAlways}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader("["+tc.in+"]"), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Line, tc.want.Username = 1, "a"
			if got := f.Users[0]; !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestResolve reads passwords from a map of variables and from real files.
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	plain := write("plain", "from-a-file")
	newline := write("newline", "from-a-file\n")
	crlf := write("crlf", "from-a-file\r\n")
	twoNewlines := write("two-newlines", "from-a-file\n\n")
	empty := write("empty", "")
	onlyNewline := write("only-newline", "\n")
	nul := write("nul", "a\x00b")
	latin1 := write("latin1", "p\xe4ss")
	long := write("long", strings.Repeat("x", 1025))
	vars := map[string]string{"SET": "from-the-env", "EMPTY": "", "SPACE": " padded \n", "SHORT": "sh0rt", "UNICODE": "pässwörd"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }

	tests := []struct {
		name   string
		user   string // one user object, username "a"
		opts   ResolveOptions
		want   string         // the resolved password, when err is ""
		policy PasswordPolicy // the resolved policy, when err is ""
		err    string         // part of the problem listed
	}{
		{"inline", `"password":"inline-pw"`, ResolveOptions{}, "inline-pw", PolicyAlways, ""},
		{"env", `"password_env":"SET"`, ResolveOptions{}, "from-the-env", PolicyAlways, ""},
		{"env kept exactly", `"password_env":"SPACE"`, ResolveOptions{}, " padded \n", PolicyAlways, ""},
		{"env unset", `"password_env":"UNSET"`, ResolveOptions{}, "", "", `users[0] "a": password_env: variable "UNSET" is not set`},
		{"env empty", `"password_env":"EMPTY"`, ResolveOptions{}, "", "", `password_env: variable "EMPTY" is empty`},
		{"file", `"password_file":"` + plain + `"`, ResolveOptions{}, "from-a-file", PolicyAlways, ""},
		{"file newline trimmed", `"password_file":"` + newline + `"`, ResolveOptions{}, "from-a-file", PolicyAlways, ""},
		{"file CRLF trimmed", `"password_file":"` + crlf + `"`, ResolveOptions{}, "from-a-file", PolicyAlways, ""},
		{"file one newline trimmed only", `"password_file":"` + twoNewlines + `"`, ResolveOptions{}, "from-a-file\n", PolicyAlways, ""},
		{"file missing", `"password_file":"` + filepath.Join(dir, "missing") + `"`, ResolveOptions{}, "", "", "password_file: file \"" + filepath.Join(dir, "missing") + "\" does not exist"},
		{"file is a directory", `"password_file":"` + dir + `"`, ResolveOptions{}, "", "", "cannot be read: is a directory"},
		{"file empty", `"password_file":"` + empty + `"`, ResolveOptions{}, "", "", "is empty"},
		{"file only a newline", `"password_file":"` + onlyNewline + `"`, ResolveOptions{}, "", "", "is empty"},
		{"file NUL", `"password_file":"` + nul + `"`, ResolveOptions{}, "", "", "holds a NUL character"},
		{"file not UTF-8", `"password_file":"` + latin1 + `"`, ResolveOptions{}, "", "", "holds bytes that are not valid UTF-8"},
		{"file too long", `"password_file":"` + long + `"`, ResolveOptions{}, "", "", "holds more than 1024 bytes"},
		{"file longer than a set limit", `"password_file":"` + plain + `"`, ResolveOptions{MaxPasswordLen: 5}, "", "", "holds more than 5 bytes"},
		{"min length inline", `"password":"sh0rt"`, ResolveOptions{MinPasswordLen: 6}, "", "", `users[0] "a": password: the password is shorter than 6 characters`},
		{"min length inline met", `"password":"sh0rt"`, ResolveOptions{MinPasswordLen: 5}, "sh0rt", PolicyAlways, ""},
		{"min length counts characters", `"password_env":"UNICODE"`, ResolveOptions{MinPasswordLen: 8}, "pässwörd", PolicyAlways, ""},
		{"min length env", `"password_env":"SHORT"`, ResolveOptions{MinPasswordLen: 12}, "", "", "password_env: the password is shorter than 12 characters"},
		{"min length file", `"password_file":"` + plain + `"`, ResolveOptions{MinPasswordLen: 12}, "", "", "password_file: the password is shorter than 12 characters"},
		{"hash at the floor", `"password_hash":"` + goodHash + `"`, ResolveOptions{}, "", PolicyAlways, ""},
		{"hash below the floor", `"password_hash":"` + weakHash + `"`, ResolveOptions{}, "", "", "password_hash: argon2 parameters below the floor: m=4096,t=1,p=1 is weaker than m=19456,t=2,p=1 (allow with --allow-weak-hashes)"},
		{"weak hash allowed", `"password_hash":"` + weakHash + `"`, ResolveOptions{AllowWeakHashes: true}, "", PolicyAlways, ""},
		{"hash above a lowered floor", `"password_hash":"` + weakHash + `"`, ResolveOptions{HashFloor: password.Floor{Memory: 4096, Iterations: 1, Parallelism: 1}}, "", PolicyAlways, ""},
		{"hash below a raised floor", `"password_hash":"` + goodHash + `"`, ResolveOptions{HashFloor: password.Floor{Memory: 65536}}, "", "", "is weaker than m=65536,t=0,p=0"},
		{"min length ignores hashes", `"password_hash":"` + goodHash + `"`, ResolveOptions{MinPasswordLen: 100}, "", PolicyAlways, ""},
		{"default policy", `"password":"pw"`, ResolveOptions{DefaultPolicy: PolicyInitial}, "pw", PolicyInitial, ""},
		{"own policy wins", `"password":"pw","password_policy":"always"`, ResolveOptions{DefaultPolicy: PolicyInitial}, "pw", PolicyAlways, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(`[{"username":"a",`+tc.user+`}]`), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			before := f.Users[0]
			err = Resolve(f, lookup, os.ReadFile, tc.opts)
			if tc.err != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Resolve = %v, want a *ValidationError with %q", err, tc.err)
				}
				if ve.Problems[0].Line != 1 {
					t.Fatalf("problem without its line: %+v", ve.Problems[0])
				}
				for _, secret := range []string{"from-a-file", "from-the-env", "sh0rt", "padded"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("the error shows a password: %v", err)
					}
				}
				if !reflect.DeepEqual(f.Users[0], before) {
					t.Fatalf("a failed Resolve changed the user: %+v", f.Users[0])
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if u := f.Users[0]; u.Password != tc.want || u.PasswordPolicy != tc.policy {
				t.Fatalf("password %q policy %q; want %q, %q", u.Password, u.PasswordPolicy, tc.want, tc.policy)
			}
		})
	}
}

// TestResolveListsEveryProblem checks that Resolve reports all users at
// once, in file order, with their lines.
func TestResolveListsEveryProblem(t *testing.T) {
	in := `[
  {"username": "a", "password_env": "NOPE_A"},
  {"username": "b", "password": "fine-password"},
  {"username": "c", "password_file": "/nonexistent/c"},
  {"username": "d", "password": "tiny"}
]`
	f, err := Parse(strings.NewReader(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	err = Resolve(f, func(string) (string, bool) { return "", false }, os.ReadFile, ResolveOptions{MinPasswordLen: 5})
	want := `invalid users file: 3 problems:
  line 2: users[0] "a": password_env: variable "NOPE_A" is not set
  line 4: users[2] "c": password_file: file "/nonexistent/c" does not exist
  line 5: users[3] "d": password: the password is shorter than 5 characters`
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
	if err := Resolve(f, nil, nil, ResolveOptions{DefaultPolicy: "sometimes"}); err == nil {
		t.Fatal("Resolve accepted an unknown default policy")
	}
}

// TestResolveHidesMistypedSecrets: a password typed into password_env or
// password_file by mistake is not shown in the message; a conventional
// variable name or an absolute path is.
func TestResolveHidesMistypedSecrets(t *testing.T) {
	tests := []struct {
		in, shown, hidden string
	}{
		{`[{"username": "a", "password_env": "Sekr1t-hunter2"}]`, "", "Sekr1t"},
		{`[{"username": "a", "password_file": "Sekr1t-hunter3"}]`, "", "Sekr1t"},
		{`[{"username": "a", "password_env": "ADMIN_PASSWORD"}]`, `"ADMIN_PASSWORD"`, ""},
		{`[{"username": "a", "password_file": "/secrets/admin"}]`, `"/secrets/admin"`, ""},
	}
	for _, tc := range tests {
		f, err := Parse(strings.NewReader(tc.in), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		missing := func(string) ([]byte, error) { return nil, os.ErrNotExist }
		err = Resolve(f, func(string) (string, bool) { return "", false }, missing, ResolveOptions{})
		if err == nil {
			t.Fatalf("%s: Resolve succeeded", tc.in)
		}
		if tc.hidden != "" && strings.Contains(err.Error(), tc.hidden) {
			t.Errorf("%s: the message shows the value: %v", tc.in, err)
		}
		if tc.shown != "" && !strings.Contains(err.Error(), tc.shown) {
			t.Errorf("%s: the message should name %s: %v", tc.in, tc.shown, err)
		}
	}
}
