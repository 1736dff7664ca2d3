package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// deployingSection returns the README's "## Deploying" section.
func deployingSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut("\n"+string(b), "\n## Deploying\n")
	if !ok {
		t.Fatal("README.md has no ## Deploying section")
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	return sec
}

// dedent drops each line's leading blanks, so text quoted inside a list
// item compares with the original.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, " \t")
	}
	return strings.Join(lines, "\n")
}

// missingComma is the seed page's users file with the comma between the
// two users left out: the README's invalid JSON example.
const missingComma = `[
  {
    "username": "alice",
    "password": "correct-horse-battery-staple",
    "email": "alice@example.com"
  }
  {
    "username": "bob",
    "password": "another-strong-passphrase",
    "email": "bob@example.com"
  }
]
`

// TestReadmeTroubleshooting runs the init container, as the chart defines
// it, into each failure the README's troubleshooting list describes, and
// checks the README quotes the first line it prints and the exit status.
func TestReadmeTroubleshooting(t *testing.T) {
	readme := deployingSection(t)
	tests := []struct {
		name  string
		db    string // DATABASE_URL
		setup func(t *testing.T, p *pod)
		code  int
		quote string // input the README shows, compared line by line
		// The README shows the database at the chart's example host.
		replace []string
	}{
		{
			name:    "database not reachable",
			db:      "postgres://barycenter:pw@127.0.0.1:1/barycenter",
			code:    1,
			replace: []string{"127.0.0.1:1", "postgres:5432"},
		},
		{
			name: "invalid JSON",
			db:   "postgres://barycenter:pw@127.0.0.1:1/barycenter",
			setup: func(t *testing.T, p *pod) {
				if err := os.WriteFile(p.usersFile, []byte(missingComma), 0o440); err != nil {
					t.Fatal(err)
				}
			},
			code:  2,
			quote: strings.Join(strings.SplitAfter(missingComma, "\n")[:8], ""),
		},
		{
			name: "users file missing",
			db:   "postgres://barycenter:pw@127.0.0.1:1/barycenter",
			setup: func(t *testing.T, p *pod) {
				if err := os.Remove(p.usersFile); err != nil {
					t.Fatal(err)
				}
			},
			code: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := chartPod(t, tc.db)
			// The chart leaves --wait at its default (60s): wait less here.
			p.env = append(p.env, "DATABASE_WAIT=1s")
			if tc.setup != nil {
				tc.setup(t, p)
			}
			code, out := p.run(t)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
			}
			// The error is the line that starts "usersync: " (retries are
			// logged before it).
			first := out
			if i := strings.Index(out, "\nusersync: "); i >= 0 {
				first = out[i+1:]
			}
			first, _, _ = strings.Cut(first, "\n")
			// The README shows the default wait; attempts vary with jitter.
			first = waited.ReplaceAllString(first, "after 1m0s (16 attempts)")
			// Paths as the container sees them.
			first = strings.ReplaceAll(first, p.secrets, p.mountPath)
			if len(tc.replace) == 2 {
				first = strings.ReplaceAll(first, tc.replace[0], tc.replace[1])
			}
			if !strings.Contains(readme, first+"\n") {
				t.Errorf("README's Deploying section does not quote the message:\n%s", first)
			}
			if tc.quote != "" && !strings.Contains(dedent(readme), dedent(tc.quote)) {
				t.Errorf("README's Deploying section does not show the input:\n%s", tc.quote)
			}
			want := strings.ToLower(tc.name) + "** (exit status " + strconv.Itoa(tc.code) + ")"
			if !strings.Contains(strings.ToLower(readme), want) {
				t.Errorf("README's troubleshooting list lacks %q", want)
			}
		})
	}
}

// TestReadmeCommands checks the README's commands against the chart: the
// init container's name in `kubectl logs`, and the Secret and key that
// `kubectl create secret` makes against the existing-secret values file.
var waited = regexp.MustCompile(`after \S+ \(\d+ attempts\)`)

func TestReadmeCommands(t *testing.T) {
	readme := deployingSection(t)
	_, spec := render(t, "--values", filepath.Join(chartDir, "ci", "existing-secret-values.yaml")).deployment(t)
	us := spec.initContainer("user-sync")
	vol := spec.volume("users")
	if us == nil || vol == nil || vol.Secret == nil || len(vol.Secret.Items) != 1 {
		t.Fatal("existing-secret values: no user-sync init container with a users Secret")
	}
	if want := "kubectl logs <pod-name> -c " + us.Name; !strings.Contains(readme, want) {
		t.Errorf("README lacks %q", want)
	}
	create := regexp.MustCompile(`kubectl create secret generic (\S+) --from-file=([^=\s]+)=`).FindStringSubmatch(readme)
	if create == nil {
		t.Fatal("README lacks a kubectl create secret generic … --from-file=KEY=… command")
	}
	if create[1] != vol.Secret.SecretName || create[2] != vol.Secret.Items[0].Key {
		t.Errorf("README creates Secret %s key %s; the chart mounts %s key %s",
			create[1], create[2], vol.Secret.SecretName, vol.Secret.Items[0].Key)
	}
}
