package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/jobs"
)

// DeleteSessionsByUser is Vendure's deleteSessionsByUser: it deletes every
// authenticated session of a user and revokes them in the cache (see the
// revocation invariant in cachesync.go).
func (s *SessionService) DeleteSessionsByUser(ctx context.Context, userID entity.ID) error {
	return runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
		return s.deleteByUser(ctx, t, userID)
	})
}

// DeleteSessionsByActiveOrderID is Vendure's deleteSessionsByActiveOrderId:
// it deletes every session, of either kind, whose active order is orderID,
// and revokes them in the cache (see the revocation invariant in
// cachesync.go).
func (s *SessionService) DeleteSessionsByActiveOrderID(ctx context.Context, orderID entity.ID) error {
	return runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
		return s.deleteByActiveOrder(ctx, t, orderID)
	})
}

// deleteByUser deletes the sessions of a user in t and revokes them after
// commit. Only authenticated sessions have a user.
func (s *SessionService) deleteByUser(ctx context.Context, t *tx, userID entity.ID) error {
	return s.deleteAndRevoke(ctx, t, t.NewDelete().Model((*entity.Session)(nil)).Where("user_id = ?", userID))
}

// deleteByActiveOrder deletes the sessions whose active order is orderID in
// t and revokes them after commit.
func (s *SessionService) deleteByActiveOrder(ctx context.Context, t *tx, orderID entity.ID) error {
	return s.deleteAndRevoke(ctx, t, t.NewDelete().Model((*entity.Session)(nil)).Where("active_order_id = ?", orderID))
}

// deleteByIDs deletes the sessions with the given ids in t and revokes them
// after commit.
func (s *SessionService) deleteByIDs(ctx context.Context, t *tx, ids ...entity.ID) error {
	if len(ids) == 0 {
		return nil
	}
	return s.deleteAndRevoke(ctx, t, t.NewDelete().Model((*entity.Session)(nil)).Where("id IN (?)", bun.List(ids)))
}

// deleteAndRevoke runs a delete of sessions built by one of the typed
// helpers above and revokes exactly the keys it removed (RETURNING): the
// outbox rows go into t, the evictions run after commit.
func (s *SessionService) deleteAndRevoke(ctx context.Context, t *tx, q *bun.DeleteQuery) error {
	var hashes []string
	if err := q.Returning("token_hash").Scan(ctx, &hashes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return s.revoke(ctx, t, hashes)
}

// evictUserOnCommit revokes, after t commits, every cached session of a
// user, leaving the rows: their next request reads them afresh (new roles,
// new permissions).
func (s *SessionService) evictUserOnCommit(ctx context.Context, t *tx, userID entity.ID) error {
	var hashes []string
	if err := t.NewSelect().Model((*entity.Session)(nil)).Column("token_hash").
		Where("user_id = ?", userID).Scan(ctx, &hashes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find sessions of user: %w", err)
	}
	return s.revoke(ctx, t, hashes)
}

// CleanExpiredSessions is Vendure's cleanExpiredSessions: it deletes expired
// sessions, and anonymous sessions with no active order whose row has not
// been written for AnonymousIdleTimeout, in batches of batchSize until none
// remain (Vendure deletes one batch per run, so a busy site never catches
// up). It revokes each in the cache and returns how many it deleted. It is
// CleanExpiredSessionsUntil without a deadline.
func (s *SessionService) CleanExpiredSessions(ctx context.Context, batchSize int) (int, error) {
	removed, _, err := s.CleanExpiredSessionsUntil(ctx, batchSize, time.Time{})
	return removed, err
}

var _ jobs.Cleaner = (*SessionService)(nil)

// CleanExpiredSessionsUntil is CleanExpiredSessions that stops starting
// batches once deadline has passed (a zero deadline never passes); it
// always runs at least one, so every call makes progress. It returns how
// many sessions it removed and whether none that were due when it started
// remain (done is false when it stopped at the deadline). The
// clean-sessions job calls it (jobs.Cleaner).
//
// It makes two passes, expired sessions then idle guests, each one index
// range in order (session_expires_idx, then the partial
// session_anonymous_idle_idx): one OR of both plans as a bitmap OR on
// PostgreSQL, which collects every match before the LIMIT, each batch.
// Each batch is its own short transaction (live traffic keeps working
// between them; every statement is bounded by the database's query
// timeout, DB_QUERY_TIMEOUT): one DELETE that picks and removes up to
// batchSize rows and returns their cache keys, plus the outbox rows when
// the cache is shared; after commit, one pipelined eviction of every key
// of the batch. A pass ends with the first batch that removes fewer than
// batchSize rows.
func (s *SessionService) CleanExpiredSessionsUntil(ctx context.Context, batchSize int, deadline time.Time) (removed int, done bool, err error) {
	if batchSize < 1 {
		return 0, false, fmt.Errorf("clean expired sessions: batch size must be at least 1, got %d", batchSize)
	}
	now := s.nowUTC()
	passes := []cleanPass{
		{name: "expired", column: "expires", where: "expires < ?", before: now},
		{
			name: "idle anonymous", column: "updated_at",
			where:  "user_id IS NULL AND active_order_id IS NULL AND updated_at < ?",
			before: now.Add(-s.anonIdle),
		},
	}
	started := false
	for _, p := range passes {
		var from time.Time // the pass's position in its index
		for {
			if started && !deadline.IsZero() && !s.now().Before(deadline) {
				return removed, false, nil
			}
			started = true
			n, last, err := s.cleanBatch(ctx, p, from, batchSize)
			removed += n
			if err != nil {
				return removed, false, fmt.Errorf("clean %s sessions: %w", p.name, err)
			}
			s.log.DebugContext(ctx, "cleaned sessions", "pass", p.name, "batch", n, "total", removed)
			if n < batchSize {
				break
			}
			from = last
		}
	}
	return removed, true, nil
}

// cleanPass is one kind of session the clean-up removes: those whose
// column is before a cut-off, under where.
type cleanPass struct {
	name   string
	column string // the indexed column the pass walks, in order
	where  string // selects the pass's sessions; one ? for before
	before time.Time
}

// cleanBatch deletes up to batchSize sessions of pass p whose column is at
// or after from (the last batch's highest value, zero for the first: the
// rows before it are gone, and starting past them keeps each batch's index
// scan from walking the dead entries of the batches before), revokes them,
// and returns how many it deleted and the highest column value among them.
func (s *SessionService) cleanBatch(ctx context.Context, p cleanPass, from time.Time, batchSize int) (n int, last time.Time, err error) {
	where, args := p.where, []any{p.before}
	if !from.IsZero() {
		where += " AND " + p.column + " >= ?"
		args = append(args, from)
	}
	// PostgreSQL: lock the picked rows and skip those locked by live
	// traffic (a renewal, a new active order) rather than wait for them:
	// a skipped row is taken by a later run, and a row changed before the
	// lock is checked against where again (it may no longer be idle).
	lock := ""
	if s.db.Dialect().Name() == dialect.PG {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	// MATERIALIZED: the batch is picked once, whatever plan the DELETE
	// gets (a re-scanned LIMIT ... SKIP LOCKED could pick other rows).
	query := "WITH batch AS MATERIALIZED (SELECT id FROM session WHERE " + where +
		" ORDER BY " + p.column + " LIMIT ?" + lock + ")" +
		" DELETE FROM session WHERE id IN (SELECT id FROM batch) RETURNING token_hash, " + p.column + " AS mark"
	args = append(args, batchSize)
	var rows []struct {
		TokenHash string    `bun:"token_hash"`
		Mark      time.Time `bun:"mark"`
	}
	err = runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
		if err := t.NewRaw(query, args...).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("delete sessions: %w", err)
		}
		hashes := make([]string, len(rows))
		for i, r := range rows {
			hashes[i] = r.TokenHash
			if r.Mark.After(last) {
				last = r.Mark
			}
		}
		return s.revoke(ctx, t, hashes)
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return len(rows), last, nil
}
