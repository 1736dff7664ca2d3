package userfile

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/bad")

func parseFile(t *testing.T, path string) (*File, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(f, Limits{})
}

// TestGoodFiles checks that every file in testdata/good parses.
func TestGoodFiles(t *testing.T) {
	want := map[string]int{"array.json": 2, "object.json": 2, "all-fields.json": 1, "empty-array.json": 0, "bom.json": 1,
		"prune-and-properties.json": 2, "password-sources.json": 5}
	files, _ := filepath.Glob("testdata/good/*.json")
	if len(files) != len(want) {
		t.Fatalf("testdata/good has %d files, the table %d", len(files), len(want))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := parseFile(t, path)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := len(f.Users); got != want[filepath.Base(path)] {
				t.Fatalf("%d users, want %d", got, want[filepath.Base(path)])
			}
		})
	}
}

// TestBadFiles compares the problems listed for each file of testdata/bad
// with its golden .txt file (go test -update rewrites them), and checks
// that no message quotes a value.
func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.json")
	if len(files) == 0 {
		t.Fatal("no bad files")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, err := parseFile(t, path)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %v, want a *ValidationError", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(path, ".json") + ".txt"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s:\n got: %s\nwant: %s", golden, got, want)
			}
		})
	}
}

// TestNoValueInMessages plants distinctive values in every field of broken
// files and checks that none reaches an error message.
func TestNoValueInMessages(t *testing.T) {
	const secret = "S3CRET-Do-Not-Print"
	inputs := []string{
		`[{"username": "a", "pasword": "S3CRET-Do-Not-Print"}]`,
		`[{"username": "a", "password": "S3CRET-Do-Not-Print" "email": "x@y"}]`,
		`[{"username": "a", "password": "S3CRET-Do-Not-Print", "email": "S3CRET-Do-Not-Print"}]`,
		`[{"username": "a", "password": "S3CRET-Do-Not-Print", "enabled": "S3CRET-Do-Not-Print"}]`,
		`[{"username": "a", "password": ["S3CRET-Do-Not-Print"]}]`,
		`[{"username": "a", "password": "S3CRET-Do-Not-Print"`,
		`[{"username": "a", "password": "S3CRET-Do-Not-Print\u0000"}]`,
		`[{"username": "a", "password": "S3CRET-Do-Not-Print", "properties": {"k": "S3CRET-Do-Not-Print", "k": 1}}]`,
		`{"users": [], "extra": "S3CRET-Do-Not-Print"}`,
		`[{"username": "a", "password": S3CRET-Do-Not-Print}]`,
		`[{"username": "a", "password_hash": "S3CRET-Do-Not-Print"}]`,
		`[{"username": "a", "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$S3CRET-Do-Not-Print$S3CRET-Do-Not-Print"}]`,
		`[{"username": "a", "password_hash": ["S3CRET-Do-Not-Print"]}]`,
		`[{"username": "a", "password": "S3CRET-Do-Not-Print", "password_env": "X"}]`,
		`[{"username": "a", "password": "S3CRET-Do-Not-Print", "password_policy": "S3CRET-Do-Not-Print"}]`,
		`[{"username": "a", "password_env": "X=S3CRET-Do-Not-Print"}]`,
		`[{"username": "a", "password_hsh": "S3CRET-Do-Not-Print"}]`,
	}
	for _, in := range inputs {
		_, err := Parse(strings.NewReader(in), Limits{})
		if err == nil {
			t.Errorf("Parse(%s) succeeded, want an error", in)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "S3CRET") {
			t.Errorf("message quotes a value: %v", err)
		}
	}
}

func TestFields(t *testing.T) {
	f, err := parseFile(t, "testdata/good/all-fields.json")
	if err != nil {
		t.Fatal(err)
	}
	u := f.Users[0]
	no, yes := false, true
	want := User{
		Index: 0, Line: 2, Username: "carol", Password: "pässwörd ✓",
		Email:   OptString{Set: true, Null: true},
		Enabled: &no, EmailVerified: &yes, Requires2FA: &yes,
		Properties: map[string]string{"theme": `"dark"`, "quota": "10", "nested": `{"a":[true,null],"b":1}`},
	}
	if !reflect.DeepEqual(u, want) {
		t.Fatalf("got  %+v\nwant %+v", u, want)
	}
	f, err = Parse(strings.NewReader(`[{"username":"x","password":"p"}]`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if u := f.Users[0]; u.Email.Set || u.Enabled != nil || u.EmailVerified != nil || u.Requires2FA != nil || u.Properties != nil {
		t.Fatalf("absent fields should stay unset: %+v", u)
	}
}

func TestLimits(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name string
		in   string
		lim  Limits
		want string
	}{
		{"file size", `[{"username":"a","password":"p"}]`, Limits{MaxFileSize: 10}, "file is larger than the limit of 10 bytes"},
		{"username length", `[{"username":"` + long + `","password":"p"}]`, Limits{}, "username: is longer than 256 bytes"},
		{"password length", `[{"username":"a","password":"` + strings.Repeat("p", 1025) + `"}]`, Limits{}, "password: is longer than 1024 bytes"},
		{"property count", `[{"username":"a","password":"p","properties":{"a":1,"b":2,"c":3}}]`, Limits{MaxProperties: 2}, "has 3 keys, more than the limit of 2"},
		{"property key", `[{"username":"a","password":"p","properties":{"` + long + `":1}}]`, Limits{}, "a key is longer than 256 bytes"},
		{"property value", `[{"username":"a","password":"p","properties":{"k":"` + long + `"}}]`, Limits{MaxPropertyValue: 100}, "larger than 100 bytes"},
		{"depth", `[{"username":"a","password":"p","properties":{"k":[[[[1]]]]}}]`, Limits{MaxDepth: 3}, "nested deeper than 3 levels"},
		{"control character", `[{"username":"a\u0007b","password":"p"}]`, Limits{}, "contains a control character"},
		{"not NFC", `[{"username":"e\u0301","password":"p"}]`, Limits{}, "normalisation form C"},
		{"NFKC duplicate", `[{"username":"ﬁ","password":"p"},{"username":"fi","password":"p"}]`, Limits{}, "differs from users[0] only in letter case or Unicode normalisation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in), tc.lim)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"a<b>&"`, `"a<b>&"`},
		{`{ "b" : 1, "a" : [ 1.50, 2e3 ] }`, `{"a":[1.50,2e3],"b":1}`},
		{`12345678901234567890`, `12345678901234567890`},
		{`null`, `null`},
	}
	for _, tc := range tests {
		got, err := Canonical([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := Canonical([]byte(`1 2`)); err == nil {
		t.Error("Canonical accepted trailing data")
	}
}

func TestPruneAndPropertySemantics(t *testing.T) {
	f, err := parseFile(t, "testdata/good/prune-and-properties.json")
	if err != nil {
		t.Fatal(err)
	}
	if f.Prune == nil || !*f.Prune {
		t.Fatalf("Prune = %v, want true", f.Prune)
	}
	dana, erin := f.Users[0], f.Users[1]
	if !reflect.DeepEqual(dana.Properties, map[string]string{"lang": `"fr"`}) || !reflect.DeepEqual(dana.DeleteProperties, []string{"theme"}) || dana.PropertiesReplace {
		t.Fatalf("dana: properties %v, delete %v, replace %v", dana.Properties, dana.DeleteProperties, dana.PropertiesReplace)
	}
	if !erin.PropertiesReplace || !erin.TouchesProperties() {
		t.Fatalf("erin: replace %v", erin.PropertiesReplace)
	}
	tests := []struct {
		in    string
		prune *bool
		touch bool
	}{
		{`[{"username":"x","password":"p"}]`, nil, false},
		{`{"users":[{"username":"x","password":"p","properties":{"k":null}}],"prune":false}`, new(false), true},
		{`{"prune":true,"users":[{"username":"x","password":"p","properties_mode":"merge"}]}`, new(true), false},
		{`[{"username":"x","password":"p","properties_mode":"replace"}]`, nil, true},
	}
	for _, tc := range tests {
		f, err := Parse(strings.NewReader(tc.in), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if !reflect.DeepEqual(f.Prune, tc.prune) || f.Users[0].TouchesProperties() != tc.touch {
			t.Errorf("%s: prune %v touches %v; want %v %v", tc.in, f.Prune, f.Users[0].TouchesProperties(), tc.prune, tc.touch)
		}
	}
}
