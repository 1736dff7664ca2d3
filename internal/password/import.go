package password

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on a PHC string given as a pre-hashed password (an import).
const (
	// MinImportKeyLen is the shortest hash output accepted: 16 bytes
	// (128 bits). Parse alone accepts 4.
	MinImportKeyLen = 16
	// MaxImportMemory is the largest memory cost accepted, in KiB (1 GiB):
	// the identity provider pays it at every login, so a larger one is a
	// denial of service waiting to happen, weak-hash permission or not.
	MaxImportMemory = 1 << 20
	// MaxImportLen bounds the length of the string itself, in bytes.
	MaxImportLen = 512
)

// Floor is the weakest cost accepted for a pre-hashed password. Each
// parameter is compared on its own: a hash passes when its memory,
// iterations and parallelism are all at least the floor's.
type Floor struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
}

// DefaultFloor is OWASP's minimum recommendation for Argon2id, which is
// also the identity provider's default: m=19456 KiB, t=2, p=1.
var DefaultFloor = Floor{Memory: 19456, Iterations: 2, Parallelism: 1}

// String formats f as PHC parameters: m=19456,t=2,p=1.
func (f Floor) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", f.Memory, f.Iterations, f.Parallelism)
}

// ParseFloor reads a floor written as PHC parameters, "m=19456,t=2,p=1";
// a parameter left out is not checked (0).
func ParseFloor(s string) (Floor, error) {
	var f Floor
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return Floor{}, fmt.Errorf("want m=KiB,t=iterations,p=lanes, e.g. %s", DefaultFloor)
		}
		seen[k] = true
		bits := 32
		if k == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			return Floor{}, fmt.Errorf("%s is not a number in range", k)
		}
		switch k {
		case "m":
			f.Memory = uint32(n)
		case "t":
			f.Iterations = uint32(n)
		case "p":
			f.Parallelism = uint8(n)
		default:
			return Floor{}, fmt.Errorf("unknown parameter %q: want m, t and p", k)
		}
	}
	return f, nil
}

// ErrWeak is wrapped by the error Floor.Check returns.
var ErrWeak = errors.New("argon2 parameters below the floor")

// Check returns an error wrapping ErrWeak when h costs less than f in
// memory, iterations or parallelism.
func (f Floor) Check(h *Hash) error {
	if h.Memory >= f.Memory && h.Iterations >= f.Iterations && h.Parallelism >= f.Parallelism {
		return nil
	}
	return fmt.Errorf("%w: m=%d,t=%d,p=%d is weaker than %s", ErrWeak, h.Memory, h.Iterations, h.Parallelism, f)
}

// ParseImport parses a PHC string given as a pre-hashed password: Parse's
// checks (variant argon2id, argon2i or argon2d, v=19, parameter ranges,
// base64, a salt of at least 8 bytes), plus an output of at least
// MinImportKeyLen bytes, a memory cost of at most MaxImportMemory and a
// length of at most MaxImportLen. It does not check a floor. Errors wrap
// ErrMalformed and never quote the string.
func ParseImport(phc string) (*Hash, error) {
	if len(phc) > MaxImportLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxImportLen)
	}
	h, err := Parse(phc)
	if err != nil {
		return nil, err
	}
	switch {
	case len(h.Key) < MinImportKeyLen:
		return nil, fmt.Errorf("%w: hash is shorter than %d bytes", ErrMalformed, MinImportKeyLen)
	case h.Memory > MaxImportMemory:
		return nil, fmt.Errorf("%w: memory is above %d KiB", ErrMalformed, MaxImportMemory)
	}
	return h, nil
}
