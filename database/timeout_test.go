package database_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// hangGuard bounds what a broken build could make wait forever; nothing
// is asserted about time.
const hangGuard = 30 * time.Second

// eachDialect runs f on a fresh, empty SQLite file and, when
// TEST_DATABASE_URL is set, a fresh PostgreSQL database, each opened with
// the given query timeout.
func eachDialect(t *testing.T, timeout time.Duration, f func(t *testing.T, db *bun.DB)) {
	t.Run(database.SQLite, func(t *testing.T) {
		t.Parallel()
		f(t, openDB(t, database.SQLite, filepath.Join(t.TempDir(), "t.db"), timeout))
	})
	t.Run(database.Postgres, func(t *testing.T) {
		t.Parallel()
		f(t, openDB(t, database.Postgres, testenv.PostgresURL(t), timeout))
	})
}

func openDB(t *testing.T, dialect, dsn string, timeout time.Duration) *bun.DB {
	t.Helper()
	db, err := database.Open(t.Context(), dialect, dsn, database.Options{QueryTimeout: timeout})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// viaProxy returns the PostgreSQL URL dsn pointed at a new proxy to its
// server.
func viaProxy(t *testing.T, dsn string) (string, *testenv.Proxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err, "TEST_DATABASE_URL must be a URL for this test")
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	p := testenv.NewProxy(t, u.Hostname()+":"+port)
	u.Host = p.Addr()
	return u.String(), p
}

// The timeout becomes each dialect's settings. It is long, so that opening
// the database (its connection and ping are bounded by it too) never meets
// it on a loaded machine: the test is about the settings.
func TestQueryTimeoutSettings(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		db := openDB(t, database.SQLite, filepath.Join(t.TempDir(), "t.db"), 25*time.Second)
		var v string
		require.NoError(t, db.NewRaw("PRAGMA busy_timeout").Scan(t.Context(), &v))
		require.Equal(t, "25000", v)
		require.Contains(t, database.SQLiteDSN("x.db", 0), "busy_timeout(5000)", "the default")
		require.Contains(t, database.SQLiteDSN("x.db", 1500*time.Microsecond), "busy_timeout(2)", "rounded up, never 0")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := testenv.PostgresURL(t)
		show := func(db *bun.DB, name string) string {
			var v string
			require.NoError(t, db.NewRaw("SHOW "+name).Scan(t.Context(), &v))
			return v
		}
		db := openDB(t, database.Postgres, dsn, 25*time.Second)
		require.Equal(t, "25s", show(db, "statement_timeout"))
		require.Equal(t, "26s", show(db, "idle_in_transaction_session_timeout"))

		// Settings in the DSN win.
		u, err := url.Parse(dsn)
		require.NoError(t, err)
		q := u.Query()
		q.Set("statement_timeout", "0")
		u.RawQuery = q.Encode()
		db = openDB(t, database.Postgres, u.String(), 25*time.Second)
		require.Equal(t, "0", show(db, "statement_timeout"))
		require.Equal(t, "26s", show(db, "idle_in_transaction_session_timeout"))
	})
}

// deadlineSpy records the context each statement runs under, as the
// driver receives it (Open's timeout hook runs before it).
type deadlineSpy struct {
	mu   sync.Mutex
	ctxs map[string]context.Context
}

func (s *deadlineSpy) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctxs[e.Query] = ctx
	return ctx
}

func (s *deadlineSpy) AfterQuery(context.Context, *bun.QueryEvent) {}

func (s *deadlineSpy) ctx(t *testing.T, query string) context.Context {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, ok := s.ctxs[query]
	require.True(t, ok, "no statement %q", query)
	return ctx
}

// Every statement runs under a deadline QueryTimeout away, or the
// caller's when it is earlier, released when the statement returns. A
// transaction's statements and its COMMIT share the BEGIN's deadline,
// released when it ends.
func TestQueryDeadlines(t *testing.T) {
	t.Parallel()
	const timeout = time.Hour // far enough for the windows below to be exact
	eachDialect(t, timeout, func(t *testing.T, db *bun.DB) {
		spy := &deadlineSpy{ctxs: map[string]context.Context{}}
		db = db.WithQueryHook(spy)
		var one int
		within := func(ctx context.Context, before, after time.Time) {
			t.Helper()
			deadline, ok := ctx.Deadline()
			require.True(t, ok, "a deadline")
			require.False(t, deadline.Before(before.Add(timeout)), "%v", deadline)
			require.False(t, deadline.After(after.Add(timeout)), "%v", deadline)
		}

		// No deadline of the caller's.
		before := time.Now()
		require.NoError(t, db.NewRaw("SELECT 1").Scan(context.Background(), &one))
		after := time.Now()
		ctx := spy.ctx(t, "SELECT 1")
		within(ctx, before, after)
		require.ErrorIs(t, ctx.Err(), context.Canceled, "released after the statement")

		// A later deadline is shortened.
		later, cancel := context.WithTimeout(context.Background(), 2*timeout)
		defer cancel()
		before = time.Now()
		require.NoError(t, db.NewRaw("SELECT 2").Scan(later, &one))
		within(spy.ctx(t, "SELECT 2"), before, time.Now())
		require.NoError(t, later.Err(), "the caller's context is left alone")

		// An earlier one is kept.
		earlier, cancel := context.WithTimeout(context.Background(), timeout/2)
		defer cancel()
		require.NoError(t, db.NewRaw("SELECT 3").Scan(earlier, &one))
		got, _ := spy.ctx(t, "SELECT 3").Deadline()
		want, _ := earlier.Deadline()
		require.Equal(t, want, got)

		// A transaction: one deadline from BEGIN to COMMIT.
		var txCtx context.Context
		before = time.Now()
		require.NoError(t, db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
			txCtx = ctx
			return tx.NewRaw("SELECT 4").Scan(ctx, &one)
		}))
		after = time.Now()
		begin := spy.ctx(t, "BEGIN")
		within(begin, before, after)
		beginDeadline, _ := begin.Deadline()
		for _, q := range []string{"SELECT 4", "COMMIT"} {
			d, _ := spy.ctx(t, q).Deadline()
			require.Equal(t, beginDeadline, d, q)
		}
		require.ErrorIs(t, txCtx.Err(), context.Canceled, "released after COMMIT")

		// A rolled-back transaction releases its deadline too.
		errFn := errors.New("fn failed")
		err := db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
			txCtx = ctx
			return errFn
		})
		require.ErrorIs(t, err, errFn)
		d, _ := spy.ctx(t, "ROLLBACK").Deadline()
		beginDeadline, _ = spy.ctx(t, "BEGIN").Deadline()
		require.Equal(t, beginDeadline, d)
		require.ErrorIs(t, txCtx.Err(), context.Canceled, "released after ROLLBACK")

		// A transaction begun inside another's context releases only its
		// own deadline. (Not on SQLite: its one connection is taken.)
		if db.Dialect().Name() == dialect.SQLite {
			return
		}
		require.NoError(t, db.RunInTx(context.Background(), nil, func(outer context.Context, tx bun.Tx) error {
			require.NoError(t, db.RunInTx(outer, nil, func(inner context.Context, tx2 bun.Tx) error {
				return tx2.NewRaw("SELECT 5").Scan(inner, &one)
			}))
			require.NoError(t, outer.Err(), "the outer transaction is still bounded, not ended")
			return tx.NewRaw("SELECT 6").Scan(outer, &one)
		}))
	})
}

// A transaction still open QueryTimeout after its BEGIN is rolled back and
// its COMMIT fails; the database is usable at once afterwards. The timeout
// (which also bounds opening the database and the statements before the
// wait) is one a loaded machine meets; the test waits it out once.
func TestTransactionOutlivingTheTimeoutIsRolledBack(t *testing.T) {
	t.Parallel()
	eachDialect(t, 3*time.Second, func(t *testing.T, db *bun.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		_, err := db.ExecContext(ctx, "CREATE TABLE outlived (id integer)")
		require.NoError(t, err)

		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO outlived VALUES (1)"); err != nil {
				return err
			}
			<-ctx.Done() // the transaction's deadline, not the hang guard
			return nil
		})
		require.Error(t, err)
		require.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrTxDone), "%v", err)

		var n int
		require.NoError(t, db.NewRaw("SELECT count(*) FROM outlived").Scan(ctx, &n))
		require.Zero(t, n, "rolled back")
	})
}

// With packets to PostgreSQL going nowhere, a query, a BEGIN and a COMMIT
// each fail within the timeout instead of waiting for the stall; when the
// network is back, or after a refused phase, the same pool works again.
// The timeout is one that connecting and the working phases meet on a
// loaded machine; each stalled phase waits it out once.
func TestPostgresStallAndRefusalAreBounded(t *testing.T) {
	t.Parallel()
	dsn, proxy := viaProxy(t, testenv.PostgresURL(t))
	db := openDB(t, database.Postgres, dsn, 3*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	_, err := db.ExecContext(ctx, "CREATE TABLE stalled (id integer)")
	require.NoError(t, err)
	ok := func() {
		t.Helper()
		var n int
		require.NoError(t, db.NewRaw("SELECT count(*) FROM stalled").Scan(ctx, &n))
	}
	ok()

	proxy.Stall()
	var n int
	require.Error(t, db.NewRaw("SELECT count(*) FROM stalled").Scan(ctx, &n), "a query")
	require.Error(t, db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return nil }), "a BEGIN")
	proxy.Resume()
	ok()

	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO stalled VALUES (1)"); err != nil {
			return err
		}
		proxy.Stall()
		return nil
	})
	require.Error(t, err, "a COMMIT")
	proxy.Resume()
	ok()

	proxy.Refuse()
	require.Error(t, db.NewRaw("SELECT count(*) FROM stalled").Scan(ctx, &n))
	proxy.Resume()
	ok()
}

// A SQLite write waits busy_timeout (the query timeout) for a lock another
// connection holds, then fails; it succeeds once the lock is released.
func TestSQLiteLockIsBounded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "t.db")
	db := openDB(t, database.SQLite, path, 300*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	_, err := db.ExecContext(ctx, "CREATE TABLE locked (id integer)")
	require.NoError(t, err)

	other, err := sql.Open("sqlite", database.SQLiteDSN(path, time.Second))
	require.NoError(t, err)
	defer other.Close()
	holder, err := other.Conn(ctx)
	require.NoError(t, err)
	defer holder.Close()
	_, err = holder.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)

	_, err = db.ExecContext(ctx, "INSERT INTO locked VALUES (1)")
	require.Error(t, err, "busy")
	var n int
	require.NoError(t, db.NewRaw("SELECT count(*) FROM locked").Scan(ctx, &n), "reads go on (WAL)")

	_, err = holder.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "INSERT INTO locked VALUES (1)")
	require.NoError(t, err)
}
