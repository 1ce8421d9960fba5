package migrations_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/migrations"
)

// lockWait bounds how long a test waits for a lock that must come free.
// A lock that is never released fails the test at this bound instead of
// hanging it.
const lockWait = time.Minute

// onWait is a slog handler that calls f when Lock logs that it waits.
type onWait struct{ f func() }

func (h onWait) Enabled(context.Context, slog.Level) bool { return true }
func (h onWait) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h onWait) WithGroup(string) slog.Handler            { return h }
func (h onWait) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "waiting") {
		h.f()
	}
	return nil
}

// lockIsFree reports whether db's schema lock can be taken without
// waiting; it releases it again.
func lockIsFree(t *testing.T, db *bun.DB) bool {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	release, err := migrations.Lock(ctx, db, slog.New(onWait{cancel}))
	if err != nil {
		require.ErrorIs(t, err, context.Canceled)
		return false
	}
	require.NoError(t, release())
	return true
}

// emptyDBs opens n handles (each its own pool) on one fresh empty database
// of dialect: what n processes starting on it would have.
func emptyDBs(t *testing.T, dialect string, n int) (dsn string, dbs []*bun.DB) {
	t.Helper()
	switch dialect {
	case database.Postgres:
		dsn = testenv.EmptyPostgresURL(t)
	default:
		dsn = filepath.Join(t.TempDir(), "fresh.db")
	}
	for range n {
		db, err := database.Open(t.Context(), dialect, dsn, database.Options{MaxConns: 2})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		dbs = append(dbs, db)
	}
	return dsn, dbs
}

// eachDialect runs f as the parallel subtests "sqlite" and, when
// TEST_DATABASE_URL is set, "postgres".
func eachDialect(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range []string{database.SQLite, database.Postgres} {
		t.Run(d, func(t *testing.T) {
			if d == database.Postgres && os.Getenv(testenv.PostgresURLEnv) == "" {
				t.Skipf("%s is not set", testenv.PostgresURLEnv)
			}
			t.Parallel()
			f(t, d)
		})
	}
}

// TestRunConcurrentFirstStart: four processes starting at once on an
// empty database all migrate it without error, and it ends up migrated
// once.
func TestRunConcurrentFirstStart(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		_, dbs := emptyDBs(t, dialect, 4)
		ctx, cancel := context.WithTimeout(t.Context(), lockWait)
		defer cancel()
		errs := make([]error, len(dbs))
		var wg sync.WaitGroup
		for i, db := range dbs {
			wg.Go(func() { errs[i] = migrations.Run(ctx, db) })
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "instance %d", i)
		}
		requireSchemaMatchesModels(t, dbs[0])
		m, err := migrations.NewMigrator(dbs[0])
		require.NoError(t, err)
		requireUnapplied(t, m, 0)
		applied, err := m.AppliedMigrations(ctx)
		require.NoError(t, err)
		for _, a := range applied {
			require.Equal(t, applied[0].GroupID, a.GroupID, "one instance applied them all, the others nothing")
		}
		require.True(t, lockIsFree(t, dbs[0]))
	})
}

// TestRunWaitsForTheLock: while another holder has the lock, Run waits
// (it does not fail), and finishes once the lock is released.
func TestRunWaitsForTheLock(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		_, dbs := emptyDBs(t, dialect, 2)
		release, err := migrations.Lock(t.Context(), dbs[0], nil)
		require.NoError(t, err)

		waiting := make(chan struct{})
		var once sync.Once
		log := slog.New(onWait{func() { once.Do(func() { close(waiting) }) }})
		ctx, cancel := context.WithTimeout(t.Context(), lockWait)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- migrations.RunWith(ctx, dbs[1], migrations.Options{Logger: log}) }()

		select {
		case <-waiting:
		case err := <-done:
			t.Fatalf("Run returned while the lock was held: %v", err)
		}
		require.NoError(t, release())
		require.NoError(t, <-done)
		requireSchemaMatchesModels(t, dbs[1])
	})
}

// TestRunWaitEndsWithContext: a waiter whose context ends gives up with
// the context's error, and leaves the lock to its holder.
func TestRunWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		_, dbs := emptyDBs(t, dialect, 2)
		release, err := migrations.Lock(t.Context(), dbs[0], nil)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		err = migrations.RunWith(ctx, dbs[1], migrations.Options{Logger: slog.New(onWait{cancel})})
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, lockIsFree(t, dbs[1]), "the holder still has it")
		require.NoError(t, release())
		require.True(t, lockIsFree(t, dbs[1]))
	})
}

// lockHolderEnv names the variable that turns the test binary into a
// process that takes the schema lock and keeps it (TestLockHolderProcess).
// Its value is "<dialect> <dsn>".
const lockHolderEnv = "MIGRATIONS_TEST_LOCK_HOLDER"

// TestLockHolderProcess is the child process of
// TestKilledHolderDoesNotBlock: it takes the lock of the database named by
// lockHolderEnv, says "locked" on stdout and keeps the lock until killed
// (or until its stdin ends, so that it never outlives its parent).
func TestLockHolderProcess(t *testing.T) {
	spec := os.Getenv(lockHolderEnv)
	if spec == "" {
		t.Skip("child process of TestKilledHolderDoesNotBlock")
	}
	dialect, dsn, _ := strings.Cut(spec, " ")
	ctx := context.Background()
	db, err := database.Open(ctx, dialect, dsn, database.Options{})
	require.NoError(t, err)
	_, err = migrations.Lock(ctx, db, nil)
	require.NoError(t, err)
	_, err = os.Stdout.WriteString("locked\n")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0) // without releasing: as a crash would
}

// TestKilledHolderDoesNotBlock: a process killed (SIGKILL) while holding
// the schema lock leaves nothing behind: the next Run takes the lock and
// migrates.
func TestKilledHolderDoesNotBlock(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		dsn, dbs := emptyDBs(t, dialect, 1)
		db := dbs[0]

		cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$")
		cmd.Env = append(os.Environ(), lockHolderEnv+"="+dialect+" "+dsn)
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		defer stdin.Close()
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err, "the holder exited before taking the lock")
		require.Equal(t, "locked\n", line)

		require.False(t, lockIsFree(t, db), "the child holds the lock")
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()

		ctx, cancel := context.WithTimeout(t.Context(), lockWait)
		defer cancel()
		require.NoError(t, migrations.Run(ctx, db))
		requireSchemaMatchesModels(t, db)
		require.True(t, lockIsFree(t, db))
	})
}

// TestBunLockRowIsIgnored: a row in bun's lock table, as a process killed
// while it held bun's lock leaves, does not stop Run.
func TestBunLockRowIsIgnored(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		m, err := migrations.NewMigrator(db)
		require.NoError(t, err)
		_, err = m.Rollback(ctx)
		require.NoError(t, err)
		require.NoError(t, m.Lock(ctx)) // never unlocked
		require.NoError(t, migrations.Run(ctx, db))
		requireUnapplied(t, m, 0)
		requireSchemaMatchesModels(t, db)
	})
}
