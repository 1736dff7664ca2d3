package reconcile

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/barycenter/usersync/internal/password"
	"github.com/barycenter/usersync/internal/userfile"
	"github.com/barycenter/usersync/models"
)

// maxVerifyMemory bounds the Argon2 memory (KiB) spent verifying one stored
// hash: a row claiming more (1 GiB) is not verified but replaced, so that a
// tampered row cannot exhaust the init container's memory.
const maxVerifyMemory = 1 << 20

// Diff compares each user of the file with its current row and decides
// what to do. Passwords are compared by verifying the plaintext against the
// stored hash (constant time), in parallel on opts.Workers goroutines;
// nothing is hashed here, so a plan costs only the verifications. A given
// password_hash is compared as a string, with no Argon2 work; the password
// of an existing user under policy initial is not compared at all; and a
// user in cur.Proven is not verified: the fingerprint of the last sync
// proved its password unchanged.
func Diff(ctx context.Context, f *userfile.File, cur *Current, opts Options) (*Plan, error) {
	opts = opts.withDefaults()
	if err := checkResolved(f); err != nil {
		return nil, err
	}
	now := opts.Now().Unix()
	plan := &Plan{Changes: make([]Change, len(f.Users))}
	pwChanged := make([]bool, len(f.Users))
	a := opts.hasher()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Workers)
	verifies := 0
	for i := range f.Users {
		if needsVerify(&f.Users[i], cur) {
			verifies++
		}
	}
	prog := newProgress(opts.Progress, StageVerify, verifies)
	for i := range f.Users {
		u, c := &f.Users[i], &plan.Changes[i]
		c.User = u
		row := cur.Users[u.Username]
		if row == nil {
			c.Action, c.NeedHash = Create, u.PasswordHash == ""
			c.Row = newRow(u, opts.NewSubject(), now)
			c.Properties = propertyRows(u, c.Row.Subject, nil, now)
			continue
		}
		c.Row = *row
		c.Fields, c.Columns = applyFields(u, &c.Row)
		c.Fields, c.Columns = reenablePruned(u, cur.Managed[u.Username], &c.Row, c.Fields, c.Columns)
		c.Properties = propertyRows(u, row.Subject, cur.Properties[row.Subject], now)
		c.DeleteProperties = propertyDeletes(u, cur.Properties[row.Subject])
		stored := row.PasswordHash
		switch {
		case u.PasswordPolicy == userfile.PolicyInitial:
			continue // set at creation only: a password changed since is kept
		case u.PasswordHash != "":
			pwChanged[i] = stored != u.PasswordHash // a given hash is compared as a string
			continue
		case cur.Proven[u.Username]:
			pwChanged[i], c.Rehash = provenPassword(stored, opts.Params)
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			pwChanged[i], c.Rehash = comparePassword(a, stored, u.Password, opts.Params)
			prog.step()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("compare passwords: %w", err)
	}
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Action == Create {
			continue
		}
		if pwChanged[i] || c.Rehash {
			c.NeedHash = c.User.PasswordHash == ""
			if !c.NeedHash {
				c.Row.PasswordHash = c.User.PasswordHash
			}
			c.Fields = append([]string{FieldPassword}, c.Fields...)
			c.Columns = append([]string{"password_hash"}, c.Columns...)
		}
		c.Fields = append(c.Fields, propertyFields(c)...)
		c.Action = Unchanged
		if len(c.Fields) > 0 {
			c.Action = Update
		}
	}
	planManaged(f, cur, plan, opts, now)
	return plan, nil
}

// needsVerify reports whether Diff verifies u's password against its stored
// hash with Argon2: an existing user with a plaintext password, under
// policy always, not proven unchanged by the fingerprint.
func needsVerify(u *userfile.User, cur *Current) bool {
	return cur.Users[u.Username] != nil && u.PasswordPolicy != userfile.PolicyInitial &&
		u.PasswordHash == "" && !cur.Proven[u.Username]
}

// comparePassword reports whether the stored hash must be replaced because
// the password differs (changed) or because the hash is weaker than p while
// the password matches (rehash). A stored value that cannot be parsed or
// verified here (not Argon2, Argon2d, absurd cost) counts as changed.
func comparePassword(a argon2, stored, plain string, p password.Params) (changed, rehash bool) {
	h, err := password.Parse(stored)
	if err != nil || h.Memory > maxVerifyMemory {
		return true, false
	}
	ok, err := a.verify(h, plain)
	if err != nil || !ok {
		return true, false
	}
	return false, h.WeakerThan(p)
}

// provenPassword is comparePassword for a password the fingerprint proved
// to match stored: no Argon2, only the check for a weaker hash.
func provenPassword(stored string, p password.Params) (changed, rehash bool) {
	h, err := password.Parse(stored)
	if err != nil {
		return true, false
	}
	return false, h.WeakerThan(p)
}

// applyFields sets the file's non-password fields on row and returns the
// names of those that differ and their columns.
func applyFields(u *userfile.User, row *models.User) (fields, columns []string) {
	if u.Email.Set {
		var want *string
		if !u.Email.Null {
			want = &u.Email.Value
		}
		if !equalPtr(row.Email, want) {
			row.Email = want
			fields, columns = append(fields, FieldEmail), append(columns, "email")
		}
	}
	for _, b := range []struct {
		want   *bool
		dst    *int64
		field  string
		column string
	}{
		{u.Enabled, &row.Enabled, FieldEnabled, "enabled"},
		{u.EmailVerified, &row.EmailVerified, FieldEmailVerified, "email_verified"},
		{u.Requires2FA, &row.Requires2FA, FieldRequires2FA, "requires_2fa"},
	} {
		if b.want == nil {
			continue
		}
		if v := boolInt(*b.want); *b.dst != v {
			*b.dst = v
			fields, columns = append(fields, b.field), append(columns, b.column)
		}
	}
	return fields, columns
}

// propertyRows returns the file's properties that differ from the stored
// ones, as rows to write, in key order.
func propertyRows(u *userfile.User, subject string, stored map[string]models.Property, now int64) []models.Property {
	var out []models.Property
	for _, k := range u.PropertyKeys() {
		want := u.Properties[k]
		if p, ok := stored[k]; ok {
			got, err := userfile.Canonical([]byte(p.Value))
			if err != nil {
				got = p.Value
			}
			if got == want {
				continue
			}
		}
		out = append(out, models.Property{Owner: subject, Key: k, Value: want, UpdatedAt: now})
	}
	return out
}

// propertyDeletes returns, sorted, the stored keys the file deletes: those
// set to null, and under properties_mode replace every key not in the file.
func propertyDeletes(u *userfile.User, stored map[string]models.Property) []string {
	var out []string
	for k := range stored {
		_, keep := u.Properties[k]
		if (u.PropertiesReplace && !keep) || slices.Contains(u.DeleteProperties, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// propertyFields names the properties a change writes or deletes,
// "properties.<key>", sorted by key.
func propertyFields(c *Change) []string {
	keys := slices.Clone(c.DeleteProperties)
	for _, p := range c.Properties {
		keys = append(keys, p.Key)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = FieldPropertyPrefix + k
	}
	return out
}

func newRow(u *userfile.User, subject string, now int64) models.User {
	row := models.User{Subject: subject, Username: u.Username, PasswordHash: u.PasswordHash, CreatedAt: now, Enabled: 1}
	if u.Email.Set && !u.Email.Null {
		e := u.Email.Value
		row.Email = &e
	}
	if u.Enabled != nil {
		row.Enabled = boolInt(*u.Enabled)
	}
	if u.EmailVerified != nil {
		row.EmailVerified = boolInt(*u.EmailVerified)
	}
	if u.Requires2FA != nil {
		row.Requires2FA = boolInt(*u.Requires2FA)
	}
	return row
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func equalPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// newSubject returns a random version 4 UUID: the subject is random, stable
// and never reused.
func newSubject() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
