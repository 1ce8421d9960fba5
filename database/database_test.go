package database_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
)

func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "nested", "dir", "app.db")

	db, err := database.Open(ctx, database.SQLite, path, database.Options{MaxConns: 20})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	_, err = os.Stat(path)
	require.NoError(t, err, "Open creates the parent directory and the file")
	require.Equal(t, 1, db.Stats().MaxOpenConnections, "SQLite uses one connection whatever MaxConns says")

	pragma := func(name string) string {
		var v string
		require.NoError(t, db.NewRaw("PRAGMA "+name).Scan(ctx, &v), name)
		return v
	}
	require.Equal(t, "1", pragma("foreign_keys"))
	require.Equal(t, "wal", pragma("journal_mode"))
	require.Equal(t, "5000", pragma("busy_timeout"))
	require.Equal(t, "1", pragma("synchronous"), "NORMAL")
}

func TestOpenSQLiteRejectsURIs(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{"", "file:app.db", "app.db?mode=memory"} {
		_, err := database.Open(t.Context(), database.SQLite, dsn, database.Options{})
		require.Error(t, err, "%q", dsn)
	}
}

func TestOpenUnknownDialect(t *testing.T) {
	t.Parallel()
	_, err := database.Open(t.Context(), "mysql", "x", database.Options{})
	require.ErrorContains(t, err, "unsupported dialect")
}

func TestOpenPostgresUnreachableHidesPassword(t *testing.T) {
	t.Parallel()
	// Port 1 on the loopback interface refuses connections at once.
	for _, dsn := range []string{
		"postgres://alice:s3cr3t-pw@127.0.0.1:1/app?sslmode=disable&connect_timeout=5",
		"postgres://alice@127.0.0.1:1/app?sslmode=disable&password=s3cr3t-pw",
		"host=127.0.0.1 port=1 user=alice password=s3cr3t-pw dbname=app sslmode=disable connect_timeout=5",
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		_, err := database.Open(ctx, database.Postgres, dsn, database.Options{})
		cancel()
		require.Error(t, err)
		require.ErrorContains(t, err, "cannot connect")
		require.NotContains(t, err.Error(), "s3cr3t-pw")
		require.Contains(t, err.Error(), "127.0.0.1", "the message still says where")
	}

	_, err := database.Open(t.Context(), database.Postgres, "postgres://alice:s3cr3t-pw@127.0.0.1:notaport/app", database.Options{})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cr3t-pw")
}

func TestOpenPostgres(t *testing.T) {
	t.Parallel()
	rawURL := os.Getenv(testenv.PostgresURLEnv)
	if rawURL == "" {
		t.Skipf("%s is not set", testenv.PostgresURLEnv)
	}
	db, err := database.Open(t.Context(), database.Postgres, rawURL, database.Options{MaxConns: 2})
	require.NoError(t, err)
	var one int
	require.NoError(t, db.NewRaw("SELECT 1").Scan(t.Context(), &one))
	require.Equal(t, 1, one)
	pool, ok := database.PgxPool(db)
	require.True(t, ok)
	require.EqualValues(t, 2, pool.Config().MaxConns, "Options.MaxConns without pool_max_conns in the URL")
	require.NoError(t, db.Close())
	// Closing the DB closes the pgx pool as well.
	require.Error(t, db.PingContext(t.Context()))

	// pool_max_conns in the URL wins over Options, as the URL's timeouts do.
	sep := "?"
	if strings.Contains(rawURL, "?") {
		sep = "&"
	}
	db, err = database.Open(t.Context(), database.Postgres, rawURL+sep+"pool_max_conns=7", database.Options{MaxConns: 2})
	require.NoError(t, err)
	pool, ok = database.PgxPool(db)
	require.True(t, ok)
	require.EqualValues(t, 7, pool.Config().MaxConns)
	require.NoError(t, db.Close())
}

func TestIsUniqueViolation(t *testing.T) {
	t.Parallel()
	require.False(t, database.IsUniqueViolation(nil))
	require.False(t, database.IsUniqueViolation(errors.New("duplicate key value violates unique constraint")))

	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		newSession := func(hash, typ string) *entity.Session {
			return &entity.Session{CreatedAt: now, UpdatedAt: now, TokenHash: hash, Type: typ, Expires: now}
		}
		insert := func(model any) error {
			_, err := db.NewInsert().Model(model).Exec(ctx)
			return err
		}
		hash := strings.Repeat("ab", 32)

		require.NoError(t, insert(newSession(hash, entity.SessionAnonymous)))
		err := insert(newSession(hash, entity.SessionAnonymous))
		require.Error(t, err)
		require.True(t, database.IsUniqueViolation(err), "token_hash: %v", err)
		require.True(t, database.IsUniqueViolation(fmt.Errorf("create session: %w", err)), "wrapped")

		// Inside a transaction, as the services run it.
		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewInsert().Model(newSession(hash, entity.SessionAnonymous)).Exec(ctx)
			return err
		})
		require.True(t, database.IsUniqueViolation(err), "in tx: %v", err)

		// A composite primary key.
		ch := &entity.Channel{CreatedAt: now, UpdatedAt: now, Code: "c", Token: "t"}
		require.NoError(t, insert(ch))
		role := &entity.Role{CreatedAt: now, UpdatedAt: now, Code: "r"}
		require.NoError(t, insert(role))
		require.NoError(t, insert(&entity.RoleChannel{RoleID: role.ID, ChannelID: ch.ID}))
		err = insert(&entity.RoleChannel{RoleID: role.ID, ChannelID: ch.ID})
		require.True(t, database.IsUniqueViolation(err), "primary key: %v", err)

		// Other constraint violations are not unique violations.
		err = insert(newSession(strings.Repeat("cd", 32), "bogus"))
		require.Error(t, err)
		require.False(t, database.IsUniqueViolation(err), "check: %v", err)
		missing := entity.ID(12345)
		s := newSession(strings.Repeat("ef", 32), entity.SessionAuthenticated)
		s.UserID = &missing
		err = insert(s)
		require.Error(t, err)
		require.False(t, database.IsUniqueViolation(err), "foreign key: %v", err)
	})
}

// TestPgxPool checks that River can reach the pool behind a PostgreSQL DB
// (the very pool bun uses) and that SQLite has none.
func TestPgxPool(t *testing.T) {
	t.Parallel()
	lite := testenv.SQLiteDB(t)
	_, ok := database.PgxPool(lite)
	require.False(t, ok, "SQLite has no pgx pool")
	_, ok = database.PgxPool(nil)
	require.False(t, ok)

	if os.Getenv(testenv.PostgresURLEnv) == "" {
		t.Skipf("%s is not set", testenv.PostgresURLEnv)
	}
	db := testenv.PostgresDB(t)
	pool, ok := database.PgxPool(db)
	require.True(t, ok)
	var one int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT 1").Scan(&one))
	require.Equal(t, 1, one)
	// The same pool: a connection taken through bun shows in its stats.
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	require.Equal(t, int32(1), pool.Stat().AcquiredConns())
	require.NoError(t, conn.Close())
}

// TestOpenSQLiteTogether: processes that open one new database file at the
// same moment all succeed. Turning a new file to WAL takes an exclusive
// lock, and SQLite refuses a second opener at once (SQLITE_BUSY, without
// waiting its busy timeout) when both hold a shared lock; Open retries that
// within its timeout.
func TestOpenSQLiteTogether(t *testing.T) {
	t.Parallel()
	for round := range 20 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("together-%d.db", round))
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				db, err := database.Open(t.Context(), database.SQLite, path, database.Options{})
				if err == nil {
					_, err = db.ExecContext(t.Context(), "CREATE TABLE IF NOT EXISTS t (id INTEGER)")
					_ = db.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "round %d, opener %d", round, i)
		}
	}
}
