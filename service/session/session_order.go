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

// HoldOrder is the session side of a write to a session's active order, in
// t, the order's transaction: the one call the order package makes into
// the session owner on that path.
//
// It locks the session's row, so concurrent first writes of one session
// run one after the other and the later ones see the order the first one
// created; with create, a cache-only guest gets its row first (storeGuest).
// Then pick gets the active order the row holds (nil when it holds none, or
// when there is no row: a session deleted meanwhile, or a cache-only guest
// without create) and returns the order the session holds from now on;
// the row is pointed at it and the session re-cached after commit.
//
// It returns the id of the session's row (cs.ID when there is none) and
// its active order (nil when there is no row).
func (s *Service) HoldOrder(ctx context.Context, t *Tx, cs *sessioncache.CachedSession, create bool, pick func(held *entity.ID) (*entity.ID, error)) (entity.ID, *entity.ID, error) {
	id, held, exists, stored, err := s.lockForOrder(ctx, t, cs, create)
	if err != nil {
		return 0, nil, err
	}
	next, err := pick(held)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case !exists:
		return id, nil, nil
	case !entity.SameID(held, next):
		if err := s.SetActiveOrderInTx(ctx, t, id, next); err != nil {
			return 0, nil, err
		}
		return id, next, nil
	case stored:
		// Stored here, already holding this order (a concurrent request
		// gave it): the cache still has the cache-only entry.
		t.OnCommit(func(ctx context.Context) { s.recache(ctx, id) })
	}
	return id, held, nil
}

// lockForOrder locks the row of cs in t and returns its id and active
// order. exists is false when there is no row; stored is true when a
// cache-only guest got its row here.
func (s *Service) lockForOrder(ctx context.Context, t *Tx, cs *sessioncache.CachedSession, create bool) (id entity.ID, active *entity.ID, exists, stored bool, err error) {
	if !cs.Stored() {
		if !create {
			return cs.ID, nil, false, false, nil
		}
		id, active, err := s.storeGuest(ctx, t, cs)
		if err != nil {
			return 0, nil, false, false, err
		}
		return id, active, true, true, nil
	}
	q := t.NewSelect().Model((*entity.Session)(nil)).Column("active_order_id").Where("id = ?", cs.ID)
	if s.db.Dialect().Name() == dialect.PG { // SQLite has one writer
		q = q.For("UPDATE")
	}
	err = q.Scan(ctx, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return cs.ID, nil, false, false, nil
	}
	if err != nil {
		return 0, nil, false, false, fmt.Errorf("lock session: %w", err)
	}
	return cs.ID, active, true, false, nil
}
