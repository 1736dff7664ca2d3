package deploy

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/barycenter/usersync/internal/userfile"
)

// loadCompose loads a compose file the way `docker compose config` does:
// schema validation, interpolation from env, normalization.
func loadCompose(t *testing.T, content []byte, env map[string]string) (*types.Project, error) {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml"), Content: content}},
		Environment: env,
	})
}

// commentedService returns the compose file with its commented-out
// identity-provider service uncommented.
func commentedService(t *testing.T, content []byte) []byte {
	t.Helper()
	lines := strings.Split(string(content), "\n")
	start := -1
	for i, l := range lines {
		if l == "  # barycenter:" {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatal("docker-compose.yml: no commented barycenter service")
	}
	for i := start; i < len(lines) && strings.HasPrefix(lines[i], "  #"); i++ {
		lines[i] = "  " + strings.TrimPrefix(strings.TrimPrefix(lines[i], "  #"), " ")
	}
	return []byte(strings.Join(lines, "\n"))
}

func TestCompose(t *testing.T) {
	content, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadCompose(t, content, nil)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	root, _ := filepath.Abs(repoRoot)

	pg, ok := p.Services["postgres"]
	if !ok {
		t.Fatal("no postgres service")
	}
	if hc := pg.HealthCheck; hc == nil || hc.Disable || len(hc.Test) == 0 {
		t.Errorf("postgres healthcheck = %+v, want a test", hc)
	}

	us, ok := p.Services["usersync"]
	if !ok {
		t.Fatal("no usersync service")
	}
	if us.Build == nil || us.Build.Context != root || us.Build.Dockerfile != "Dockerfile" {
		t.Errorf("usersync build = %+v, want the Dockerfile at the repository root", us.Build)
	}
	if got := us.DependsOn["postgres"].Condition; got != types.ServiceConditionHealthy {
		t.Errorf("usersync depends_on postgres condition = %q, want %q", got, types.ServiceConditionHealthy)
	}
	if len(us.Command) > 0 && strings.Join(us.Command, " ") != "up" {
		t.Errorf("usersync command = %q, want up (or the image's default)", us.Command)
	}

	// The users file: the example, mounted read-only where the image
	// looks for it, and valid.
	usersPath := imageEnv(t)["USERS_FILE"]
	var mount *types.ServiceVolumeConfig
	for i, v := range us.Volumes {
		if v.Target == usersPath {
			mount = &us.Volumes[i]
		}
	}
	switch {
	case mount == nil:
		t.Errorf("usersync mounts nothing at %s (the image's USERS_FILE)", usersPath)
	case mount.Type != types.VolumeTypeBind || !mount.ReadOnly:
		t.Errorf("users file mount = %+v, want a read-only bind", *mount)
	case mount.Source != filepath.Join(root, "users.example.json"):
		t.Errorf("users file mount source = %s, want users.example.json", mount.Source)
	default:
		f, err := os.Open(mount.Source)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := userfile.Parse(f, userfile.Limits{}); err != nil {
			t.Errorf("%s: %v", mount.Source, err)
		}
	}
	if !us.ReadOnly {
		t.Error("usersync: want read_only: true (the image writes nothing outside the database)")
	}

	// DATABASE_URL points at the postgres service with its credentials.
	raw := us.Environment["DATABASE_URL"]
	if raw == nil {
		t.Fatal("usersync: DATABASE_URL not set")
	}
	u, err := url.Parse(*raw)
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	pass, _ := u.User.Password()
	env := func(k string) string {
		if v := pg.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	tests := []struct{ what, got, want string }{
		{"host", u.Hostname(), "postgres"},
		{"user", u.User.Username(), env("POSTGRES_USER")},
		{"password", pass, env("POSTGRES_PASSWORD")},
		{"database", strings.TrimPrefix(u.Path, "/"), env("POSTGRES_DB")},
	}
	for _, tc := range tests {
		if tc.got != tc.want || tc.got == "" {
			t.Errorf("DATABASE_URL %s = %q, want %q", tc.what, tc.got, tc.want)
		}
	}

	// The commented identity-provider service, once uncommented, is valid
	// and waits for usersync to finish.
	idp, err := loadCompose(t, commentedService(t, content), map[string]string{"BARYCENTER_IMAGE": "idp:test"})
	if err != nil {
		t.Fatalf("docker-compose.yml with the barycenter service uncommented does not load: %v", err)
	}
	b, ok := idp.Services["barycenter"]
	if !ok {
		t.Fatal("uncommented: no barycenter service")
	}
	if got := b.DependsOn["usersync"].Condition; got != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("barycenter depends_on usersync condition = %q, want %q", got, types.ServiceConditionCompletedSuccessfully)
	}
	if v := b.Environment["BARYCENTER__DATABASE__URL"]; v == nil || *v != *raw {
		t.Errorf("barycenter BARYCENTER__DATABASE__URL = %v, want usersync's DATABASE_URL", v)
	}
}
