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
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

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

// pingTimeout bounds the connectivity check of Open when ctx has no
// deadline of its own.
const pingTimeout = 10 * time.Second

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// MaxConns is the maximum number of PostgreSQL connections in the pool.
	// SQLite always uses exactly one connection. Defaults to
	// DefaultMaxConns.
	MaxConns int32
}

// Open opens a database and checks that it is reachable.
//
// For "postgres", dsn is a libpq URL or keyword/value string. The
// connections come from one pgx pool (pgxpool), wrapped by database/sql;
// closing the returned DB closes the pool.
//
// For "sqlite", dsn is a file path. Its parent directory is created if
// missing. The file is opened with busy_timeout(5000), journal_mode(WAL),
// foreign_keys(1) and synchronous(NORMAL), through a single connection, so
// every statement of the process is serialised.
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
		db, err = openSQLite(ctx, dsn)
	default:
		return nil, fmt.Errorf("database: unsupported dialect %q (want %q or %q)", dialect, Postgres, SQLite)
	}
	if err != nil {
		return nil, err
	}
	// Off unless BUNDEBUG is set: bun inlines argument values into the query
	// text, so a logged query may carry password hashes and personal data.
	return db.WithQueryHook(bundebug.NewQueryHook(
		bundebug.WithEnabled(false),
		bundebug.FromEnv("BUNDEBUG"),
	)), nil
}

func openPostgres(ctx context.Context, dsn string, opts Options) (*bun.DB, error) {
	redacted := RedactDSN(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: parse postgres DSN %s: %w", redacted, scrub(err, dsn))
	}
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: postgres pool for %s: %w", redacted, scrub(err, dsn))
	}
	// OpenDBFromPool would leave the pool open when the DB is closed; a
	// connector that implements io.Closer is closed by (*sql.DB).Close.
	sqldb := sql.OpenDB(poolConnector{Connector: stdlib.GetPoolConnector(pool), pool: pool})
	// The pool manages idle connections, as in stdlib.OpenDBFromPool.
	sqldb.SetMaxIdleConns(0)

	pctx, cancel := pingContext(ctx)
	defer cancel()
	if err := sqldb.PingContext(pctx); err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("database: cannot connect to postgres at %s: %w", redacted, scrub(err, dsn))
	}
	return bun.NewDB(sqldb, pgdialect.New()), nil
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

func openSQLite(ctx context.Context, path string) (*bun.DB, error) {
	if path == "" {
		return nil, errors.New("database: sqlite: empty file path")
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("database: sqlite: %q must be a plain file path, not a URI", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("database: sqlite: create directory: %w", err)
	}
	sqldb, err := sql.Open("sqlite", SQLiteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("database: sqlite: open %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and the pragmas and
	// transactions then never race between connections.
	sqldb.SetMaxOpenConns(1)

	pctx, cancel := pingContext(ctx)
	defer cancel()
	if err := sqldb.PingContext(pctx); err != nil {
		_ = sqldb.Close()
		return nil, fmt.Errorf("database: sqlite: open %s: %w", path, err)
	}
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

// SQLiteDSN returns the modernc.org/sqlite DSN Open uses for the database
// file at path.
func SQLiteDSN(path string) string {
	return "file:" + path +
		"?_pragma=busy_timeout(5000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)"
}

func pingContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, pingTimeout)
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

// RedactDSN returns dsn with its password replaced by "xxxxx", for logs and
// error messages. It handles URLs (postgres://user:pass@host/db and a
// password query parameter) and keyword/value strings (password=...).
func RedactDSN(dsn string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// An unparsable URL may hold a password anywhere.
			return "(unparsable URL)"
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return keywordPassword.ReplaceAllString(dsn, "${1}xxxxx")
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
