package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/models"
)

// The fingerprint of the last successful sync lets a run prove, at the
// cost of one Argon2 computation for an unchanged file, that a user's
// stored hash still verifies the file's password, so that Diff need not
// verify it. The README ("Re-syncing without re-hashing") gives the design
// and its security argument; in short:
//
//   - the file's users are put in k ≈ √N buckets by a stable hash of the
//     username (k is kept from the previous sync while N stays within a
//     factor of four of k², so adding a user does not move the others);
//   - per bucket, the state table keeps an Argon2id PHC string (own random
//     salt, the configured cost) over the bucket's (username, password)
//     pairs, and a SHA-256 of the members' password_hash values as the
//     sync left them; one more row keeps an Argon2id string over all
//     buckets' pairs;
//   - a run verifies the top string (one Argon2); if the pairs changed,
//     it verifies the k bucket strings; a bucket whose pairs are unchanged
//     and whose members' stored hashes are those the last sync left
//     (digest equal) is proven: its members' hashes verified these very
//     passwords when they were written or compared.
//
// Non-password fields and properties are always compared with the rows.

// topBucket is the Bucket of the state row whose fingerprint covers every
// bucket.
const topBucket = -1

// fingerprint paths, as logged.
const (
	pathNone     = "none"     // no usable state: every password is verified
	pathTop      = "top"      // the top fingerprint matched
	pathBuckets  = "buckets"  // the top differed: bucket fingerprints checked
	pathRebucket = "rebucket" // the file's size moved k: every password is verified
)

// fingerprint is one run's view of the stored fingerprint: the buckets of
// the file, what they proved, and what to write back.
type fingerprint struct {
	path    string
	k       int
	members [][]*userfile.User // per bucket, sorted by username
	pairs   [][]byte           // per bucket: SHA-256 of its (username, password) pairs; never stored
	top     []byte             // SHA-256 over every pairs digest; never stored
	stored  map[int64]models.SyncState
	same    []bool // bucket b's pairs are those of its stored fingerprint
	topSame bool
	proven  int // users proven unchanged
}

// member reports whether u's password takes part in the fingerprint: a
// user whose stored hash is, after every successful sync, known to verify
// the file's plaintext password. A user given without a plaintext password
// does not; neither must one whose password a policy leaves unchecked.
func member(u *userfile.User) bool {
	return u.Password != "" && u.PasswordHash == "" && u.PasswordPolicy != userfile.PolicyInitial
}

// bucketOf places a username in one of k buckets, stably across runs.
func bucketOf(username string, k int) int {
	h := fnv.New64a()
	h.Write([]byte(username))
	return int(h.Sum64() % uint64(k))
}

// bucketCount returns k for n members: the stored k while √n stays
// within a factor of two of it, else round(√n), at least 1.
func bucketCount(n, stored int) int {
	if stored > 0 && n <= 4*stored*stored && 4*n >= stored*stored {
		return stored
	}
	return max(1, int(math.Round(math.Sqrt(float64(n)))))
}

func writeField(h hash.Hash, s string) {
	var b [binary.MaxVarintLen64]byte
	h.Write(b[:binary.PutUvarint(b[:], uint64(len(s)))])
	h.Write([]byte(s))
}

// pairsDigest is the Argon2 input of a bucket fingerprint.
func pairsDigest(k, b int, members []*userfile.User) []byte {
	h := sha256.New()
	writeField(h, fmt.Sprintf("usersync bucket pairs v1 k=%d b=%d", k, b))
	for _, u := range members {
		writeField(h, u.Username)
		writeField(h, u.Password)
	}
	return h.Sum(nil)
}

// hashesDigest is the hex SHA-256 of the members' password hashes, as
// hashOf gives them ("" for a missing row).
func hashesDigest(members []*userfile.User, hashOf func(string) (string, bool)) string {
	h := sha256.New()
	writeField(h, "usersync bucket hashes v1")
	for _, u := range members {
		writeField(h, u.Username)
		if ph, ok := hashOf(u.Username); ok {
			writeField(h, "+"+ph)
		} else {
			writeField(h, "-")
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// loadState reads the state table.
func loadState(ctx context.Context, s *session) (map[int64]models.SyncState, error) {
	var rows []models.SyncState
	if err := s.db.NewSelect().Conn(s.conn).Model(&rows).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	out := make(map[int64]models.SyncState, len(rows))
	for _, r := range rows {
		out[r.Bucket] = r
	}
	return out, nil
}

// checkFingerprint buckets the file's users, compares them with the stored
// fingerprint and returns it with the set of usernames whose passwords it
// proves unchanged.
func checkFingerprint(ctx context.Context, s *session, f *userfile.File, cur *Current, stored map[int64]models.SyncState) (*fingerprint, map[string]bool, error) {
	var n int
	for i := range f.Users {
		if member(&f.Users[i]) {
			n++
		}
	}
	top, hasTop := stored[topBucket]
	fp := &fingerprint{path: pathNone, stored: stored}
	fp.k = bucketCount(n, int(top.Buckets))
	fp.members = make([][]*userfile.User, fp.k)
	for i := range f.Users {
		if u := &f.Users[i]; member(u) {
			b := bucketOf(u.Username, fp.k)
			fp.members[b] = append(fp.members[b], u)
		}
	}
	all := sha256.New()
	writeField(all, fmt.Sprintf("usersync top pairs v1 k=%d", fp.k))
	fp.pairs = make([][]byte, fp.k)
	for b, m := range fp.members {
		slices.SortFunc(m, func(x, y *userfile.User) int { return strings.Compare(x.Username, y.Username) })
		fp.pairs[b] = pairsDigest(fp.k, b, m)
		all.Write(fp.pairs[b])
	}
	fp.top = all.Sum(nil)
	fp.same = make([]bool, fp.k)
	switch {
	case !hasTop:
		return fp, nil, nil
	case int(top.Buckets) != fp.k:
		fp.path = pathRebucket
		return fp, nil, nil
	}

	if fp.topSame = s.matches(top.Fingerprint, fp.top); fp.topSame {
		fp.path = pathTop
		for b := range fp.same {
			_, fp.same[b] = stored[int64(b)]
		}
	} else {
		fp.path = pathBuckets
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(s.opts.Workers)
		for b := range fp.same {
			row, ok := stored[int64(b)]
			if !ok || row.Buckets != int64(fp.k) {
				continue
			}
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				fp.same[b] = s.matches(row.Fingerprint, fp.pairs[b])
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, nil, fmt.Errorf("check fingerprint: %w", err)
		}
	}

	proven := map[string]bool{}
	current := func(name string) (string, bool) {
		if r := cur.Users[name]; r != nil {
			return r.PasswordHash, true
		}
		return "", false
	}
	for b, m := range fp.members {
		if fp.same[b] && hashesDigest(m, current) == stored[int64(b)].Hashes {
			for _, u := range m {
				proven[u.Username] = true
			}
		}
	}
	fp.proven = len(proven)
	return fp, proven, nil
}

// matches reports whether the stored fingerprint phc was made from input.
// One that cannot be parsed or verified here, or that claims more memory
// than a stored hash may, matches nothing.
func (s *session) matches(phc string, input []byte) bool {
	h, err := password.Parse(phc)
	if err != nil || h.Memory > maxVerifyMemory {
		return false
	}
	ok, err := s.argon2.verify(h, string(input))
	return err == nil && ok
}

// reusable reports whether a stored fingerprint may be kept: its input is
// unchanged and it is not weaker than the configured parameters.
func (s *session) reusable(same bool, phc string) bool {
	if !same {
		return false
	}
	h, err := password.Parse(phc)
	return err == nil && !h.WeakerThan(s.opts.Params)
}

// saveFingerprint writes the fingerprint of the sync the plan completes:
// for each bucket the Argon2id string over its pairs (kept when the pairs
// did not change) and the digest of its members' final password hashes.
// Only rows that differ are written: an unchanged file writes nothing.
func saveFingerprint(ctx context.Context, s *session, fp *fingerprint, plan *Plan) error {
	final := make(map[string]string, len(plan.Changes))
	for i := range plan.Changes {
		c := &plan.Changes[i]
		final[c.User.Username] = c.Row.PasswordHash
	}
	hashOf := func(name string) (string, bool) { h, ok := final[name]; return h, ok }
	now := s.opts.Now().Unix()

	rows := make([]models.SyncState, fp.k+1)
	combined := sha256.New()
	for b := range fp.k {
		rows[b] = models.SyncState{Bucket: int64(b), Buckets: int64(fp.k), Hashes: hashesDigest(fp.members[b], hashOf), UpdatedAt: now}
		combined.Write([]byte(rows[b].Hashes))
		if old, ok := fp.stored[int64(b)]; ok && s.reusable(fp.same[b], old.Fingerprint) {
			rows[b].Fingerprint = old.Fingerprint
		}
	}
	topRow := &rows[fp.k]
	*topRow = models.SyncState{Bucket: topBucket, Buckets: int64(fp.k), Hashes: hex.EncodeToString(combined.Sum(nil)), UpdatedAt: now}
	if old, ok := fp.stored[topBucket]; ok && s.reusable(fp.topSame, old.Fingerprint) {
		topRow.Fingerprint = old.Fingerprint
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.Workers)
	for i := range rows {
		r := &rows[i]
		if r.Fingerprint != "" {
			continue
		}
		input := fp.top
		if r.Bucket != topBucket {
			input = fp.pairs[r.Bucket]
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			phc, err := s.argon2.generate(string(input), s.opts.Params)
			r.Fingerprint = phc
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("compute fingerprint: %w", err)
	}

	var changed []models.SyncState
	for _, r := range rows {
		old, ok := fp.stored[r.Bucket]
		if !ok || old.Buckets != r.Buckets || old.Fingerprint != r.Fingerprint || old.Hashes != r.Hashes {
			changed = append(changed, r)
		}
	}
	for chunk := range chunks(changed, chunkSize) {
		_, err := s.db.NewInsert().Conn(s.conn).Model(&chunk).
			On("CONFLICT (bucket) DO UPDATE").
			Set("buckets = EXCLUDED.buckets").
			Set("fingerprint = EXCLUDED.fingerprint").
			Set("hashes = EXCLUDED.hashes").
			Set("updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("write sync state: %w", err)
		}
	}
	for b := range fp.stored {
		if b >= int64(fp.k) {
			if _, err := s.db.NewDelete().Conn(s.conn).Model((*models.SyncState)(nil)).Where("bucket >= ?", fp.k).Exec(ctx); err != nil {
				return fmt.Errorf("write sync state: %w", err)
			}
			break
		}
	}
	return nil
}
