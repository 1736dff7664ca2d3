// Package migrations embeds the versioned SQL schema migrations that goose
// applies. The same schema results on SQLite and PostgreSQL.
package migrations

import "embed"

// FS holds the numbered goose migrations (00001_*.sql, …).
//
//go:embed *.sql
var FS embed.FS
