package deploy

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/barycenter/usersync/internal/userfile"
)

const release = "rel" // fullname rel-barycenter

// chartCase is what one values file under ci/ must render.
type chartCase struct {
	sync        bool              // user-sync init container present
	usersSecret string            // Secret mounted at /secrets
	usersKey    string            // its key projected as users.json
	inline      bool              // the chart renders the users Secret itself
	dbSecret    string            // Secret holding the database URL
	dbKey       string            // its key
	dbInline    bool              // the chart renders the database Secret itself
	limits      map[string]string // init container resource limits
	env         map[string]string // extra init container env from userSync.env
	pvc         bool              // a PersistentVolumeClaim for the data volume
}

var chartCases = map[string]chartCase{
	"disabled-values.yaml": {
		dbSecret: release + "-barycenter-database", dbKey: "url", dbInline: true,
	},
	"inline-users-values.yaml": {
		sync: true, usersSecret: release + "-barycenter-users", usersKey: "users.json", inline: true,
		dbSecret: release + "-barycenter-database", dbKey: "url", dbInline: true,
		limits: map[string]string{"cpu": "200m", "memory": "256Mi"},
	},
	"existing-secret-values.yaml": {
		sync: true, usersSecret: "barycenter-users", usersKey: "users.json",
		dbSecret: release + "-barycenter-database", dbKey: "url", dbInline: true,
		limits: map[string]string{"cpu": "500m", "memory": "512Mi"},
		pvc:    true,
	},
	"database-secret-values.yaml": {
		sync: true, usersSecret: "idp-users", usersKey: "users-prod.json",
		dbSecret: "idp-database", dbKey: "url",
		limits: map[string]string{"cpu": "200m", "memory": "256Mi"},
		env:    map[string]string{"LOG_FORMAT": "json", "HASH_WORKERS": "1"},
	},
}

// values is the part of a values file the assertions compare against.
type values struct {
	Config struct {
		Database struct {
			URL string `yaml:"url"`
		} `yaml:"database"`
	} `yaml:"config"`
	UserSync struct {
		Users string `yaml:"users"`
	} `yaml:"userSync"`
}

func readValues(t *testing.T, path string) values {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v values
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if v.Config.Database.URL == "" {
		// The chart's default.
		v.Config.Database.URL = "sqlite:///app/data/barycenter.db?mode=rwc"
	}
	return v
}

func render(t *testing.T, args ...string) *manifest {
	t.Helper()
	out, err := helm(t, append([]string{"template", release, chartDir, "--namespace", "barycenter"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return parseManifest(t, out)
}

// TestChartValuesMatrix lints and renders the chart with every values file
// under ci/ and checks the objects each must produce.
func TestChartValuesMatrix(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		seen[name] = true
		tc, ok := chartCases[name]
		if !ok {
			t.Errorf("%s: no expectations in chartCases", f)
			continue
		}
		t.Run(name, func(t *testing.T) {
			if _, err := helm(t, "lint", "--strict", chartDir, "--values", f); err != nil {
				t.Fatal(err)
			}
			checkRender(t, tc, readValues(t, f), render(t, "--values", f))
		})
	}
	for name := range chartCases {
		if !seen[name] {
			t.Errorf("chartCases has %s, but ci/ has no such file", name)
		}
	}
}

func checkRender(t *testing.T, tc chartCase, v values, m *manifest) {
	meta, pod := m.deployment(t)

	// The identity provider reads the database URL from the Secret, and so
	// does user-sync.
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	main := &pod.Containers[0]
	if n, k := main.env("BARYCENTER__DATABASE__URL").secretRef(); n != tc.dbSecret || k != tc.dbKey {
		t.Errorf("main container BARYCENTER__DATABASE__URL from %s/%s, want %s/%s", n, k, tc.dbSecret, tc.dbKey)
	}
	db := m.find("Secret", tc.dbSecret)
	switch {
	case tc.dbInline && db == nil:
		t.Errorf("no database Secret %s rendered", tc.dbSecret)
	case tc.dbInline:
		if got := secretValue(t, db, tc.dbKey); got != v.Config.Database.URL {
			t.Errorf("database Secret holds %q, want config.database.url", got)
		}
		if meta.Annotations["checksum/database"] == "" {
			t.Error("no checksum/database annotation")
		}
	case db != nil:
		t.Errorf("database Secret %s rendered, but it is the user's", tc.dbSecret)
	}

	// The data volume: a claim when persistence is on, else an emptyDir.
	data := pod.volume("data")
	pvcName := release + "-barycenter-data"
	switch {
	case data == nil:
		t.Error("no data volume")
	case tc.pvc && (data.PersistentVolumeClaim == nil || data.PersistentVolumeClaim.ClaimName != pvcName || m.find("PersistentVolumeClaim", pvcName) == nil):
		t.Errorf("data volume = %+v, want the claim %s, rendered", data, pvcName)
	case !tc.pvc && (data.EmptyDir == nil || len(m.ofKind("PersistentVolumeClaim")) > 0):
		t.Errorf("data volume = %+v, want an emptyDir and no claim", data)
	}

	checkPasswords(t, v, m)

	us := pod.initContainer("user-sync")
	if !tc.sync {
		if len(pod.InitContainers) > 0 || us != nil {
			t.Errorf("init containers %+v rendered with userSync disabled", pod.InitContainers)
		}
		if pod.volume("users") != nil || m.find("Secret", release+"-barycenter-users") != nil {
			t.Error("users volume or Secret rendered with userSync disabled")
		}
		if _, ok := meta.Annotations["checksum/users"]; ok {
			t.Error("checksum/users annotation with userSync disabled")
		}
		return
	}
	if us == nil || len(pod.InitContainers) != 1 {
		t.Fatalf("init containers %+v, want user-sync alone", pod.InitContainers)
	}
	checkInitContainer(t, tc, us, pod, main)

	users := m.find("Secret", tc.usersSecret)
	switch {
	case tc.inline && users == nil:
		t.Fatalf("no users Secret %s rendered", tc.usersSecret)
	case tc.inline:
		got := secretValue(t, users, tc.usersKey)
		if got != v.UserSync.Users {
			t.Errorf("users Secret holds %q, want userSync.users", got)
		}
		if _, err := userfile.Parse(strings.NewReader(got), userfile.Limits{}); err != nil {
			t.Errorf("users Secret: %v", err)
		}
		if meta.Annotations["checksum/users"] == "" {
			t.Error("no checksum/users annotation")
		}
	case users != nil:
		t.Errorf("users Secret %s rendered, but it is the user's", tc.usersSecret)
	}
}

func checkInitContainer(t *testing.T, tc chartCase, us *container, pod podSpec, main *container) {
	t.Helper()
	if got, want := us.Image, "usersync:latest"; got != want {
		t.Errorf("image = %q, want %q", got, want)
	}
	if !slices.Equal(us.Command, []string{"usersync"}) || !slices.Equal(us.Args, []string{"up"}) {
		t.Errorf("command %q args %q, want [usersync] [up]", us.Command, us.Args)
	}
	if n, k := us.env("DATABASE_URL").secretRef(); n != tc.dbSecret || k != tc.dbKey {
		t.Errorf("DATABASE_URL from %s/%s, want %s/%s", n, k, tc.dbSecret, tc.dbKey)
	}
	usersFile := us.env("USERS_FILE")
	if usersFile == nil || usersFile.Value != imageEnv(t)["USERS_FILE"] {
		t.Fatalf("USERS_FILE = %+v, want the image's %s", usersFile, imageEnv(t)["USERS_FILE"])
	}
	for k, want := range tc.env {
		if e := us.env(k); e == nil || e.Value != want {
			t.Errorf("env %s = %+v, want %q from userSync.env", k, e, want)
		}
	}

	// The users Secret, read-only, its key projected where USERS_FILE points.
	mnt, vol := us.mount("users"), pod.volume("users")
	if mnt == nil || !mnt.ReadOnly || vol == nil || vol.Secret == nil {
		t.Fatalf("users mount %+v volume %+v, want a read-only Secret volume", mnt, vol)
	}
	if vol.Secret.SecretName != tc.usersSecret {
		t.Errorf("users volume from Secret %q, want %q", vol.Secret.SecretName, tc.usersSecret)
	}
	if len(vol.Secret.Items) != 1 || vol.Secret.Items[0].Key != tc.usersKey {
		t.Fatalf("users volume items %+v, want the key %q alone", vol.Secret.Items, tc.usersKey)
	}
	if got := filepath.Join(mnt.MountPath, vol.Secret.Items[0].Path); got != usersFile.Value {
		t.Errorf("users file mounted at %s, USERS_FILE is %s", got, usersFile.Value)
	}

	// SQLite lives on the data volume: same path in both containers.
	if d, md := us.mount("data"), main.mount("data"); d == nil || md == nil || d.MountPath != md.MountPath {
		t.Errorf("data mounts: user-sync %+v, main %+v, want the same path", d, md)
	}

	if !reflect.DeepEqual(us.Resources.Limits, tc.limits) {
		t.Errorf("resources.limits = %v, want %v", us.Resources.Limits, tc.limits)
	}
	if us.SecurityContext["readOnlyRootFilesystem"] != true {
		t.Errorf("securityContext = %v, want readOnlyRootFilesystem", us.SecurityContext)
	}
	if pod.SecurityContext["runAsNonRoot"] != true || pod.SecurityContext["runAsUser"] != 65532 {
		t.Errorf("pod securityContext = %v, want runAsNonRoot as %s", pod.SecurityContext, imageUser)
	}
}

// checkPasswords checks that no plaintext password of the values (the
// inline users', the database URL's) appears anywhere in the rendered
// manifest: not in a ConfigMap, an annotation or an env value. Secrets hold
// them base64-encoded in data, never in stringData.
func checkPasswords(t *testing.T, v values, m *manifest) {
	t.Helper()
	var secrets []string
	if v.UserSync.Users != "" {
		f, err := userfile.Parse(strings.NewReader(v.UserSync.Users), userfile.Limits{})
		if err != nil {
			t.Fatalf("userSync.users: %v", err)
		}
		for _, u := range f.Users {
			secrets = append(secrets, u.Password)
		}
	}
	if u, err := url.Parse(v.Config.Database.URL); err == nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	for _, s := range secrets {
		if strings.Contains(m.raw, s) {
			t.Errorf("a plaintext password from the values appears in the rendered manifest")
		}
	}
	for _, o := range m.objects {
		if o.Kind == "Secret" && len(o.StringData) > 0 {
			t.Errorf("Secret %s uses stringData", o.Metadata.Name)
		}
		if o.Kind == "ConfigMap" {
			for k, val := range o.Data {
				for _, s := range secrets {
					if strings.Contains(val, s) {
						t.Errorf("ConfigMap %s key %s holds a plaintext password", o.Metadata.Name, k)
					}
				}
			}
		}
	}
}

// writeValues writes a values file into a temporary directory.
func writeValues(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestChartChecksumFollowsUsers: editing the inline users changes the pod
// template (so `helm upgrade` restarts the pods and user-sync runs again);
// rendering the same users twice does not.
func TestChartChecksumFollowsUsers(t *testing.T) {
	checksum := func(users string) string {
		t.Helper()
		f := writeValues(t, "userSync:\n  enabled: true\n  users: '"+users+"'\n")
		meta, _ := render(t, "--values", f).deployment(t)
		c := meta.Annotations["checksum/users"]
		if c == "" {
			t.Fatal("no checksum/users annotation")
		}
		return c
	}
	a := checksum(`[{"username": "alice", "password": "pw-one-is-long-enough"}]`)
	again := checksum(`[{"username": "alice", "password": "pw-one-is-long-enough"}]`)
	b := checksum(`[{"username": "alice", "password": "pw-two-is-long-enough"}]`)
	if a != again {
		t.Errorf("same users, checksums %s and %s", a, again)
	}
	if a == b {
		t.Errorf("edited users, checksum unchanged: %s", a)
	}
}

// TestChartUsersAsList: userSync.users may also be a YAML list; the Secret
// then holds its JSON encoding.
func TestChartUsersAsList(t *testing.T) {
	f := writeValues(t, `userSync:
  enabled: true
  users:
    - username: alice
      password: correct-horse-battery-staple
      email: alice@example.com
    - username: bob
      password: another-strong-passphrase
`)
	m := render(t, "--values", f)
	s := m.find("Secret", release+"-barycenter-users")
	if s == nil {
		t.Fatal("no users Secret")
	}
	file, err := userfile.Parse(strings.NewReader(secretValue(t, s, "users.json")), userfile.Limits{})
	if err != nil {
		t.Fatalf("users Secret: %v", err)
	}
	var got []string
	for _, u := range file.Users {
		got = append(got, u.Username+"/"+u.Email.Value)
	}
	if want := []string{"alice/alice@example.com", "bob/"}; !slices.Equal(got, want) {
		t.Errorf("users = %q, want %q", got, want)
	}
}

// TestChartMainContainer: the identity provider's image, tag and args are
// values.
func TestChartMainContainer(t *testing.T) {
	_, pod := render(t, "--set", "image.repository=example/idp,image.tag=1.2.3,args={serve,--verbose}").deployment(t)
	c := pod.Containers[0]
	if c.Image != "example/idp:1.2.3" || !slices.Equal(c.Args, []string{"serve", "--verbose"}) {
		t.Errorf("main container image %q args %q", c.Image, c.Args)
	}
}

// TestChartRejects: values that cannot work fail the render with a message
// naming what to set.
func TestChartRejects(t *testing.T) {
	tests := []struct {
		name   string
		values string
		want   string
	}{
		{
			name:   "enabled without users",
			values: "userSync:\n  enabled: true\n",
			want:   "set userSync.users (development) or userSync.existingSecret (production)",
		},
		{
			name:   "inline users and a Secret",
			values: "userSync:\n  enabled: true\n  users: '[]'\n  existingSecret: s\n",
			want:   "set userSync.users or userSync.existingSecret, not both",
		},
		{
			name:   "no database",
			values: "config:\n  database:\n    url: ''\n",
			want:   "set config.database.url or database.existingSecret",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helm(t, "template", release, chartDir, "--values", writeValues(t, tc.values))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
