package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestMaxFileSize: --max-file-size and MAX_USERS_FILE_SIZE move the users
// file size limit, flag over environment.
func TestMaxFileSize(t *testing.T) {
	file := writeUsersFile(t, []testUser{{Username: "alice", Password: "pw-alice"}, {Username: "bob", Password: "pw-bob"}})
	size := len(readFile(t, file))
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
	}{
		{"default", nil, nil, exitOK},
		{"flag below the size", []string{"--max-file-size", fmt.Sprint(size - 1)}, nil, exitInvalid},
		{"flag at the size", []string{"--max-file-size", fmt.Sprint(size)}, nil, exitOK},
		{"env below the size", nil, map[string]string{"MAX_USERS_FILE_SIZE": fmt.Sprint(size - 1)}, exitInvalid},
		{"flag over env", []string{"--max-file-size", fmt.Sprint(size)}, map[string]string{"MAX_USERS_FILE_SIZE": "10"}, exitOK},
		{"zero", []string{"--max-file-size", "0"}, nil, exitInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
				lookup: func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }}
			code := runEnv(context.Background(), append([]string{"validate", "--users-file", file}, tc.args...), e)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out.String(), errb.String())
			}
			if code == exitInvalid && !strings.Contains(errb.String(), "max-file-size") && !strings.Contains(errb.String(), "larger than the limit") {
				t.Errorf("unclear message: %s", errb.String())
			}
		})
	}
}
