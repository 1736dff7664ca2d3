//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/barycenter/usersync/internal/password"
)

// openPTY returns the controller and the terminal of a new pseudo-terminal.
func openPTY(t *testing.T) (ctl, tty *os.File) {
	t.Helper()
	ctl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no pseudo-terminals under CI=true: %v", err)
		}
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ctl.Close() })
	fd := int(ctl.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return ctl, tty
}

// TestHashOnTerminal types a password twice on a pseudo-terminal and
// checks that hash asked for it on stderr, echoed none of it, restored the
// terminal and printed a hash of it.
func TestHashOnTerminal(t *testing.T) {
	tests := []struct {
		name, typed string
		code        int
		want        string // password the output verifies, or the error
	}{
		{"twice the same", "typed-secret\ntyped-secret\n", 0, "typed-secret"},
		{"two different", "typed-secret\ntyped-other\n", 2, "the passwords differ"},
		{"empty", "\n\n", 2, "the password is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctl, tty := openPTY(t)
			// Echo goes off before anything is typed: what the line
			// discipline holds was typed with echo off.
			termios, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan result)
			go func() {
				var out, errb bytes.Buffer
				e := &env{stdin: tty, stdout: &out, stderr: &errb, lookup: func(k string) (string, bool) { v, ok := testEnv[k]; return v, ok }}
				code := runEnv(context.Background(), []string{"hash"}, e)
				done <- result{code, out.String(), errb.String()}
			}()
			// Wait until hash has turned echo off, then type.
			for termios.Lflag&unix.ECHO != 0 {
				select {
				case r := <-done:
					t.Fatalf("hash finished without turning echo off: %+v", r)
				default:
					runtime.Gosched()
				}
				if termios, err = unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ctl.WriteString(tc.typed); err != nil {
				t.Fatal(err)
			}
			r := <-done
			// With echo back on, a marker comes back; anything before it
			// was echoed while the password was typed.
			if _, err := ctl.WriteString("MARK\n"); err != nil {
				t.Fatal(err)
			}
			echoed, err := bufio.NewReader(ctl).ReadString('K')
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(echoed, "typed") {
				t.Fatalf("the terminal echoed the password: %q", echoed)
			}
			if !strings.Contains(r.stderr, "Password: ") || !strings.Contains(r.stderr, "Repeat password: ") {
				t.Fatalf("no prompts on stderr: %q", r.stderr)
			}
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.code, r.stderr)
			}
			if tc.code != 0 {
				if !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
					t.Fatalf("stdout %q stderr %q, want %q", r.stdout, r.stderr, tc.want)
				}
				return
			}
			if ok, err := password.Verify(strings.TrimSpace(r.stdout), tc.want); !ok || err != nil {
				t.Fatalf("the output does not verify: %q %v", r.stdout, err)
			}
		})
	}
}
