package database

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// DefaultQueryTimeout is the bound used when Options.QueryTimeout is zero.
const DefaultQueryTimeout = 5 * time.Second

// timeoutHook is the one place that bounds every statement the application
// sends through bun: Open installs it on every *bun.DB it returns.
//
// BeforeQuery gives the statement a context with a deadline QueryTimeout
// away, unless the caller's context already ends earlier, and AfterQuery
// releases it. What bun does between the two (verified in bun v1.3.0):
//
//   - Model and raw queries (NewSelect, NewRaw, ... .Scan or .Exec) run
//     AfterQuery after the rows have been scanned and closed
//     (baseQuery.scan), so the deadline covers acquiring a connection,
//     the round trip and reading every row.
//   - (*bun.DB).QueryContext, Conn.QueryContext and Tx.QueryContext run
//     AfterQuery as soon as the driver has returned *sql.Rows, before any
//     row is read: rows read afterwards see a cancelled context and fail.
//     The application does not use them (it scans through bun's query
//     builders); code that must read *sql.Rows itself should give its own
//     deadline, which this hook then leaves alone.
//   - BEGIN (DB.BeginTx, DB.RunInTx, Conn.BeginTx): bun passes the
//     context this hook returns to database/sql's BeginTx and keeps it as
//     the transaction's context: RunInTx hands it to its function, and
//     Commit and Rollback run under it (pgx's stdlib commits with the
//     context given to BeginTx; database/sql rolls the transaction back
//     and frees the connection when that context ends). So the BEGIN's
//     deadline is not released when BEGIN returns: it bounds the whole
//     transaction, its statements (which inherit the earlier deadline)
//     and its COMMIT included. A transaction still running QueryTimeout
//     after its BEGIN is rolled back and its COMMIT fails. The deadline
//     is released when bun reports the COMMIT or ROLLBACK.
//
// Statements that do not go through bun (sql.DB.PingContext, pgx's own
// pool health checks, and the service's session lookups, sent on bun.DB's
// *sql.DB with bound parameters) are bounded by their caller (the lookups
// by session.Config.QueryTimeout, which app.New sets to the same
// DB_QUERY_TIMEOUT) or by the driver's connect and statement timeouts
// that Open sets.
type timeoutHook struct {
	timeout time.Duration
}

var _ bun.QueryHook = timeoutHook{}

// stashKey is the key of the statement's cancel function in
// bun.QueryEvent.Stash.
type stashKey struct{}

// txKey is the context key under which a BEGIN leaves the cancel function
// of the transaction's deadline (nil when the caller's deadline was kept),
// for its COMMIT or ROLLBACK to call. Every BEGIN sets it, so a
// transaction begun inside another's context never finds the outer one.
type txKey struct{}

// BeforeQuery implements bun.QueryHook.
func (h timeoutHook) BeforeQuery(ctx context.Context, event *bun.QueryEvent) context.Context {
	var cancel context.CancelFunc
	if deadline, ok := ctx.Deadline(); !ok || time.Until(deadline) > h.timeout {
		ctx, cancel = context.WithTimeout(ctx, h.timeout)
		if event.Stash == nil {
			event.Stash = make(map[any]any, 1)
		}
		event.Stash[stashKey{}] = cancel
	}
	if isBegin(event) {
		ctx = context.WithValue(ctx, txKey{}, cancel)
	}
	return ctx
}

// AfterQuery implements bun.QueryHook.
func (h timeoutHook) AfterQuery(ctx context.Context, event *bun.QueryEvent) {
	cancel, _ := event.Stash[stashKey{}].(context.CancelFunc)
	switch {
	case isBegin(event):
		if event.Err == nil {
			// The deadline now bounds the transaction; see timeoutHook.
			return
		}
	case event.IQuery == nil && (event.Query == "COMMIT" || event.Query == "ROLLBACK"):
		// The transaction is over (committed, rolled back or failed):
		// release its deadline. ctx derives from the BEGIN's context, and
		// the nearest txKey is this transaction's own.
		if txCancel, _ := ctx.Value(txKey{}).(context.CancelFunc); txCancel != nil {
			defer txCancel()
		}
	}
	if cancel != nil {
		cancel()
	}
}

// isBegin reports whether event is bun's BEGIN of a transaction (not a
// savepoint, which bun sends as a plain statement).
func isBegin(event *bun.QueryEvent) bool {
	return event.IQuery == nil && event.Query == "BEGIN"
}
