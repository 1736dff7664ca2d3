package userfile

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestLimitsAndHostileInput checks every limit at its default and just
// past it, and the rules for odd text: each bad file yields a
// ValidationError naming the place and the rule, never the value.
func TestLimitsAndHostileInput(t *testing.T) {
	user := func(fields string) string {
		return `[{"username": "alice", "password": "pw"` + fields + `}]`
	}
	props := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d": 1`, i)
		}
		return `, "properties": {` + b.String() + `}`
	}
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	d := DefaultLimits
	for _, tc := range []struct {
		name string
		in   string
		lim  Limits
		want string // substring of the only problem; "" means valid
	}{
		{"file at the limit", user(""), Limits{MaxFileSize: int64(len(user("")))}, ""},
		{"file over the limit", user(""), Limits{MaxFileSize: int64(len(user(""))) - 1}, "larger than the limit of"},
		{"username at the limit", `[{"username": "` + strings.Repeat("u", d.MaxUsernameLen) + `", "password": "pw"}]`, Limits{}, ""},
		{"username over the limit", `[{"username": "` + strings.Repeat("u", d.MaxUsernameLen+1) + `", "password": "pw"}]`, Limits{}, "users[0]: username: is longer than 256 bytes"},
		{"password at the limit", `[{"username": "alice", "password": "` + strings.Repeat("p", d.MaxPasswordLen) + `"}]`, Limits{}, ""},
		{"password over the limit", `[{"username": "alice", "password": "` + strings.Repeat("p", d.MaxPasswordLen+1) + `"}]`, Limits{}, "is longer than 1024 bytes"},
		{"email over the limit", user(`, "email": "` + strings.Repeat("e", d.MaxEmailLen) + `@x"`), Limits{}, "is longer than 254 bytes"},
		{"properties at the limit", user(props(d.MaxProperties)), Limits{}, ""},
		{"properties over the limit", user(props(d.MaxProperties + 1)), Limits{}, "has 257 keys, more than the limit of 256"},
		{"property key over the limit", user(`, "properties": {"` + strings.Repeat("k", d.MaxPropertyKey+1) + `": 1}`), Limits{}, "a key is longer than 256 bytes"},
		{"property value over the limit", user(`, "properties": {"k": "` + strings.Repeat("v", d.MaxPropertyValue) + `"}`), Limits{}, "larger than 65536 bytes"},
		{"nesting at the limit", user(`, "properties": {"k": ` + nest(d.MaxDepth) + `}`), Limits{}, ""},
		{"nesting over the limit", user(`, "properties": {"k": ` + nest(d.MaxDepth+1) + `}`), Limits{}, "nested deeper than 32 levels"},
		{"byte order mark", "\uFEFF" + user(""), Limits{}, ""},
		{"invalid UTF-8", "[{\"username\": \"al\xffice\", \"password\": \"pw\"}]", Limits{}, "not valid UTF-8"},
		{"NUL in a password", `[{"username": "alice", "password": "p\u0000w"}]`, Limits{}, "contains a NUL character"},
		{"control character in a username", `[{"username": "al\u0007ice", "password": "pw"}]`, Limits{}, "contains a control character"},
		{"leading space", `[{"username": " alice", "password": "pw"}]`, Limits{}, "leading or trailing white space"},
		{"trailing space", `[{"username": "alice\u00a0", "password": "pw"}]`, Limits{}, "leading or trailing white space"},
		{"blank username", `[{"username": "   ", "password": "pw"}]`, Limits{}, "must not be empty"},
		{"not NFC", `[{"username": "e\u0301", "password": "pw"}]`, Limits{}, "normalisation form C"},
		{"case duplicate", `[{"username": "Alice", "password": "pw"}, {"username": "alice", "password": "pw"}]`, Limits{}, "differs from users[0] only in letter case"},
		{"NFKC duplicate", `[{"username": "ﬁle", "password": "pw"}, {"username": "file", "password": "pw"}]`, Limits{}, "only in letter case or Unicode normalisation"},
		{"exact duplicate", `[{"username": "alice", "password": "pw"}, {"username": "alice", "password": "pw"}]`, Limits{}, "duplicate username: also at users[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in), tc.lim)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a *ValidationError", err)
			}
			if len(ve.Problems) != 1 || !strings.Contains(ve.Problems[0].String(), tc.want) {
				t.Fatalf("got %v, want one problem containing %q", err, tc.want)
			}
		})
	}
}

// TestFileSizeLimitStopsReading: a file over the limit is not read to its
// end (an endless stream ends with the limit).
func TestFileSizeLimitStopsReading(t *testing.T) {
	r := &countingReader{}
	_, err := Parse(r, Limits{MaxFileSize: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "larger than the limit of 1048576 bytes") {
		t.Fatalf("got %v, want the size limit", err)
	}
	if r.n > 1<<20+64<<10 {
		t.Errorf("read %d bytes of an endless file, limit 1 MiB", r.n)
	}
}

// countingReader is an endless JSON array of spaces.
type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	if c.n == 0 {
		p[0] = '['
	}
	c.n += len(p)
	return len(p), nil
}
