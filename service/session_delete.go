package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
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
// up). It revokes each in the cache and returns how many it deleted.
func (s *SessionService) CleanExpiredSessions(ctx context.Context, batchSize int) (int, error) {
	if batchSize < 1 {
		return 0, fmt.Errorf("clean expired sessions: batch size must be at least 1, got %d", batchSize)
	}
	now := s.nowUTC()
	idleBefore := now.Add(-s.anonIdle)
	total := 0
	for {
		var ids []entity.ID
		err := s.db.NewSelect().Model((*entity.Session)(nil)).Column("id").
			WhereOr("expires < ?", now).
			WhereOr("user_id IS NULL AND active_order_id IS NULL AND updated_at < ?", idleBefore).
			Limit(int64(batchSize)).Scan(ctx, &ids)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return total, fmt.Errorf("find expired sessions: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		if err := runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
			return s.deleteByIDs(ctx, t, ids...)
		}); err != nil {
			return total, fmt.Errorf("delete expired sessions: %w", err)
		}
		total += len(ids)
		s.log.DebugContext(ctx, "cleaned expired sessions", "batch", len(ids), "total", total)
		if len(ids) < batchSize {
			return total, nil
		}
	}
}
