package reconcile

import (
	"testing"

	"github.com/barycenter/usersync/internal/dbtest"
	"github.com/barycenter/usersync/internal/password"
)

// BenchmarkHash is one Argon2id hash at the default cost: t_hash.
func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := password.Generate("benchmark", password.DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSync times the sync of a file of n users at params on a fresh
// SQLite file, after setup syncs (untimed).
func benchSync(b *testing.B, n int, params password.Params, setup int, mutate func([]testUser)) {
	us := testUsers(n)
	for b.Loop() {
		b.StopTimer()
		db := migrated(b, dbtest.SQLiteURL(b))
		f := usersFile(b, us)
		for range setup {
			syncOnce(b, db, f, Options{Params: params})
		}
		if mutate != nil {
			cp := append([]testUser(nil), us...)
			mutate(cp)
			f = usersFile(b, cp)
		}
		b.StartTimer()
		syncOnce(b, db, f, Options{Params: params})
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

// BenchmarkColdSync100 is a cold sync of 100 users at the default cost.
func BenchmarkColdSync100(b *testing.B) {
	benchSync(b, 100, password.DefaultParams, 0, nil)
}

// BenchmarkResyncUnchanged10k is the re-run of an unchanged file of 10,000
// users (set up at a cheap cost; the re-run's one Argon2 is the top
// fingerprint's).
func BenchmarkResyncUnchanged10k(b *testing.B) {
	benchSync(b, 10000, cheap, 1, nil)
}

// BenchmarkResyncOneEmail10k changes one email of 10,000 users.
func BenchmarkResyncOneEmail10k(b *testing.B) {
	benchSync(b, 10000, cheap, 1, func(us []testUser) { us[5000].email = "changed@example.com" })
}

// BenchmarkColdImport100k is a cold sync of 100,000 users at a negligible
// Argon2 cost: the database and bookkeeping side of a large import.
func BenchmarkColdImport100k(b *testing.B) {
	benchSync(b, 100000, cheap, 0, nil)
}
