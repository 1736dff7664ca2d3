package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/internal/userfile"
)

const hashExamples = `  usersync hash                                   # asks twice, without echo
  printf '%s\n' "$PASSWORD" | usersync hash       # the first line of a pipe
  usersync hash --argon2-memory 65536 --argon2-iterations 3 < password.txt
  usersync hash --params
`

// cmdHash reads one password from standard input and prints its PHC
// string, made with the same Argon2 flags as up, for a password_hash.
func cmdHash(_ context.Context, e *env, args []string) error {
	f := newFlagSet(e, "hash", "hash [flags] < password", hashExamples)
	f.hashing()
	f.minPasswordLength()
	var showParams bool
	f.BoolVar(&showParams, "params", false, "print the Argon2 parameters used, then exit")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := noArgs(f, pos); err != nil {
		return err
	}
	p, err := f.c.params()
	if err != nil {
		return err
	}
	if showParams {
		fmt.Fprintln(e.stdout, p)
		return nil
	}
	if f.c.minPasswordLen < 0 {
		return usagef("--min-password-length must not be negative")
	}
	pw, err := readPassword(e)
	if err != nil {
		return err
	}
	limit := userfile.DefaultLimits.MaxPasswordLen
	switch {
	case pw == "":
		return usagef("hash: the password is empty")
	case len(pw) > limit:
		return usagef("hash: the password is longer than %d bytes", limit)
	case strings.ContainsRune(pw, 0):
		return usagef("hash: the password contains a NUL character")
	case !utf8.ValidString(pw):
		return usagef("hash: the password is not valid UTF-8")
	case utf8.RuneCountInString(pw) < f.c.minPasswordLen:
		return usagef("hash: the password is shorter than %d characters", f.c.minPasswordLen)
	}
	phc, err := password.Generate(pw, p)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, phc)
	return nil
}

// readPassword reads the password: on a terminal twice, without echo; from
// anything else the first line, without its line ending.
func readPassword(e *env) (string, error) {
	if in, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		return readTerminal(int(in.Fd()), e.stderr)
	}
	limit := int64(userfile.DefaultLimits.MaxPasswordLen)
	line, err := bufio.NewReader(io.LimitReader(e.stdin, limit+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("hash: read standard input: %w", err)
	}
	if !strings.HasSuffix(line, "\n") && int64(len(line)) > limit {
		return "", usagef("hash: the password is longer than %d bytes", limit)
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// readTerminal prompts on w and reads the password twice from the
// terminal fd with echo off.
func readTerminal(fd int, w io.Writer) (string, error) {
	var pw [2]string
	for i, prompt := range []string{"Password: ", "Repeat password: "} {
		fmt.Fprint(w, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(w)
		if err != nil {
			return "", fmt.Errorf("hash: read password: %w", err)
		}
		pw[i] = string(b)
	}
	if pw[0] != pw[1] {
		return "", usagef("hash: the passwords differ")
	}
	return pw[0], nil
}
