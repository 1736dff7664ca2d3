package userfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fuzzSecret replaces the marker "$PW" of fuzz inputs: a planted password
// that no message may repeat, unless the input put it where messages
// legitimately quote text (an object key, or a username).
const fuzzSecret = "Zq7-pLanted-Pw"

// fuzzLimits are small, so that the fuzzer reaches every limit.
var fuzzLimits = Limits{MaxFileSize: 4 << 10, MaxUsernameLen: 16, MaxPasswordLen: 32, MaxEmailLen: 32,
	MaxProperties: 4, MaxPropertyKey: 8, MaxPropertyValue: 64, MaxDepth: 4}

// quotedSecret finds the secret where a message may quote it: in a string
// that may be an object key (after "{" or ","), or in a username's value.
var quotedSecret = regexp.MustCompile(`([{,]\s*"(\\.|[^"\\])*` + regexp.QuoteMeta(fuzzSecret) + `)|("username"\s*:\s*"(\\.|[^"\\])*` + regexp.QuoteMeta(fuzzSecret) + `)`)

// FuzzParse feeds arbitrary bytes to Parse, with the seed corpus of
// testdata/fuzz-seed. Run it longer by hand:
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 10m ./internal/userfile/
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz-seed", "*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed corpus: %v", err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, small bool) {
		in := bytes.ReplaceAll(data, []byte("$PW"), []byte(fuzzSecret))
		lim := Limits{}
		if small {
			lim = fuzzLimits
		}
		file, err := Parse(bytes.NewReader(in), lim)
		lim = lim.withDefaults()
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse returned %T (%v), want a *ValidationError", err, err)
			}
			if len(ve.Problems) == 0 {
				t.Fatal("ValidationError without problems")
			}
			for _, p := range ve.Problems {
				if p.Message == "" {
					t.Fatalf("problem without a message: %+v", p)
				}
			}
			msg := err.Error()
			if !utf8.ValidString(msg) {
				t.Errorf("message is not valid UTF-8: %q", msg)
			}
			if strings.Contains(msg, fuzzSecret) && !quotedSecret.Match(in) {
				t.Fatalf("message repeats the planted password:\n%s", msg)
			}
			return
		}
		if int64(len(in)) > lim.MaxFileSize {
			t.Fatalf("accepted %d bytes over a limit of %d", len(in), lim.MaxFileSize)
		}
		folded := map[string]bool{}
		for _, u := range file.Users {
			switch {
			case u.Username == "" || len(u.Username) > lim.MaxUsernameLen:
				t.Fatalf("accepted username of %d bytes", len(u.Username))
			case strings.TrimFunc(u.Username, unicode.IsSpace) != u.Username:
				t.Fatalf("accepted username with surrounding space %q", u.Username)
			case strings.IndexFunc(u.Username, unicode.IsControl) >= 0:
				t.Fatalf("accepted username with a control character %q", u.Username)
			case u.Password == "" || len(u.Password) > lim.MaxPasswordLen || strings.ContainsRune(u.Password, 0):
				t.Fatalf("accepted a password of %d bytes, or with NUL", len(u.Password))
			case !utf8.ValidString(u.Username) || !utf8.ValidString(u.Password):
				t.Fatal("accepted invalid UTF-8")
			case len(u.Properties) > lim.MaxProperties:
				t.Fatalf("accepted %d properties", len(u.Properties))
			case folded[foldName(u.Username)]:
				t.Fatalf("accepted duplicate username %q", u.Username)
			}
			folded[foldName(u.Username)] = true
			for k, v := range u.Properties {
				if len(k) > lim.MaxPropertyKey || len(v) > lim.MaxPropertyValue || depth([]byte(v)) > lim.MaxDepth {
					t.Fatalf("accepted property %q over the limits", k)
				}
			}
		}
	})
}
