// Package migrations owns the database schema. It holds one folder of SQL
// migrations per dialect (postgres/ and sqlite/), with the same migration IDs
// in both, and runs them with bun's migrate package; River's job-queue
// tables come from River's own migrations (rivermigrate), which Run applies
// after ours.
//
// Run holds a lock (see Lock) while it migrates, so that instances starting
// together on one database migrate it one at a time, and a holder that dies
// leaves no lock behind. Migrations are written expand-then-contract: the
// previous release must keep working on the new schema (docs/migrations.md).
//
// Every migration is a pair of .tx.up.sql / .tx.down.sql files, so it runs in
// a transaction and a failing migration leaves nothing behind; the one
// exception is a PostgreSQL index built on a hot table, a pair of .up.sql /
// .down.sql files that only drop and create indexes CONCURRENTLY, which
// cannot run in a transaction (docs/migrations.md). Statements are
// separated by --bun:split lines. The files must not contain a question mark:
// bun treats it as a query placeholder.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"

	"github.com/shopsession/sessionserver/database"
)

// Dialect names accepted by For and Files: database's, so that a name
// config or database.Open takes is one that migrations knows.
const (
	Postgres = database.Postgres
	SQLite   = database.SQLite
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Files returns the SQL migration files of one dialect, "postgres" or
// "sqlite", at the root of the returned file system.
func Files(dialect string) (fs.FS, error) {
	if dialect != Postgres && dialect != SQLite {
		return nil, fmt.Errorf("migrations: unsupported dialect %q (want %q or %q)", dialect, Postgres, SQLite)
	}
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: %s: %w", dialect, err)
	}
	return sub, nil
}

// For returns the migrations of one dialect: "postgres" or "sqlite". Each
// call returns a fresh set.
func For(dialect string) (*migrate.Migrations, error) {
	// Discover walks its fs recursively and keys migrations by file name,
	// so each dialect gets its own sub-tree.
	sub, err := Files(dialect)
	if err != nil {
		return nil, err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return nil, fmt.Errorf("migrations: discover %s: %w", dialect, err)
	}
	return ms, nil
}

// NewMigrator returns a migrator for db, with the migrations of db's dialect.
// A migration is recorded as applied only after it succeeded. Call Init on
// the migrator before using it.
func NewMigrator(db *bun.DB) (*migrate.Migrator, error) {
	name, err := DialectOf(db)
	if err != nil {
		return nil, err
	}
	ms, err := For(name)
	if err != nil {
		return nil, err
	}
	return migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true)), nil
}

// DialectOf returns the name of db's dialect as For takes it.
func DialectOf(db *bun.DB) (string, error) {
	switch n := db.Dialect().Name(); n {
	case dialect.PG:
		return Postgres, nil
	case dialect.SQLite:
		return SQLite, nil
	default:
		return "", fmt.Errorf("migrations: unsupported bun dialect %s", n)
	}
}

// Options tunes RunWith. The zero value is ready to use.
type Options struct {
	// After, when set, runs once the migrations are applied, under the
	// same hold of the lock (app.New seeds the database there), so that
	// instances starting together run it one at a time, each after the
	// previous one's changes committed.
	After func(ctx context.Context) error
	// Logger is told when the lock is waited for. Defaults to
	// slog.Default().
	Logger *slog.Logger
}

// Run applies every migration not yet applied to db, choosing the folder by
// db's dialect, then River's own migrations (see River), holding the
// schema lock (see Lock) throughout. Instances starting together on one
// database all succeed: one migrates while the others wait for the lock,
// then find nothing left to apply. Running it on an up-to-date database
// does nothing.
func Run(ctx context.Context, db *bun.DB) error {
	return RunWith(ctx, db, Options{})
}

// RunWith is Run with options.
func RunWith(ctx context.Context, db *bun.DB, opts Options) (err error) {
	m, err := NewMigrator(db)
	if err != nil {
		return err
	}
	release, err := Lock(ctx, db, opts.Logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, release()) }()
	// Init creates bun's tables if missing; under the lock, so that two
	// instances do not race on creating them.
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("migrations: init: %w", err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrations: migrate: %w", err)
	}
	// River's tables follow ours, under the same lock.
	if err := runRiver(ctx, db); err != nil {
		return err
	}
	if opts.After != nil {
		return opts.After(ctx)
	}
	return nil
}

// Newest returns the ID of the newest migration of a dialect, "postgres"
// or "sqlite": the last one this build applies.
func Newest(dialect string) (string, error) {
	ms, err := For(dialect)
	if err != nil {
		return "", err
	}
	sorted := ms.Sorted()
	if len(sorted) == 0 {
		return "", fmt.Errorf("migrations: %s has none", dialect)
	}
	return sorted[len(sorted)-1].Name, nil
}

// Applied reports whether the migration with the given ID is recorded as
// applied in db (a migration rolled back is not).
func Applied(ctx context.Context, db bun.IDB, id string) (bool, error) {
	return db.NewSelect().Table("bun_migrations").Where("name = ?", id).Exists(ctx)
}
