package deploy

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, …
	args string
}

// parseDockerfile reads the instructions of a Dockerfile: comments and
// blank lines dropped, lines ending in a backslash joined to the next.
func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  []instruction
		cur  strings.Builder
		scan = bufio.NewScanner(f)
	)
	for scan.Scan() {
		line := strings.TrimSpace(scan.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " ")})
		cur.Reset()
	}
	if err := scan.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// finalStage returns the instructions after the last FROM.
func finalStage(ins []instruction) []instruction {
	for i := len(ins) - 1; i >= 0; i-- {
		if ins[i].cmd == "FROM" {
			return ins[i:]
		}
	}
	return nil
}

// imageEnv returns the ENV values of the final stage (KEY=value form).
func imageEnv(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, in := range finalStage(parseDockerfile(t, filepath.Join(repoRoot, "Dockerfile"))) {
		if in.cmd != "ENV" {
			continue
		}
		for _, kv := range strings.Fields(in.args) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("Dockerfile: ENV %q: use the KEY=value form", in.args)
			}
			env[k] = v
		}
	}
	return env
}

// TestDockerfileBuildsLikeMakefile checks that the image's build command is
// `make build-static`'s, word for word once the version is filled in.
func TestDockerfileBuildsLikeMakefile(t *testing.T) {
	cmd := exec.Command("make", "--no-print-directory", "-n", "build-static", "GO=go", "VERSION="+testVer)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make -n build-static: %v", err)
	}
	want := strings.Join(strings.Fields(string(out)), " ")

	var builds []string
	hasArg := false
	for _, in := range parseDockerfile(t, filepath.Join(repoRoot, "Dockerfile")) {
		switch {
		case in.cmd == "ARG" && strings.HasPrefix(in.args, "VERSION"):
			hasArg = true
		case in.cmd == "RUN" && strings.Contains(in.args, "go build"):
			got := strings.NewReplacer("${VERSION}", testVer, "$VERSION", testVer).Replace(in.args)
			builds = append(builds, got)
		}
	}
	if !hasArg {
		t.Error("Dockerfile: no ARG VERSION for the version stamp")
	}
	if len(builds) != 1 {
		t.Fatalf("Dockerfile: %d RUN instructions with go build, want 1: %q", len(builds), builds)
	}
	if builds[0] != want {
		t.Errorf("Dockerfile builds with\n  %s\nmake build-static runs\n  %s", builds[0], want)
	}
	for _, flag := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "-X main.version="} {
		if !strings.Contains(want, flag) {
			t.Errorf("make build-static: %q lacks %s", want, flag)
		}
	}
}

// TestDockerfileRuntime checks the final stage: an empty or distroless
// base, a non-root user, the usersync entrypoint running `up`, and the
// users file where the chart mounts it.
func TestDockerfileRuntime(t *testing.T) {
	stage := finalStage(parseDockerfile(t, filepath.Join(repoRoot, "Dockerfile")))
	if len(stage) == 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	last := map[string]string{}
	for _, in := range stage {
		last[in.cmd] = in.args
	}
	base := stage[0].args
	if base != "scratch" && !strings.Contains(base, "distroless/static") {
		t.Errorf("final base = %q, want scratch or distroless static", base)
	}
	tests := []struct{ cmd, want string }{
		{"USER", imageUser + ":" + imageUser},
		{"ENTRYPOINT", `["usersync"]`},
		{"CMD", `["up"]`},
		{"WORKDIR", "/data"},
	}
	for _, tc := range tests {
		if got := last[tc.cmd]; got != tc.want {
			t.Errorf("%s = %q, want %q", tc.cmd, got, tc.want)
		}
	}
	if got, want := imageEnv(t)["USERS_FILE"], "/secrets/users.json"; got != want {
		t.Errorf("ENV USERS_FILE = %q, want %q", got, want)
	}
}

// TestStaticBinary checks the binary `make build-static` produces: no
// dynamic loader and no shared libraries (what file and ldd would report),
// built with CGO_ENABLED=0 and -trimpath (go version -m), and stamped with
// its version.
func TestStaticBinary(t *testing.T) {
	bin := usersyncBinary(t)

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("program header %v: the binary is dynamically linked", p.Type)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("imported libraries = %v (%v), want none", libs, err)
	}

	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	settings := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.SplitN(strings.TrimSpace(line), "\t", 2)
		if len(fields) == 2 && fields[0] == "build" {
			k, v, _ := strings.Cut(fields[1], "=")
			settings[k] = v
		}
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true"} {
		if got := settings[k]; got != want {
			t.Errorf("go version -m: build %s = %q, want %q", k, got, want)
		}
	}
	// With -trimpath, go does not record -ldflags: the stamp shows in the
	// version the binary prints.
	for _, arg := range []string{"--version", "version"} {
		got, err := exec.Command(bin, arg).Output()
		if err != nil {
			t.Fatalf("usersync %s: %v", arg, err)
		}
		if want := "usersync " + testVer + "\n"; string(got) != want {
			t.Errorf("usersync %s = %q, want %q", arg, got, want)
		}
	}
}
