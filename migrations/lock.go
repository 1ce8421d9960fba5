package migrations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/database"
)

// LockKey is the key of the PostgreSQL advisory lock that Lock takes.
// Advisory locks belong to one database, so servers on different databases
// of one PostgreSQL server do not wait for each other.
const LockKey int64 = 0x7365_7373_6d69_6772 // "sessmigr"

// LockFileSuffix is appended to an SQLite database's file name to name the
// file Lock locks on SQLite. The file is created on first use and never
// removed: removing it while another process waits on it would let a third
// one lock a new file with the same name.
const LockFileSuffix = "-migrations.lock"

// unlockTimeout bounds releasing the lock explicitly; when it fails, closing
// the connection releases it anyway.
const unlockTimeout = 5 * time.Second

// fileLockPoll is how often a process waiting for the lock file tries it
// again.
const fileLockPoll = 50 * time.Millisecond

// pgLockPoll is how often an instance waiting for the PostgreSQL lock
// tries it again.
const pgLockPoll = 100 * time.Millisecond

// Lock takes the schema lock of db and returns the function that releases
// it. Run and RunWith hold it while they migrate, so that one instance at a
// time migrates (and seeds) a database, and the others, waiting, then find
// the work done. A holder that dies, however it dies, releases it:
//
//   - On PostgreSQL it is the session-level advisory lock LockKey, taken on
//     a connection of its own (opened from the configuration of db's pool,
//     outside the pool, so the pool's size does not matter), with no
//     statement timeout: the server releases it when that connection ends.
//   - On SQLite it is an exclusive flock(2) on the file next to the
//     database named by LockFileSuffix: the kernel releases it when the
//     file is closed or its process exits. An in-memory database has one
//     process, so it needs no lock. Where flock is not available (not
//     Linux, the BSDs or macOS) it only serialises the callers in one
//     process.
//
// A caller that finds the lock held logs that it waits (at Info, on log or
// slog.Default when nil) and waits until the holder releases it or ctx
// ends; then it returns ctx's error.
//
// Lock does not use bun's migration lock (a row in bun_migration_locks),
// which a killed process leaves behind; a row left there is ignored.
func Lock(ctx context.Context, db *bun.DB, log *slog.Logger) (release func() error, err error) {
	if log == nil {
		log = slog.Default()
	}
	name, err := DialectOf(db)
	if err != nil {
		return nil, err
	}
	if name == Postgres {
		return lockPostgres(ctx, db, log)
	}
	return lockSQLite(ctx, db, log)
}

func lockPostgres(ctx context.Context, db *bun.DB, log *slog.Logger) (func() error, error) {
	pool, ok := database.PgxPool(db)
	if !ok {
		return nil, errors.New("migrations: the lock needs a PostgreSQL database opened by database.Open (its pgx pool)")
	}
	cfg := pool.Config().ConnConfig
	// The wait for the lock is bounded by ctx alone: another instance's
	// migration may take longer than one statement may.
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["statement_timeout"] = "0"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("migrations: lock: connect: %w", err)
	}
	try := func() (bool, error) {
		var got bool
		err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", LockKey).Scan(&got)
		return got, err
	}
	got, err := try()
	if err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("migrations: lock: %w", err)
	}
	if !got {
		log.InfoContext(ctx, "migrations: another instance holds the migration lock; waiting for it")
		// The wait tries again every pgLockPoll rather than blocking in
		// pg_advisory_lock: a blocked statement holds a snapshot, and
		// CREATE INDEX CONCURRENTLY, which the holder may be running,
		// waits for every transaction whose snapshot is older than its
		// own, so the two would wait for each other until a timeout.
		t := time.NewTimer(pgLockPoll)
		defer t.Stop()
		for !got {
			select {
			case <-ctx.Done():
				_ = conn.Close(context.WithoutCancel(ctx))
				return nil, fmt.Errorf("migrations: wait for lock: %w", context.Cause(ctx))
			case <-t.C:
			}
			if got, err = try(); err != nil {
				_ = conn.Close(context.WithoutCancel(ctx))
				return nil, fmt.Errorf("migrations: wait for lock: %w", err)
			}
			t.Reset(pgLockPoll)
		}
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
		defer cancel()
		_, uerr := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", LockKey)
		// Closing ends the session, which releases the lock whether or not
		// the unlock went through.
		if cerr := conn.Close(ctx); uerr == nil {
			uerr = cerr
		}
		if uerr != nil {
			return fmt.Errorf("migrations: unlock: %w", uerr)
		}
		return nil
	}, nil
}

func lockSQLite(ctx context.Context, db *bun.DB, log *slog.Logger) (func() error, error) {
	var files []struct {
		Seq  int    `bun:"seq"`
		Name string `bun:"name"`
		File string `bun:"file"`
	}
	if err := db.NewRaw("PRAGMA database_list").Scan(ctx, &files); err != nil {
		return nil, fmt.Errorf("migrations: lock: database file: %w", err)
	}
	path := ""
	for _, f := range files {
		if f.Name == "main" {
			path = f.File
		}
	}
	if path == "" {
		return func() error { return nil }, nil // in memory: this process's alone
	}
	return lockFile(ctx, path+LockFileSuffix, log)
}

// lockFile takes an exclusive lock on the file at path, creating it if
// needed, waiting while another holder has it.
func lockFile(ctx context.Context, path string, log *slog.Logger) (func() error, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("migrations: lock: %w", err)
	}
	release := func() error {
		unlockFile(f)
		if err := f.Close(); err != nil {
			return fmt.Errorf("migrations: unlock: %w", err)
		}
		return nil
	}
	got, err := tryLockFile(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("migrations: lock %s: %w", path, err)
	}
	if got {
		return release, nil
	}
	log.InfoContext(ctx, "migrations: another process holds the migration lock; waiting for it", "file", path)
	// A blocking flock could not be abandoned when ctx ends, so the wait
	// tries again every fileLockPoll.
	t := time.NewTimer(fileLockPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("migrations: wait for lock %s: %w", path, context.Cause(ctx))
		case <-t.C:
		}
		got, err := tryLockFile(f)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("migrations: wait for lock %s: %w", path, err)
		}
		if got {
			return release, nil
		}
		t.Reset(fileLockPoll)
	}
}
