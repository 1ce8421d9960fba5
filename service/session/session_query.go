package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/sessioncache"
)

// The session lookup is the one query every request whose session is not
// cached runs, and it is sent with its key as a bound parameter rather
// than through bun, which formats every argument into the SQL text.
//
// Why: PostgreSQL plans each new statement text, and planning the
// seven-table join costs several times what running it does. With the
// token hash in the text every lookup was a new text, planned again
// (docs/benchmarks.md, "Cache miss with distinct tokens"). With a placeholder the text never
// changes, and pgx's stdlib driver (its default exec mode,
// cache_statement) prepares it once per pooled connection and then only
// binds and executes it; after five executions PostgreSQL settles on a
// generic plan and stops planning. That cache lives on the pgx connection,
// so it survives database/sql handing the connection back to pgxpool
// after each call (Open sets MaxIdleConns to 0). A *sql.Stmt owned by the
// service would not: database/sql prepares a Stmt again on every
// connection it has not seen, and with MaxIdleConns 0 every call gets a
// fresh driver connection, so it would cost a Parse round trip each time.
// A DSN that sets default_query_exec_mode (for PgBouncer) gives up the
// reuse knowingly. SQLite prepares the statement each time either way;
// it plans a join in microseconds.
//
// Statements sent through database/sql directly bypass bun's query
// hooks, database.timeoutHook among them, so querySession sets its own
// deadline: Config.QueryTimeout, the same DB_QUERY_TIMEOUT.

// sessionSelect reads a live (not invalidated) session, when its row was
// last written (the idle rule, see idleFor), its user, whether
// the user is an administrator, and every (role, channel) pair of the
// user, in one query. sessionQueries completes it with its key and
// sessionOrder.
const sessionSelect = `SELECT s.id, s.token_hash, s.expires, s.updated_at, s.last_used_at, s.active_order_id, s.active_channel_id,
	s.user_id AS session_user_id, s.authentication_strategy,
	u.id AS user_id, u.identifier, u.verified, adm.id AS administrator_id,
	r.id AS role_id, r.permissions, ch.id AS channel_id, ch.token AS channel_token, ch.code AS channel_code
FROM session AS s
LEFT JOIN "user" AS u ON u.id = s.user_id AND u.deleted_at IS NULL
LEFT JOIN administrator AS adm ON adm.user_id = u.id AND adm.deleted_at IS NULL
LEFT JOIN user_role AS ur ON ur.user_id = u.id
LEFT JOIN role AS r ON r.id = ur.role_id
LEFT JOIN role_channel AS rc ON rc.role_id = r.id
LEFT JOIN channel AS ch ON ch.id = rc.channel_id
WHERE s.invalidated = FALSE AND `

// sessionOrder orders the rows as channelPermissions expects them.
const sessionOrder = ` ORDER BY r.id, ch.id`

// sessionQueries are the session lookups in the dialect's placeholder
// syntax, built once by New.
type sessionQueries struct {
	byTokenHash string // one argument: the token hash
	byID        string // one argument: the session id
}

// newSessionQueries builds the lookups for a database of dialect name.
func newSessionQueries(name dialect.Name) (sessionQueries, error) {
	var param string
	switch name {
	case dialect.PG:
		param = "$1"
	case dialect.SQLite:
		param = "?"
	default:
		return sessionQueries{}, fmt.Errorf("session service: unsupported database dialect %s", name)
	}
	return sessionQueries{
		byTokenHash: sessionSelect + `s.token_hash = ` + param + sessionOrder,
		byID:        sessionSelect + `s.id = ` + param + sessionOrder,
	}, nil
}

// querier runs a statement with bound arguments: the *sql.DB under the
// service's *bun.DB, or the *sql.Tx of a transaction (tx.sqlTx).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadByID reads the session with id (not checking expiry), serialized,
// with its token hash (its cache key), through q: s.db.DB, or a
// transaction's sqlTx to see what it wrote. A session whose user is gone,
// or an idle guest (see idleFor), is not found.
func (s *Service) loadByID(ctx context.Context, q querier, id entity.ID) (*sessioncache.CachedSession, string, error) {
	return s.querySession(ctx, q, s.queries.byID, int64(id))
}

// loadByTokenHash reads the session whose token hashes to hash (not
// checking expiry), serialized. A session whose user is gone, or an idle
// guest (see idleFor), is not found.
func (s *Service) loadByTokenHash(ctx context.Context, hash string) (*sessioncache.CachedSession, error) {
	cs, _, err := s.querySession(ctx, s.db.DB, s.queries.byTokenHash, hash)
	return cs, err
}

// querySession runs a session lookup under the query timeout (or ctx's
// earlier deadline; ctx's cancellation stops it too) and serializes its
// rows. The rows are read and closed before the deadline is released.
//
// With tracing on, the statement gets a span of its own (bun's query hooks,
// the tracing one among them, never see it), with its text, which holds a
// placeholder and no value.
func (s *Service) querySession(ctx context.Context, q querier, query string, key any) (_ *sessioncache.CachedSession, _ string, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	if s.traceQuery != nil {
		var end func(error)
		ctx, end = s.traceQuery(ctx, query)
		defer func() { end(err) }()
	}
	rows, err := q.QueryContext(ctx, query, key)
	if err != nil {
		return nil, "", fmt.Errorf("find session: %w", err)
	}
	var list []sessionRow
	// ScanRows closes rows and reports rows.Err.
	if err := s.db.ScanRows(ctx, rows, &list); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("find session: %w", err)
	}
	return s.sessionOfRows(list)
}
