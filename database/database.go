// Package database opens the application's database, PostgreSQL or SQLite,
// as a *bun.DB, and classifies driver errors the services care about.
//
// The schema is owned by package migrations; Open does not migrate.
package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/extra/bundebug"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names accepted by Open. They are also the names package
// migrations uses.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// DefaultMaxConns is the PostgreSQL pool size used when Options.MaxConns is
// zero.
const DefaultMaxConns = 10

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// MaxConns is the maximum number of PostgreSQL connections in the pool.
	// SQLite always uses exactly one connection. Defaults to
	// DefaultMaxConns.
	MaxConns int32

	// QueryTimeout bounds every database call made through the returned
	// DB (see Open). Defaults to DefaultQueryTimeout.
	QueryTimeout time.Duration
}

func (o Options) queryTimeout() time.Duration {
	if o.QueryTimeout > 0 {
		return o.QueryTimeout
	}
	return DefaultQueryTimeout
}

// Open opens a database and checks that it is reachable.
//
// Every call through the returned DB is bounded by opts.QueryTimeout
// (QT below): a query hook gives each statement a deadline QT away unless
// its context ends earlier, and a transaction as a whole, COMMIT included,
// gets QT from its BEGIN (see timeoutHook for how this follows bun's call
// paths). A stalled or refused database thus fails a call within QT, and
// the next call after it recovers succeeds: nothing needs restarting.
//
// For "postgres", dsn is a libpq URL or keyword/value string. The
// connections come from one pgx pool (pgxpool), wrapped by database/sql;
// closing the returned DB closes the pool. Unless dsn sets them itself,
// connecting is bounded by QT (connect_timeout), and the server is told
// statement_timeout = QT, so it also stops a statement whose client has
// gone, and idle_in_transaction_session_timeout = QT + 1 s, so it
// releases the locks of a transaction whose client cannot reach it.
// Waiting for a pooled connection is bounded by the statement's deadline.
//
// For "sqlite", dsn is a file path. Its parent directory is created if
// missing. The file is opened with busy_timeout(QT), journal_mode(WAL),
// foreign_keys(1) and synchronous(NORMAL), through a single connection, so
// every statement of the process is serialised; a lock held by another
// process fails a write after QT.
//
// The environment variable BUNDEBUG turns on query logging to stderr: 1
// logs failed queries, 2 logs every query; unset or 0 logs nothing.
//
// Error messages never contain the DSN's password.
func Open(ctx context.Context, dialect, dsn string, opts Options) (*bun.DB, error) {
	var (
		db  *bun.DB
		err error
	)
	switch dialect {
	case Postgres:
		db, err = openPostgres(ctx, dsn, opts)
	case SQLite:
		db, err = openSQLite(ctx, dsn, opts.queryTimeout())
	default:
		return nil, fmt.Errorf("database: unsupported dialect %q (want %q or %q)", dialect, Postgres, SQLite)
	}
	if err != nil {
		return nil, err
	}
	db = db.WithQueryHook(timeoutHook{timeout: opts.queryTimeout()})
	// Off unless BUNDEBUG is set: bun inlines argument values into the query
	// text, so a logged query may carry password hashes and personal data.
	return db.WithQueryHook(bundebug.NewQueryHook(
		bundebug.WithEnabled(false),
		bundebug.FromEnv("BUNDEBUG"),
	)), nil
}

func openPostgres(ctx context.Context, dsn string, opts Options) (*bun.DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn's message quotes the DSN with its password hidden.
		return nil, fmt.Errorf("database: parse postgres DSN: %w", scrub(err, dsn))
	}
	// Messages name the server and database, never the DSN.
	target := fmt.Sprintf("%s/%s", net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))), cfg.ConnConfig.Database)
	// pool_max_conns in the URL (pgxpool's own parameter) wins, as the
	// URL's timeouts do; otherwise Options, then DefaultMaxConns.
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = opts.MaxConns
		if cfg.MaxConns <= 0 {
			cfg.MaxConns = DefaultMaxConns
		}
	}
	applyTimeouts(cfg.ConnConfig, opts.queryTimeout())
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: postgres pool for %s: %w", target, scrub(err, dsn))
	}
	// OpenDBFromPool would leave the pool open when the DB is closed; a
	// connector that implements io.Closer is closed by (*sql.DB).Close.
	sqldb := sql.OpenDB(poolConnector{Connector: stdlib.GetPoolConnector(pool), pool: pool})
	// The pool manages idle connections, as in stdlib.OpenDBFromPool.
	sqldb.SetMaxIdleConns(0)

	pctx, cancel := boundedContext(ctx, opts.queryTimeout())
	defer cancel()
	if err := sqldb.PingContext(pctx); err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("database: cannot connect to postgres at %s: %w", target, scrub(err, dsn))
	}
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

// applyTimeouts bounds connecting to PostgreSQL and the server's work on
// one statement and one idle transaction by timeout, each unless the DSN
// set it (connect_timeout, or statement_timeout and
// idle_in_transaction_session_timeout as run-time parameters).
func applyTimeouts(cfg *pgx.ConnConfig, timeout time.Duration) {
	if cfg.ConnectTimeout == 0 {
		// pgconn applies it to the whole connection attempt, TLS and
		// authentication included, per host.
		cfg.ConnectTimeout = timeout
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	setDefault := func(name string, d time.Duration) {
		if _, ok := cfg.RuntimeParams[name]; !ok {
			cfg.RuntimeParams[name] = millis(d) // a bare number is ms
		}
	}
	setDefault("statement_timeout", timeout)
	// Above the client's own bound, so it only ever ends the transactions
	// of clients that are gone or cut off: the client rolls back first.
	setDefault("idle_in_transaction_session_timeout", timeout+time.Second)
}

// poolConnector is pgx's pool connector that also closes the pool.
type poolConnector struct {
	driver.Connector
	pool *pgxpool.Pool
}

// Close implements io.Closer; (*sql.DB).Close calls it.
func (c poolConnector) Close() error {
	c.pool.Close()
	return nil
}

// Driver returns pgx's driver carrying the pool: (*sql.DB).Driver returns
// it, which is how PgxPool finds the pool behind a *bun.DB without a
// registry of its own.
func (c poolConnector) Driver() driver.Driver {
	return poolDriver{Driver: c.Connector.Driver(), pool: c.pool}
}

// poolDriver is the driver.Driver of a DB opened by Open on PostgreSQL.
type poolDriver struct {
	driver.Driver
	pool *pgxpool.Pool
}

// PgxPool returns the pgx pool behind db when Open opened it on PostgreSQL,
// so that River (riverpgxv5) shares bun's connections, their limits and
// their timeouts instead of opening a second pool. It reports false for
// SQLite and for a DB that Open did not make.
func PgxPool(db *bun.DB) (*pgxpool.Pool, bool) {
	if db == nil || db.DB == nil {
		return nil, false
	}
	d, ok := db.DB.Driver().(poolDriver)
	return d.pool, ok
}

func openSQLite(ctx context.Context, path string, timeout time.Duration) (*bun.DB, error) {
	if path == "" {
		return nil, errors.New("database: sqlite: empty file path")
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("database: sqlite: %q must be a plain file path, not a URI", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("database: sqlite: create directory: %w", err)
	}
	sqldb, err := sql.Open("sqlite", SQLiteDSN(path, timeout))
	if err != nil {
		return nil, fmt.Errorf("database: sqlite: open %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and the pragmas and
	// transactions then never race between connections.
	sqldb.SetMaxOpenConns(1)

	pctx, cancel := boundedContext(ctx, timeout)
	defer cancel()
	if err := pingSQLite(pctx, sqldb); err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("database: sqlite: open %s: %w", path, err)
	}
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

// pingSQLite opens the first connection, which applies the DSN's pragmas.
// Turning a new file to WAL takes an exclusive lock, and when two processes
// open one new file together SQLite refuses one of them at once
// (SQLITE_BUSY without waiting the busy timeout: both hold a shared lock,
// and waiting would deadlock). That refusal is retried, after a short
// growing pause, until ctx ends; any other error is returned at once.
func pingSQLite(ctx context.Context, sqldb *sql.DB) error {
	pause := time.Millisecond
	for {
		err := sqldb.PingContext(ctx)
		if err == nil || !isSQLiteBusy(err) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// isSQLiteBusy reports whether err is SQLITE_BUSY or one of its extended
// codes.
func isSQLiteBusy(err error) bool {
	sqliteErr, ok := errors.AsType[*sqlite.Error](err)
	return ok && sqliteErr.Code()&0xff == sqlite3.SQLITE_BUSY
}

// SQLiteDSN returns the modernc.org/sqlite DSN Open uses for the database
// file at path: a statement waits at most busyTimeout (rounded up to a
// millisecond; DefaultQueryTimeout when zero or negative) for a lock
// another connection holds, then fails with SQLITE_BUSY.
func SQLiteDSN(path string, busyTimeout time.Duration) string {
	if busyTimeout <= 0 {
		busyTimeout = DefaultQueryTimeout
	}
	return "file:" + path +
		"?_pragma=busy_timeout(" + millis(busyTimeout) + ")" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)"
}

// millis formats d as whole milliseconds, rounded up (for PostgreSQL and
// SQLite 0 would mean no timeout at all) and capped at the largest value
// both accept, about 24.8 days.
func millis(d time.Duration) string {
	ms := int64((d + time.Millisecond - 1) / time.Millisecond)
	return strconv.FormatInt(min(ms, math.MaxInt32), 10)
}

// boundedContext returns ctx with a deadline timeout away unless it ends
// earlier.
func boundedContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= timeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

// IsUniqueViolation reports whether err, or an error it wraps, is a unique
// or primary-key constraint violation: SQLSTATE 23505 on PostgreSQL,
// SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY on SQLite.
func IsUniqueViolation(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == "23505"
	}
	if sqliteErr, ok := errors.AsType[*sqlite.Error](err); ok {
		switch sqliteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return false
}

// InvalidRegex reports whether err, or an error it wraps, is PostgreSQL's
// refusal of a regular expression (SQLSTATE 2201B), and returns the
// server's message, which describes the pattern only.
func InvalidRegex(err error) (string, bool) {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "2201B" {
		return pgErr.Message, true
	}
	return "", false
}

// keywordPassword matches the password setting of a keyword/value
// connection string, quoted (with backslash escapes) or not.
var keywordPassword = regexp.MustCompile(`(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)

// scrub hides dsn's password in err's message, keeping err for errors.Is
// and errors.As.
func scrub(err error, dsn string) error {
	secret := dsnPassword(dsn)
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return scrubbedError{err: err, secret: secret}
}

type scrubbedError struct {
	err    error
	secret string
}

func (e scrubbedError) Error() string { return strings.ReplaceAll(e.err.Error(), e.secret, "xxxxx") }
func (e scrubbedError) Unwrap() error { return e.err }

// dsnPassword extracts the password of dsn, best effort.
func dsnPassword(dsn string) string {
	if cfg, err := pgconn.ParseConfig(dsn); err == nil {
		return cfg.Password
	}
	if u, err := url.Parse(dsn); err == nil {
		if p, ok := u.User.Password(); ok {
			return p
		}
		return u.Query().Get("password")
	}
	if m := keywordPassword.FindStringSubmatch(dsn); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}
