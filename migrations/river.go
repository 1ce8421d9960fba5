package migrations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/database"
)

// riverTimeout bounds River's migrations. They do not go through bun, so
// its per-statement deadline does not reach them; on a fresh database they
// take milliseconds.
const riverTimeout = 2 * time.Minute

// River returns River's own migrations for a dialect, in order: the
// schema of its job queue (river_job, river_leader, river_queue, ...),
// which Run applies after ours. They come from River's driver, so
// upgrading River upgrades them; tests key their template database on
// them.
func River(dialect string) ([]rivermigrate.Migration, error) {
	var (
		m interface {
			AllVersions() []rivermigrate.Migration
		}
		err error
	)
	switch dialect {
	case Postgres:
		m, err = rivermigrate.New(riverpgxv5.New(nil), nil)
	case SQLite:
		m, err = rivermigrate.New(riversqlite.New(nil), nil)
	default:
		return nil, fmt.Errorf("migrations: unsupported dialect %q (want %q or %q)", dialect, Postgres, SQLite)
	}
	if err != nil {
		return nil, fmt.Errorf("migrations: river: %w", err)
	}
	return m.AllVersions(), nil
}

// runRiver applies River's pending migrations to db: on PostgreSQL
// through the pgx pool bun uses, on SQLite through bun's *sql.DB and its
// one connection.
func runRiver(ctx context.Context, db *bun.DB) error {
	return migrateRiver(ctx, db, rivermigrate.DirectionUp, nil)
}

// RollbackRiver removes River's schema from db entirely (every River down
// migration). Our own migrations are rolled back with the bun migrator.
func RollbackRiver(ctx context.Context, db *bun.DB) error {
	return migrateRiver(ctx, db, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1})
}

func migrateRiver(ctx context.Context, db *bun.DB, dir rivermigrate.Direction, opts *rivermigrate.MigrateOpts) error {
	ctx, cancel := context.WithTimeout(ctx, riverTimeout)
	defer cancel()
	name, err := DialectOf(db)
	if err != nil {
		return err
	}
	switch name {
	case Postgres:
		pool, ok := database.PgxPool(db)
		if !ok {
			return errors.New("migrations: river needs a PostgreSQL database opened by database.Open (its pgx pool)")
		}
		return migrateWith(ctx, riverpgxv5.New(pool), dir, opts)
	default:
		return migrateWith(ctx, riversqlite.New(db.DB), dir, opts)
	}
}

func migrateWith[TTx any](ctx context.Context, d riverdriver.Driver[TTx], dir rivermigrate.Direction, opts *rivermigrate.MigrateOpts) error {
	// River logs every applied version at info; ours are silent, and
	// the test suites migrate thousands of times.
	log := slog.New(warnOnly{slog.Default().Handler()})
	m, err := rivermigrate.New(d, &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("migrations: river: %w", err)
	}
	if _, err := m.Migrate(ctx, dir, opts); err != nil {
		return fmt.Errorf("migrations: river %s: %w", dir, err)
	}
	return nil
}

// warnOnly passes on warnings and errors only.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && h.Handler.Enabled(ctx, level)
}

func (h warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{h.Handler.WithAttrs(attrs)}
}

func (h warnOnly) WithGroup(name string) slog.Handler { return warnOnly{h.Handler.WithGroup(name)} }
