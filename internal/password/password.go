// Package password hashes and verifies passwords as Argon2 PHC strings,
// the format the identity provider verifies. It is the only package of
// usersync that imports golang.org/x/crypto.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Variant names an Argon2 variant as it appears in a PHC string.
type Variant string

// The Argon2 variants a PHC string may name. Go can compute Argon2id and
// Argon2i; Argon2d strings parse but cannot be verified here.
const (
	Argon2id Variant = "argon2id"
	Argon2i  Variant = "argon2i"
	Argon2d  Variant = "argon2d"
)

// Version is the only Argon2 version accepted: 0x13, written v=19.
const Version = 19

// Params are the Argon2 cost parameters and sizes used to make a new hash.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32 // bytes
	KeyLen      uint32 // bytes
}

// DefaultParams are the identity provider's defaults (the Rust argon2
// crate's): Argon2id, m=19456 KiB, t=2, p=1, a 16-byte salt and a 32-byte
// output. They are also OWASP's minimum recommendation for Argon2id.
var DefaultParams = Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Validate reports whether p can produce a hash.
func (p Params) Validate() error {
	switch {
	case p.Iterations < 1:
		return errors.New("argon2 iterations must be at least 1")
	case p.Parallelism < 1:
		return errors.New("argon2 parallelism must be at least 1")
	case p.Memory < 8*uint32(p.Parallelism):
		return fmt.Errorf("argon2 memory must be at least 8 KiB per lane (%d KiB)", 8*uint32(p.Parallelism))
	case p.SaltLen < 8:
		return errors.New("argon2 salt length must be at least 8 bytes")
	case p.KeyLen < 4:
		return errors.New("argon2 output length must be at least 4 bytes")
	}
	return nil
}

// String formats p as PHC parameters, for messages.
func (p Params) String() string {
	return fmt.Sprintf("argon2id m=%d,t=%d,p=%d salt=%dB hash=%dB", p.Memory, p.Iterations, p.Parallelism, p.SaltLen, p.KeyLen)
}

// Hash is a parsed Argon2 PHC string.
type Hash struct {
	Variant     Variant
	Memory      uint32
	Iterations  uint32
	Parallelism uint8
	Salt        []byte
	Key         []byte
}

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("malformed argon2 PHC string")

// ErrUnsupported is returned by Verify for a hash Go cannot compute (Argon2d).
var ErrUnsupported = errors.New("argon2 variant cannot be verified")

var b64 = base64.RawStdEncoding.Strict()

// Generate hashes pw with Argon2id and a fresh random salt and returns the
// PHC string.
func Generate(pw string, p Params) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read random salt: %w", err)
	}
	h := Hash{
		Variant: Argon2id, Memory: p.Memory, Iterations: p.Iterations, Parallelism: p.Parallelism,
		Salt: salt, Key: argon2.IDKey([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen),
	}
	return h.String(), nil
}

// String encodes h in the PHC format: $variant$v=19$m=M,t=T,p=P$salt$hash.
func (h *Hash) String() string {
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", h.Variant, Version, h.Memory, h.Iterations,
		h.Parallelism, b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
}

// Parse decodes an Argon2 PHC string strictly: the variant, v=19, the
// parameters in the order m,t,p, unpadded standard base64 for salt and hash,
// a salt of at least 8 bytes and an output of at least 4. Errors describe
// the defect without quoting the string.
func Parse(s string) (*Hash, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	if !strings.HasPrefix(s, "$") {
		return nil, bad("does not start with $")
	}
	parts := strings.Split(s[1:], "$")
	if len(parts) != 5 {
		return nil, bad("want 5 $-separated fields, got %d", len(parts))
	}
	h := &Hash{Variant: Variant(parts[0])}
	switch h.Variant {
	case Argon2id, Argon2i, Argon2d:
	default:
		return nil, bad("unknown algorithm")
	}
	if parts[1] != "v=19" {
		return nil, bad("version must be v=19")
	}
	params := strings.Split(parts[2], ",")
	if len(params) != 3 {
		return nil, bad("parameters must be m=,t=,p=")
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		k, v, ok := strings.Cut(params[i], "=")
		if !ok || k != name {
			return nil, bad("parameters must be m=,t=,p= in that order")
		}
		if v == "" || (len(v) > 1 && v[0] == '0') {
			return nil, bad("parameter %s is not a decimal number", name)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, bad("parameter %s is not a decimal number in range", name)
		}
		vals[i] = n
	}
	switch {
	case vals[1] < 1:
		return nil, bad("iterations must be at least 1")
	case vals[2] < 1 || vals[2] > 255:
		return nil, bad("parallelism must be between 1 and 255")
	case vals[0] < 8*vals[2]:
		return nil, bad("memory must be at least 8 KiB per lane")
	}
	h.Memory, h.Iterations, h.Parallelism = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	var err error
	if h.Salt, err = b64.DecodeString(parts[3]); err != nil {
		return nil, bad("salt is not unpadded standard base64")
	}
	if len(h.Salt) < 8 {
		return nil, bad("salt is shorter than 8 bytes")
	}
	if h.Key, err = b64.DecodeString(parts[4]); err != nil {
		return nil, bad("hash is not unpadded standard base64")
	}
	if len(h.Key) < 4 {
		return nil, bad("hash is shorter than 4 bytes")
	}
	return h, nil
}

// Verify reports whether pw matches h, comparing in constant time.
func (h *Hash) Verify(pw string) (bool, error) {
	var key []byte
	n := uint32(len(h.Key))
	switch h.Variant {
	case Argon2id:
		key = argon2.IDKey([]byte(pw), h.Salt, h.Iterations, h.Memory, h.Parallelism, n)
	case Argon2i:
		key = argon2.Key([]byte(pw), h.Salt, h.Iterations, h.Memory, h.Parallelism, n)
	default:
		return false, fmt.Errorf("%w: %s", ErrUnsupported, h.Variant)
	}
	return subtle.ConstantTimeCompare(key, h.Key) == 1, nil
}

// Verify parses phc and reports whether pw matches it.
func Verify(phc, pw string) (bool, error) {
	h, err := Parse(phc)
	if err != nil {
		return false, err
	}
	return h.Verify(pw)
}

// WeakerThan reports whether h is not Argon2id or costs less than p in
// memory, iterations or parallelism, or is shorter in salt or output: a hash
// that should be replaced once its password is known.
func (h *Hash) WeakerThan(p Params) bool {
	return h.Variant != Argon2id || h.Memory < p.Memory || h.Iterations < p.Iterations ||
		h.Parallelism < p.Parallelism || uint32(len(h.Salt)) < p.SaltLen || uint32(len(h.Key)) < p.KeyLen
}
