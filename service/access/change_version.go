package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/shopsession/sessionserver/service/session"
	"github.com/uptrace/bun"
)

// accessVersion names the change_version counter of channels and roles:
// the channel snapshot every instance holds and the channel permissions
// every cached session carries.
const accessVersion = "access"

// bumpAccessVersion advances the access counter in t. Every committed change
// to a channel or a role does it in its own transaction, so the change and
// its announcement commit together: each instance's sync sees the new
// version within a second and reloads (see ChannelService.Sync). On
// PostgreSQL the row lock orders concurrent changes; it is taken last in
// each transaction, after the rows the change writes.
func bumpAccessVersion(ctx context.Context, t *session.Tx) error {
	var v int64
	if err := t.NewRaw("INSERT INTO change_version (name, version) VALUES (?, 1) "+
		"ON CONFLICT (name) DO UPDATE SET version = change_version.version + 1 RETURNING version",
		accessVersion).Scan(ctx, &v); err != nil {
		return fmt.Errorf("record access change: %w", err)
	}
	return nil
}

// readAccessVersion returns the access counter (0 before any change).
func readAccessVersion(ctx context.Context, db bun.IDB) (int64, error) {
	var v int64
	err := db.NewRaw("SELECT version FROM change_version WHERE name = ?", accessVersion).Scan(ctx, &v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read access version: %w", err)
	}
	return v, nil
}
