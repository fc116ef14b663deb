// Package migrations embeds the SQL schema, applied in file-name order by
// internal/store.Migrate (jackc/tern) from `rpserver migrate` and at start.
package migrations

import "embed"

//go:embed *.sql
var FS embed.FS
