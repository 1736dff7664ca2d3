package deploy

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/barycenter/usersync/internal/dbtest"
	"github.com/barycenter/usersync/internal/password"
)

// pod is the user-sync init container as the chart renders it, laid out on
// this machine: the users Secret written into a directory the way the
// kubelet mounts it, and the container's command and environment mapped
// onto the built binary, that directory and a test database.
type pod struct {
	bin       string
	args      []string
	env       []string
	mountPath string // where the chart mounts the users Secret: /secrets
	secrets   string // the directory standing in for it
	usersFile string // the file the container reads, in secrets
	workdir   string // the image's WORKDIR
}

// inlineValues is the values file whose rendered Secret the tests mount.
var inlineValues = filepath.Join(chartDir, "ci", "inline-users-values.yaml")

// chartPod renders the chart with inlineValues and lays out its user-sync
// init container against the database at dbURL.
func chartPod(t *testing.T, dbURL string) *pod {
	t.Helper()
	m := render(t, "--values", inlineValues)
	_, spec := m.deployment(t)
	us := spec.initContainer("user-sync")
	if us == nil {
		t.Fatal("no user-sync init container")
	}
	mnt, vol := us.mount("users"), spec.volume("users")
	if mnt == nil || vol == nil || vol.Secret == nil {
		t.Fatal("no users Secret volume")
	}
	p := &pod{bin: usersyncBinary(t), mountPath: mnt.MountPath, secrets: t.TempDir(), workdir: t.TempDir()}

	// The kubelet writes each projected key of the Secret as a file.
	secret := m.find("Secret", vol.Secret.SecretName)
	if secret == nil {
		t.Fatalf("no Secret %s rendered", vol.Secret.SecretName)
	}
	for _, item := range vol.Secret.Items {
		path := filepath.Join(p.secrets, item.Path)
		if err := os.WriteFile(path, []byte(secretValue(t, secret, item.Key)), 0o440); err != nil {
			t.Fatal(err)
		}
	}

	// The command: the image's binary in place of "usersync" on its PATH.
	if len(us.Command) == 0 || us.Command[0] != "usersync" {
		t.Fatalf("command = %q, want usersync first", us.Command)
	}
	p.args = append(append([]string{}, us.Command[1:]...), us.Args...)

	// The environment, exactly the container's: Secret references resolved,
	// paths under the mount moved to the stand-in directory.
	dbSecret, _ := us.env("DATABASE_URL").secretRef()
	for _, e := range us.Env {
		switch name, _ := e.secretRef(); {
		case name == dbSecret && name != "":
			p.env = append(p.env, e.Name+"="+dbURL)
		case name != "":
			t.Fatalf("env %s: Secret %s has no stand-in", e.Name, name)
		default:
			v := e.Value
			if strings.HasPrefix(v, p.mountPath+"/") {
				v = filepath.Join(p.secrets, strings.TrimPrefix(v, p.mountPath+"/"))
			}
			if e.Name == "USERS_FILE" {
				p.usersFile = v
			}
			p.env = append(p.env, e.Name+"="+v)
		}
	}
	if p.usersFile == "" {
		t.Fatal("user-sync has no USERS_FILE")
	}
	// Low Argon2 cost: the subject here is the contract, not the hashing.
	p.env = append(p.env, "ARGON2_MEMORY=64", "ARGON2_ITERATIONS=1")
	return p
}

// run runs the init container once and returns its exit status and
// standard error.
func (p *pod) run(t *testing.T) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, p.args...)
	cmd.Env = p.env
	cmd.Dir = p.workdir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String()
	}
	t.Fatalf("run usersync: %v", err)
	return 0, ""
}

type dbUser struct{ email, hash string }

func readUsers(t *testing.T, dbURL string) map[string]dbUser {
	t.Helper()
	db := dbtest.Open(t, dbURL)
	rows, err := db.SQL.Query("SELECT username, COALESCE(email, ''), password_hash FROM users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]dbUser{}
	for rows.Next() {
		var name string
		var u dbUser
		if err := rows.Scan(&name, &u.email, &u.hash); err != nil {
			t.Fatal(err)
		}
		out[name] = u
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestInitContainerContract runs the user-sync init container as the chart
// defines it, twice: the users of the Secret exist after the first run, and
// an edited Secret is applied by the second (what a pod restart after
// `helm upgrade` does).
func TestInitContainerContract(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		p := chartPod(t, dbURL)

		code, out := p.run(t)
		if code != 0 {
			t.Fatalf("first run: exit %d\n%s", code, out)
		}
		for _, pw := range []string{"correct-horse-battery-staple", "another-strong-passphrase"} {
			if strings.Contains(out, pw) {
				t.Error("a plaintext password appears in the output")
			}
		}
		first := readUsers(t, dbURL)
		want := map[string]string{"alice": "alice@example.com", "bob": "bob@example.com"}
		checkUsers(t, first, want)
		if ok, err := password.Verify(first["alice"].hash, "correct-horse-battery-staple"); !ok || err != nil {
			t.Errorf("alice's hash does not verify her password (%v)", err)
		}

		edited := `[
  {"username": "alice", "password": "correct-horse-battery-staple", "email": "alice@example.com"},
  {"username": "bob", "password": "another-strong-passphrase", "email": "bob@corp.example"},
  {"username": "carol", "password": "a-third-long-passphrase"}
]`
		if err := os.WriteFile(p.usersFile, []byte(edited), 0o440); err != nil {
			t.Fatal(err)
		}
		if code, out := p.run(t); code != 0 {
			t.Fatalf("second run: exit %d\n%s", code, out)
		}
		second := readUsers(t, dbURL)
		checkUsers(t, second, map[string]string{"alice": "alice@example.com", "bob": "bob@corp.example", "carol": ""})
		if second["alice"].hash != first["alice"].hash {
			t.Error("alice was unchanged, but her hash was rewritten")
		}
		if ok, err := password.Verify(second["carol"].hash, "a-third-long-passphrase"); !ok || err != nil {
			t.Errorf("carol's hash does not verify her password (%v)", err)
		}
	})
}

func checkUsers(t *testing.T, got map[string]dbUser, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d users in the database, want %d", len(got), len(want))
	}
	for name, email := range want {
		u, ok := got[name]
		switch {
		case !ok:
			t.Errorf("user %s missing", name)
		case u.email != email:
			t.Errorf("%s: email %q, want %q", name, u.email, email)
		case !strings.HasPrefix(u.hash, "$argon2id$"):
			t.Errorf("%s: password_hash is not an Argon2id PHC string", name)
		}
	}
}
