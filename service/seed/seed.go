// Package seed makes sure what the first start needs exists: the access
// part (default channel, roles, superadmin; access.Seed) and, while the
// catalogue is empty, a few sample product variants (catalog.Seed), in one
// transaction.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/catalog"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/session"
)

// Config is what the first start needs.
type Config = access.SeedConfig

// Seed is idempotent: on later starts it only brings the SuperAdmin role up
// to every assignable permission and on every channel, and the default
// channel's token in line with a configured one.
func Seed(ctx context.Context, db *bun.DB, hasher password.Hasher, now time.Time, cfg Config) error {
	now = now.UTC()
	return session.RunInTx(ctx, db, func(ctx context.Context, t *session.Tx) error {
		// A write first: on SQLite it takes the write lock at once, waiting
		// its busy timeout for other processes on the file, whereas a
		// transaction that reads first and writes later fails at once
		// (SQLITE_BUSY_SNAPSHOT) when another process wrote in between. A
		// no-op elsewhere.
		if _, err := t.NewRaw(`UPDATE channel SET id = id WHERE false`).Exec(ctx); err != nil {
			return fmt.Errorf("take the write lock: %w", err)
		}
		ch, err := access.Seed(ctx, t, hasher, now, cfg)
		if err != nil {
			return err
		}
		return catalog.Seed(ctx, t, now, ch.DefaultCurrencyCode)
	})
}
