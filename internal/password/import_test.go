package password

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// cliVectors are PHC strings made by the argon2 command of the reference C
// implementation (testdata/argon2-cli.json, made by testdata/argon2-cli.sh).
type cliVectors struct {
	Vectors []struct {
		Want     string `json:"want"` // ok, weak or malformed
		Password string `json:"password"`
		Flags    string `json:"flags"`
		PHC      string `json:"phc"`
	} `json:"vectors"`
}

// TestIndependentVectors checks hashes made by another Argon2
// implementation: ParseImport and the default floor classify each as the
// file says, and those Go can compute verify with their password only.
func TestIndependentVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/argon2-cli.json")
	if err != nil {
		t.Fatal(err)
	}
	var v cliVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, tc := range v.Vectors {
		seen[tc.Want]++
		t.Run(tc.Password, func(t *testing.T) {
			h, err := ParseImport(tc.PHC)
			got := "ok"
			switch {
			case err != nil:
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParseImport = %v, want ErrMalformed", err)
				}
				got = "malformed"
			case DefaultFloor.Check(h) != nil:
				if err := DefaultFloor.Check(h); !errors.Is(err, ErrWeak) {
					t.Fatalf("Check = %v, want ErrWeak", err)
				}
				got = "weak"
			}
			if got != tc.Want {
				t.Fatalf("%s (%s): got %s, want %s (err %v)", tc.PHC, tc.Flags, got, tc.Want, err)
			}
			if h == nil {
				return
			}
			checkRoundTrip(t, h, tc.PHC, tc.Password)
		})
	}
	if seen["ok"] == 0 || seen["weak"] == 0 || seen["malformed"] == 0 {
		t.Fatalf("the corpus lacks a kind: %v", seen)
	}
}

func TestParseImport(t *testing.T) {
	const salt16 = "c2FsdHNhbHRzYWx0c2FsdA"                     // 16 bytes
	const key32 = "UvQty8qCvEEgiev65GEGtbsXZbrYJjIbVdfaKuSny8Y" // 32 bytes
	tests := []struct {
		name, phc, want string // want: "" accepted, else part of the error
	}{
		{"argon2id", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32, ""},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32, ""},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32, ""},
		{"16-byte output", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$AAAAAAAAAAAAAAAAAAAAAA", ""},
		{"15-byte output", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$AAAAAAAAAAAAAAAAAAAA", "hash is shorter than 16 bytes"},
		{"7-byte salt", "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAA$" + key32, "salt is shorter than 8 bytes"},
		{"1 GiB memory", "$argon2id$v=19$m=1048576,t=2,p=1$" + salt16 + "$" + key32, ""},
		{"over 1 GiB memory", "$argon2id$v=19$m=1048577,t=2,p=1$" + salt16 + "$" + key32, "memory is above 1048576 KiB"},
		{"argon2 without variant", "$argon2$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32, "unknown algorithm"},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt16 + "$" + key32, "version must be v=19"},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", "want 5"},
		{"padded key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32 + "=", "hash is not unpadded standard base64"},
		{"URL-safe base64", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2Fsd-_$" + key32, "salt is not unpadded standard base64"},
		{"too long", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 500) + "$" + key32, "longer than 512 bytes"},
		{"plaintext by mistake", "correct-horse-battery-staple", "does not start with $"},
		{"empty", "", "does not start with $"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseImport(tc.phc)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ParseImport = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseImport = %v, want ErrMalformed with %q", err, tc.want)
			}
			if tc.phc != "" && strings.Contains(err.Error(), tc.phc) {
				t.Fatalf("the error quotes the input: %v", err)
			}
		})
	}
}

func TestFloor(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.Valid {
		h, err := Parse(tc.PHC)
		if err != nil {
			t.Fatal(err)
		}
		want := tc.M >= 19456 && tc.T >= 2 && tc.P >= 1
		if err := DefaultFloor.Check(h); (err == nil) != want {
			t.Errorf("%s: DefaultFloor.Check = %v, want pass=%v", tc.PHC, err, want)
		}
		if err := (Floor{}).Check(h); err != nil {
			t.Errorf("%s: the zero floor rejected it: %v", tc.PHC, err)
		}
	}
	h := &Hash{Variant: Argon2id, Memory: 47104, Iterations: 1, Parallelism: 1}
	err := DefaultFloor.Check(h)
	if !errors.Is(err, ErrWeak) || !strings.Contains(err.Error(), "m=47104,t=1,p=1 is weaker than m=19456,t=2,p=1") {
		t.Fatalf("Check = %v", err)
	}
}

func TestParseFloor(t *testing.T) {
	tests := []struct {
		in   string
		want Floor
		err  bool
	}{
		{"m=19456,t=2,p=1", DefaultFloor, false},
		{"m=47104, t=1", Floor{Memory: 47104, Iterations: 1}, false},
		{"p=4", Floor{Parallelism: 4}, false},
		{"m=0,t=0,p=0", Floor{}, false},
		{"", Floor{}, true},
		{"m=19456,m=1", Floor{}, true},
		{"x=1", Floor{}, true},
		{"m=-1", Floor{}, true},
		{"p=256", Floor{}, true},
		{"m=19456;t=2", Floor{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFloor(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("ParseFloor = %+v, %v; want %+v, error %v", got, err, tc.want, tc.err)
			}
		})
	}
	if DefaultFloor.String() != "m=19456,t=2,p=1" {
		t.Fatalf("String() = %s", DefaultFloor)
	}
}
