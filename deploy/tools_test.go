// Package deploy checks the deployment files against what they promise: the
// Dockerfile builds the way `make build-static` does, docker-compose.yml
// wires PostgreSQL and usersync as documented, the Helm chart renders the
// user-sync init container for every values file under ci/, and the binary
// run exactly as the chart runs it syncs users into PostgreSQL.
package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// helmModule is the Helm the chart tests run, built from source through the
// Go module proxy (no binary is downloaded).
const helmModule = "helm.sh/helm/v3/cmd/helm@v3.21.4"

const (
	chartDir  = "helm/barycenter"
	testVer   = "v0.0.0-deploytest"
	repoRoot  = ".."
	imageUser = "65532"
)

var tools struct {
	dir string // removed by TestMain

	helmOnce sync.Once
	helm     string
	helmErr  error

	binOnce sync.Once
	bin     string
	binErr  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "usersync-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tools.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needHelm skips a test that runs Helm under -short, except under CI=true,
// where the chart is always checked.
func needHelm(t *testing.T) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("-short: skipping Helm (it compiles from source on a cold build cache)")
	}
}

// helmPath builds Helm once per test run. `go install` links it once; a
// `go run` per call would pay about a second of module loading each time.
func helmPath(t *testing.T) string {
	t.Helper()
	needHelm(t)
	tools.helmOnce.Do(func() {
		gobin := filepath.Join(tools.dir, "helmbin")
		cmd := exec.Command("go", "install", helmModule)
		cmd.Env = append(os.Environ(), "GOBIN="+gobin)
		if out, err := cmd.CombinedOutput(); err != nil {
			tools.helmErr = fmt.Errorf("go install %s: %v\n%s", helmModule, err, out)
			return
		}
		tools.helm = filepath.Join(gobin, "helm")
	})
	if tools.helmErr != nil {
		t.Fatal(tools.helmErr)
	}
	return tools.helm
}

// helm runs Helm with its cache, config and data directories in the test's
// temporary directory, and returns its standard output.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmPath(t), args...)
	home := filepath.Join(tools.dir, "helmhome")
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// usersyncBinary builds usersync once per test run with `make build-static`,
// the command the Dockerfile runs, so the tests exercise the image's binary.
func usersyncBinary(t *testing.T) string {
	t.Helper()
	tools.binOnce.Do(func() {
		bin := filepath.Join(tools.dir, "usersync")
		cmd := exec.Command("make", "--no-print-directory", "build-static", "GO=go", "BIN="+bin, "VERSION="+testVer)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			tools.binErr = fmt.Errorf("make build-static: %v\n%s", err, out)
			return
		}
		tools.bin = bin
	})
	if tools.binErr != nil {
		t.Fatal(tools.binErr)
	}
	return tools.bin
}
