package reconcile

import (
	"math"
	"runtime"
	"runtime/debug"
	"sync/atomic"

	"github.com/barycenter/usersync/internal/password"
)

// DefaultMemoryLimit is the soft Go memory limit the usersync command sets
// for itself when GOMEMLIMIT is unset: 160 MiB, so that a sync fits the 256
// MiB memory limit init containers are commonly given, with room for what
// the Go heap does not count (SQLite's page cache, stacks) and under the
// 200 MiB peak the benchmarks hold it to (100,000 users peak at about 175
// MiB with it, 206 MiB with 192 MiB).
const DefaultMemoryLimit int64 = 160 << 20

// DefaultMemoryBudget is the Argon2 memory (bytes) that concurrent hashes
// may hold together when no Go memory limit is set: 80 MiB, half of
// DefaultMemoryLimit (four hashes at the default m=19456 KiB).
const DefaultMemoryBudget = DefaultMemoryLimit / 2

// MemoryBudget returns the Argon2 memory budget in bytes: half of the Go
// memory limit when one is set (GOMEMLIMIT or debug.SetMemoryLimit; the
// other half is left to the decoded file, the driver and the collector),
// DefaultMemoryBudget otherwise.
func MemoryBudget() int64 {
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 && l > 0 {
		return l / 2
	}
	return DefaultMemoryBudget
}

// HashWorkers returns how many Argon2 computations may run at once:
// requested, or GOMAXPROCS (which follows the container's CPU limit) when
// requested is 0, capped so that workers × p.Memory stays within budget
// bytes (0: MemoryBudget()), and at least one.
func HashWorkers(requested int, p password.Params, budget int64) int {
	n := requested
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if budget <= 0 {
		budget = MemoryBudget()
	}
	if per := int64(p.Memory) << 10; per > 0 && int64(n)*per > budget {
		n = int(budget / per)
	}
	return max(n, 1)
}

// argon2 runs every Argon2 computation of a sync, so that they are counted
// in one place.
type argon2 struct {
	calls *atomic.Int64
	memo  *Memo // nil: remember nothing
}

func (a argon2) count() {
	if a.calls != nil {
		a.calls.Add(1)
	}
}

// generate hashes pw with a fresh salt.
func (a argon2) generate(pw string, p password.Params) (string, error) {
	a.count()
	return password.Generate(pw, p)
}

// verify reports whether pw matches the parsed hash h, from the memo when
// this run verified the same pair before.
func (a argon2) verify(h *password.Hash, pw string) (bool, error) {
	phc := h.String()
	if ok, found := a.memo.verify(phc, pw); found {
		return ok, nil
	}
	a.count()
	ok, err := h.Verify(pw)
	if err == nil {
		a.memo.rememberVerify(phc, pw, ok)
	}
	return ok, err
}

// hashUser hashes the password of username, or returns the hash this run
// already made of it.
func (a argon2) hashUser(username, pw string, p password.Params) (string, error) {
	if phc, ok := a.memo.hash(username, pw, p); ok {
		return phc, nil
	}
	phc, err := a.generate(pw, p)
	if err == nil {
		a.memo.rememberHash(username, pw, p, phc)
	}
	return phc, err
}
