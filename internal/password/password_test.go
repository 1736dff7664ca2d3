package password

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// vectors are PHC strings made by the reference C implementation
// (testdata/argon2-phc.json, copied from shared/testvectors).
type vectors struct {
	Valid []struct {
		Password string `json:"password"`
		PHC      string `json:"phc"`
		Variant  string `json:"variant"`
		M        uint32 `json:"m"`
		T        uint32 `json:"t"`
		P        uint8  `json:"p"`
		SaltLen  int    `json:"salt_len"`
		HashLen  int    `json:"hash_len"`
	} `json:"valid"`
	Malformed []struct {
		Why string `json:"why"`
		PHC string `json:"phc"`
	} `json:"malformed"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/argon2-phc.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Valid) == 0 || len(v.Malformed) == 0 {
		t.Fatal("test vectors are empty")
	}
	return v
}

func TestReferenceVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.Valid {
		t.Run(tc.Variant+"/"+tc.Password, func(t *testing.T) {
			h, err := Parse(tc.PHC)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if string(h.Variant) != tc.Variant || h.Memory != tc.M || h.Iterations != tc.T || h.Parallelism != tc.P ||
				len(h.Salt) != tc.SaltLen || len(h.Key) != tc.HashLen {
				t.Fatalf("parsed %+v, want %s m=%d t=%d p=%d salt=%d hash=%d", h, tc.Variant, tc.M, tc.T, tc.P, tc.SaltLen, tc.HashLen)
			}
			checkRoundTrip(t, h, tc.PHC, tc.Password)
		})
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	v := loadVectors(t)
	extra := []struct{ Why, PHC string }{
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$nn/xMPV8K3Dv+HcHytJubQ$UKBtJva7r7Muzx/JLr4YA9k1gGrgGM1fhM9LCqXQW4s"},
		{"no version", "$argon2id$m=19456,t=2,p=1$nn/xMPV8K3Dv+HcHytJubQ$UKBtJva7r7Muzx/JLr4YA9k1gGrgGM1fhM9LCqXQW4s"},
		{"memory below 8p", "$argon2id$v=19$m=8,t=2,p=2$nn/xMPV8K3Dv+HcHytJubQ$UKBtJva7r7Muzx/JLr4YA9k1gGrgGM1fhM9LCqXQW4s"},
		{"leading zero", "$argon2id$v=19$m=019456,t=2,p=1$nn/xMPV8K3Dv+HcHytJubQ$UKBtJva7r7Muzx/JLr4YA9k1gGrgGM1fhM9LCqXQW4s"},
		{"memory overflow", "$argon2id$v=19$m=99999999999,t=2,p=1$nn/xMPV8K3Dv+HcHytJubQ$UKBtJva7r7Muzx/JLr4YA9k1gGrgGM1fhM9LCqXQW4s"},
		{"parallelism 256", "$argon2id$v=19$m=19456,t=2,p=256$nn/xMPV8K3Dv+HcHytJubQ$UKBtJva7r7Muzx/JLr4YA9k1gGrgGM1fhM9LCqXQW4s"},
		{"non-canonical base64 tail", "$argon2id$v=19$m=19456,t=2,p=1$nn/xMPV8K3Dv+HcHytJubR$UKBtJva7r7Muzx/JLr4YA9k1gGrgGM1fhM9LCqXQW4s"},
	}
	for _, e := range extra {
		v.Malformed = append(v.Malformed, struct {
			Why string `json:"why"`
			PHC string `json:"phc"`
		}{e.Why, e.PHC})
	}
	for _, tc := range v.Malformed {
		t.Run(tc.Why, func(t *testing.T) {
			_, err := Parse(tc.PHC)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %v, want ErrMalformed", err)
			}
			// Messages describe the defect; they never echo the input.
			if tc.PHC != "" && strings.Contains(err.Error(), tc.PHC) {
				t.Fatalf("error quotes the input: %v", err)
			}
		})
	}
}

// TestGenerateMatchesRustDefaults checks the default parameters themselves,
// so it runs Argon2 at full cost.
func TestGenerateDefaults(t *testing.T) {
	phc, err := Generate("correct-horse-battery-staple", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("prefix of %q", phc)
	}
	h, err := Parse(phc)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Salt) != 16 || len(h.Key) != 32 {
		t.Fatalf("salt %d bytes, key %d bytes; want 16 and 32", len(h.Salt), len(h.Key))
	}
	if ok, err := h.Verify("correct-horse-battery-staple"); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	if h.WeakerThan(DefaultParams) {
		t.Fatal("a default hash is weaker than the defaults")
	}
	again, _ := Generate("correct-horse-battery-staple", DefaultParams)
	if again == phc {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestWeakerThan(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.Valid {
		h, err := Parse(tc.PHC)
		if err != nil {
			t.Fatal(err)
		}
		want := tc.Variant != "argon2id" || tc.M < 19456 || tc.T < 2 || tc.SaltLen < 16 || tc.HashLen < 32
		if got := h.WeakerThan(DefaultParams); got != want {
			t.Errorf("%s: WeakerThan(defaults) = %v, want %v", tc.PHC, got, want)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"defaults", DefaultParams, true},
		{"zero iterations", Params{Memory: 64, Iterations: 0, Parallelism: 1, SaltLen: 16, KeyLen: 32}, false},
		{"zero lanes", Params{Memory: 64, Iterations: 1, Parallelism: 0, SaltLen: 16, KeyLen: 32}, false},
		{"memory below 8p", Params{Memory: 15, Iterations: 1, Parallelism: 2, SaltLen: 16, KeyLen: 32}, false},
		{"short salt", Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 4, KeyLen: 32}, false},
		{"short key", Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 2}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// checkRoundTrip checks that h encodes back to phc and verifies its
// password and no other; an Argon2d hash must say it cannot be verified.
func checkRoundTrip(t *testing.T, h *Hash, phc, pw string) {
	t.Helper()
	if got := h.String(); got != phc {
		t.Errorf("String() = %q, want %q", got, phc)
	}
	ok, err := h.Verify(pw)
	if h.Variant == Argon2d {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("Verify argon2d: err = %v, want ErrUnsupported", err)
		}
		return
	}
	if err != nil || !ok {
		t.Fatalf("Verify(its password) = %v, %v; want true", ok, err)
	}
	if ok, _ := h.Verify(pw + "x"); ok {
		t.Fatal("Verify(another password) = true")
	}
}
