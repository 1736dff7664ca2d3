package reconcile

import (
	"github.com/uptrace/bun"
)

// session is one sync's database handles and options, shared by the steps
// that Sync runs.
type session struct {
	db     *bun.DB
	conn   bun.IConn
	opts   Options
	argon2 argon2
}
