package reconcile

import (
	"crypto/sha256"
	"sync"

	"github.com/barycenter/usersync/internal/password"
)

// Memo remembers the Argon2 results of one run, so that a first pass made
// before the sync lock is taken (see Prepare) spares the locked pass the
// same work: the lock, and on SQLite the database's write lock, is then
// held for the writes, not for the hashing. It lives in memory only and is
// never stored. The zero value is not usable: call NewMemo.
type Memo struct {
	mu       sync.Mutex
	verified map[[32]byte]bool   // SHA-256(phc, password) -> result
	hashed   map[string]hashMemo // username -> the hash made of its password
}

type hashMemo struct {
	password string
	params   password.Params
	phc      string
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo {
	return &Memo{verified: map[[32]byte]bool{}, hashed: map[string]hashMemo{}}
}

func verifyKey(phc, pw string) [32]byte {
	h := sha256.New()
	h.Write([]byte(phc))
	h.Write([]byte{0})
	h.Write([]byte(pw))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// verify returns the remembered result of verifying pw against phc.
func (m *Memo) verify(phc, pw string) (ok, found bool) {
	if m == nil {
		return false, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ok, found = m.verified[verifyKey(phc, pw)]
	return ok, found
}

func (m *Memo) rememberVerify(phc, pw string, ok bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.verified[verifyKey(phc, pw)] = ok
}

// hash returns the hash made earlier in this run of username's password,
// when it was made of the same password with the same parameters. Each
// user keeps a hash of its own: two users with one password never share a
// salt.
func (m *Memo) hash(username, pw string, p password.Params) (string, bool) {
	if m == nil {
		return "", false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.hashed[username]
	if !ok || h.password != pw || h.params != p {
		return "", false
	}
	return h.phc, true
}

func (m *Memo) rememberHash(username, pw string, p password.Params, phc string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hashed[username] = hashMemo{password: pw, params: p, phc: phc}
}
