// Command usersync-bench times usersync against the physical limit of its
// work: it generates users files of N users, measures the time of one
// Argon2id hash on this machine and the lower bound N × t_hash / workers,
// then runs the built usersync binary as a child process, on a fresh SQLite
// file and a fresh PostgreSQL database, for each scenario (cold sync,
// unchanged re-run, one email changed, one password changed, …) and prints
// a markdown table: wall time, ratio to the lower bound, rows per second,
// peak memory (the child's max RSS) and the fingerprint path it took.
//
//	go build -o bin/usersync ./cmd/usersync
//	go run ./cmd/usersync-bench -bin bin/usersync -sizes 1000,10000
//
// `make bench` runs it with the Go benchmarks.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/barycenter/usersync/internal/database"
	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/internal/reconcile"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "usersync-bench:", err)
		os.Exit(1)
	}
}

type options struct {
	bin      string
	sizes    []int
	bulk     int
	backends []string
	pgURL    string
	workers  int
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == launchFlag {
		return launch(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("usersync-bench", flag.ContinueOnError)
	var o options
	var sizes, backends string
	fs.StringVar(&o.bin, "bin", "bin/usersync", "the usersync binary to time")
	fs.StringVar(&sizes, "sizes", "1000,10000", "comma-separated numbers of users for the plaintext scenarios (default Argon2 cost)")
	fs.IntVar(&o.bulk, "bulk", 100000, "number of users for the bulk scenarios (pre-hashed input; cheap-Argon2 stand-in); 0: none")
	fs.StringVar(&backends, "backends", "sqlite,postgres", "backends to run on")
	pg := os.Getenv("TEST_DATABASE_URL")
	if pg == "" {
		pg = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	fs.StringVar(&o.pgURL, "postgres", pg, "maintenance URL of the PostgreSQL server; each backend run gets a fresh database (env TEST_DATABASE_URL)")
	fs.IntVar(&o.workers, "hash-workers", 0, "passed to usersync; 0: automatic")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(sizes, ",") {
		if strings.TrimSpace(s) == "" {
			continue // -sizes "": bulk scenarios only
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			return fmt.Errorf("-sizes: %q is not a number of users (at least 2)", s)
		}
		o.sizes = append(o.sizes, n)
	}
	o.backends = strings.Split(backends, ",")

	tHash, tCPU := hashTime()
	workers := reconcile.HashWorkers(o.workers, password.DefaultParams, 0)
	fmt.Fprintf(stdout, "Machine: %d CPUs (GOMAXPROCS %d), %s; %s; load average %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel(), runtime.Version(), loadAvg())
	fmt.Fprintf(stdout, "One Argon2id hash (m=19456 KiB, t=2, p=1): t_hash = %s wall, %s CPU; hash workers: %d\n\n", round(tHash), round(tCPU), workers)
	fmt.Fprintln(stdout, "| backend | users | scenario | wall | lower bound N×t_hash/workers | ratio | CPU | CPU / (N×t_hash CPU) | rows/s | max RSS | fingerprint path | load |")
	fmt.Fprintln(stdout, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")

	dir, err := os.MkdirTemp("", "usersync-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, backend := range o.backends {
		for _, n := range o.sizes {
			if err := plaintext(o, dir, backend, n, tHash, tCPU, workers, stdout, stderr); err != nil {
				return err
			}
		}
		if o.bulk > 0 {
			if err := bulk(o, dir, backend, o.bulk, stdout, stderr); err != nil {
				return err
			}
		}
	}
	return nil
}

// plaintext runs the scenarios of N users with plaintext passwords at the
// default Argon2 cost on a fresh database.
func plaintext(o options, dir, backend string, n int, tHash, tCPU time.Duration, workers int, stdout, stderr io.Writer) error {
	dbURL, drop, err := freshDB(o, dir, backend, fmt.Sprintf("plain%d", n))
	if err != nil {
		return err
	}
	defer drop()
	users := genUsers(n)
	// Calibrate again right before the cold sync: on a shared machine the
	// time of a hash follows the load.
	tHash, tCPU = hashTime()
	lower := time.Duration(int64(tHash) * int64(n) / int64(workers))
	var cold time.Duration
	for _, sc := range []struct {
		name   string
		mutate func()
	}{
		{"cold sync", nil},
		{"unchanged re-run", nil},
		{"one email changed", func() { users[n/2].email = "changed@example.com" }},
		{"one password changed", func() { users[n/3].password = "a-changed-password" }},
	} {
		if sc.mutate != nil {
			sc.mutate()
		}
		file := filepath.Join(dir, "users.json")
		if err := writeUsers(file, users, false); err != nil {
			return err
		}
		r, err := up(o, dbURL, file)
		if err != nil {
			return fmt.Errorf("%s %d %s: %w", backend, n, sc.name, err)
		}
		if cold == 0 {
			cold = r.wall
		}
		extra := ""
		if sc.name == "one password changed" {
			extra = fmt.Sprintf(" (%.1f %% of cold)", 100*float64(r.wall)/float64(cold))
		}
		fmt.Fprintf(stdout, "| %s | %d | %s | %s | %s (t_hash %s) | %.3f%s | %s | %.3f | %.0f | %d MiB | %s | %s |\n", backend, n, sc.name, round(r.wall), round(lower), round(tHash),
			float64(r.wall)/float64(lower), extra, round(r.cpu), float64(r.cpu)/float64(tCPU)/float64(n), float64(n)/r.wall.Seconds(), r.maxRSS>>20, r.path, load1())
	}
	return nil
}

// bulk runs the scenarios of N users whose cost is not Argon2: pre-hashed
// input (skipped while the users file has no password_hash field) and, as
// its stand-in, plaintext at a negligible Argon2 cost (m=64 KiB, t=1).
func bulk(o options, dir, backend string, n int, stdout, stderr io.Writer) error {
	users := genUsers(n)
	file := filepath.Join(dir, "bulk.json")
	for _, pre := range []bool{true, false} {
		name := "pre-hashed"
		extra := []string{}
		if !pre {
			name = "cheap Argon2 (m=64,t=1)"
			extra = []string{"--argon2-memory", "64", "--argon2-iterations", "1"}
		}
		if err := writeUsers(file, users, pre); err != nil {
			return err
		}
		if pre {
			// The hook for pre-hashed input: runs once the users file
			// accepts password_hash.
			if out, err := exec.Command(o.bin, "validate", "--users-file", file).CombinedOutput(); err != nil {
				fmt.Fprintf(stdout, "| %s | %d | %s cold import and re-run | skipped: this build does not accept password_hash (%s) | | | | | | | | |\n",
					backend, n, name, firstLine(out))
				continue
			}
		}
		dbURL, drop, err := freshDB(o, dir, backend, fmt.Sprintf("bulk%v", pre))
		if err != nil {
			return err
		}
		for _, sc := range []string{"cold import", "unchanged re-run"} {
			r, err := up(o, dbURL, file, extra...)
			if err != nil {
				drop()
				return fmt.Errorf("%s %d %s %s: %w", backend, n, name, sc, err)
			}
			fmt.Fprintf(stdout, "| %s | %d | %s: %s | %s | | | %s | | %.0f | %d MiB | %s | %s |\n", backend, n, name, sc, round(r.wall),
				round(r.cpu), float64(n)/r.wall.Seconds(), r.maxRSS>>20, r.path, load1())
		}
		drop()
	}
	return nil
}

type result struct {
	wall   time.Duration
	cpu    time.Duration // user + system
	maxRSS int64         // bytes
	path   string
}

// launchFlag makes usersync-bench a launcher: it runs the command that
// follows and prints its max RSS (KiB) and CPU time (ns) on standard output.
//
// Why a launcher: Go starts a child with clone(CLONE_VM), so the child
// inherits the high-water mark of its parent's memory at exec, and
// ru_maxrss would report the harness's own peak (the users files it
// generated) whenever that is higher. A fresh launcher has a peak of a few
// MiB, so the rusage of its child is the child's own.
const launchFlag = "-launch"

func launch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("-launch: no command")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = stderr
	err := cmd.Run()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		fmt.Fprintf(stdout, "%d %d\n", ru.Maxrss, ru.Utime.Nano()+ru.Stime.Nano())
	}
	return err
}

var pathRE = regexp.MustCompile(`msg="checked fingerprint" path=(\w+) buckets=(\d+) proven=(\d+)`)

// up runs `usersync up` as a child process and returns its wall time, its
// max RSS and the fingerprint path its logs name.
func up(o options, dbURL, file string, extra ...string) (result, error) {
	args := append([]string{"up", "--database-url", dbURL, "--users-file", file, "--hash-workers", strconv.Itoa(o.workers)}, extra...)
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(self, append([]string{launchFlag, o.bin}, args...)...)
	var outb, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outb, &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("%v: %s", err, lastLines(errb.String(), 5))
	}
	r := result{wall: time.Since(start)}
	var kib, cpu int64
	if _, err := fmt.Sscan(outb.String(), &kib, &cpu); err != nil {
		return result{}, fmt.Errorf("launcher output %q: %w", outb.String(), err)
	}
	r.maxRSS, r.cpu = kib<<10, time.Duration(cpu)
	if m := pathRE.FindStringSubmatch(errb.String()); m != nil {
		r.path = fmt.Sprintf("%s (k=%s, proven %s)", m[1], m[2], m[3])
	}
	return r, nil
}

type user struct{ name, password, email string }

func genUsers(n int) []user {
	us := make([]user, n)
	for i := range us {
		us[i] = user{fmt.Sprintf("user%07d", i), "pw-" + rand.Text(), fmt.Sprintf("user%07d@example.com", i)}
	}
	return us
}

var sharedHash string

// writeUsers writes the users file; pre writes password_hash (one
// precomputed default-cost hash shared by all) instead of password.
func writeUsers(path string, us []user, pre bool) error {
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, u := range us {
		if i > 0 {
			b.WriteString(",\n")
		}
		if pre {
			if sharedHash == "" {
				h, err := password.Generate("benchmark", password.DefaultParams)
				if err != nil {
					return err
				}
				sharedHash = h
			}
			fmt.Fprintf(&b, `{"username":%q,"password_hash":%q,"email":%q}`, u.name, sharedHash, u.email)
		} else {
			fmt.Fprintf(&b, `{"username":%q,"password":%q,"email":%q}`, u.name, u.password, u.email)
		}
	}
	b.WriteString("\n]\n")
	return os.WriteFile(path, b.Bytes(), 0o600)
}

// freshDB returns the URL of a new, empty database and a function that
// drops it.
func freshDB(o options, dir, backend, tag string) (string, func(), error) {
	switch backend {
	case "sqlite":
		p := filepath.Join(dir, tag+".db")
		return "sqlite://" + p + "?mode=rwc", func() { os.Remove(p) }, nil
	case "postgres":
		ctx := context.Background()
		cfg, err := database.ParseURL(o.pgURL)
		if err != nil {
			return "", nil, fmt.Errorf("-postgres: %w", err)
		}
		admin, err := database.Open(ctx, cfg)
		if err != nil {
			return "", nil, err
		}
		name := "usersync_bench_" + strings.ToLower(rand.Text()[:10])
		if _, err := admin.SQL.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			admin.Close()
			return "", nil, fmt.Errorf("create database: %w", err)
		}
		u, err := url.Parse(o.pgURL)
		if err != nil {
			admin.Close()
			return "", nil, err
		}
		u.Path = "/" + name
		return u.String(), func() {
			_, _ = admin.SQL.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			admin.Close()
		}, nil
	}
	return "", nil, errors.New("unknown backend " + backend)
}

// hashTime returns the median wall time and the median CPU time of one
// default-cost Argon2id hash. The CPU time (of this otherwise idle
// process) hardly depends on what else the machine runs; the wall time does.
func hashTime() (wall, cpu time.Duration) {
	var ws, cs []time.Duration
	for range 7 {
		c0 := processCPU()
		start := time.Now()
		if _, err := password.Generate("benchmark", password.DefaultParams); err != nil {
			panic(err)
		}
		ws, cs = append(ws, time.Since(start)), append(cs, processCPU()-c0)
	}
	slices.Sort(ws)
	slices.Sort(cs)
	return ws[len(ws)/2], cs[len(cs)/2]
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// load1 is the 1-minute load average: how busy the machine was.
func load1() string {
	f := strings.Fields(loadAvg())
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	s = strings.TrimPrefix(s, "usersync: ")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strings.ReplaceAll(s, "|", "/")
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}
