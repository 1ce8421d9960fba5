package order

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
)

// orderTx is the order a write works on, inside the transaction that
// holds its locks.
type orderTx struct {
	t     *session.Tx
	order *entity.Order
}

// writeActiveOrder runs fn on the shopper's active order (Vendure's
// getActiveOrder(ctx, input, create)) in one transaction, and returns the
// order as fn left it and the session as it now is. Without an active order
// and with create false, fn is not called and the order is nil.
//
// The order row is locked before fn runs. Finding or creating the order
// first locks the session row, so concurrent first writes of one session
// create one order between them; when the cached session already names an
// active order, its row lock alone serializes the writes.
//
// fn returns a domain error (an expected outcome, such as
// *outcome.OrderModificationError) as its result: the transaction still commits
// what was done before (an order created for the request, as Vendure).
func (s *Service) writeActiveOrder(ctx context.Context, p Shopper, create bool, fn func(ctx context.Context, ot *orderTx) error) (*entity.Order, *sessioncache.CachedSession, error) {
	if p.Session == nil {
		return nil, nil, outcome.ErrForbidden
	}
	cs := p.Session
	var (
		order     *entity.Order
		refusal   error
		newActive = cs.ActiveOrderID
		sessionID = cs.ID
	)
	err := session.RunInTx(ctx, s.db, func(ctx context.Context, t *session.Tx) error {
		order, refusal, newActive, sessionID = nil, nil, cs.ActiveOrderID, cs.ID
		o, err := s.findActiveForWrite(ctx, t, p, create, &newActive, &sessionID)
		if err != nil || o == nil {
			return err
		}
		ot := &orderTx{t: t, order: o}
		if refusal = fn(ctx, ot); refusal != nil && !outcome.Is(refusal) {
			return refusal
		}
		order = ot.order
		if !order.Active && newActive != nil && *newActive == order.ID {
			// Paid or cancelled: it stops being the session's order.
			newActive = nil
			return s.sessions.SetActiveOrderInTx(ctx, t, sessionID, nil)
		}
		return nil
	})
	if err != nil {
		return nil, cs, err
	}
	if !entity.SameID(newActive, cs.ActiveOrderID) || sessionID != cs.ID {
		c := *cs
		c.ID, c.ActiveOrderID = sessionID, newActive
		cs = &c
	}
	if refusal != nil {
		return nil, cs, refusal
	}
	return order, cs, nil
}

// findActiveForWrite locks and loads the active order on the channel (nil
// if none and !create), creating one when create is set, and points the
// session at it in t. *active tracks the session's active order, and
// *sessionID its id: a cache-only guest gets its row here when the order
// is created, in t. The session's side is the session owner's
// (session.Service.HoldOrder), reached once.
func (s *Service) findActiveForWrite(ctx context.Context, t *session.Tx, p Shopper, create bool, active **entity.ID, sessionID *entity.ID) (*entity.Order, error) {
	if id := p.Session.ActiveOrderID; id != nil {
		// The usual case: the cached session names the cart.
		o, err := s.lockAndLoad(ctx, t, *id, p.ChannelID)
		if err != nil && !errors.Is(err, outcome.ErrNotFound) {
			return nil, err
		}
		if o != nil && o.Active && p.reaches(o) {
			return o, nil
		}
	}
	var o *entity.Order
	id, held, err := s.sessions.HoldOrder(ctx, t, p.Session, create, func(held *entity.ID) (*entity.ID, error) {
		var err error
		if o, err = s.findOrCreate(ctx, t, p, create, held); err != nil || o == nil {
			// A stored order on another channel stays on the session
			// until this channel gets one (one active order per session
			// per channel, as Vendure); a paid one is unset by the next
			// read.
			return held, err
		}
		return &o.ID, nil
	})
	if err != nil {
		return nil, err
	}
	*sessionID, *active = id, held
	return o, nil
}

// findOrCreate is the order a session holding held works on: held if it is
// an active order on the channel the shopper reaches, else the logged-in
// customer's active order there, else (with create) a new one; nil if none.
func (s *Service) findOrCreate(ctx context.Context, t *session.Tx, p Shopper, create bool, held *entity.ID) (*entity.Order, error) {
	var (
		o   *entity.Order
		err error
	)
	if held != nil {
		if o, err = s.lockAndLoad(ctx, t, *held, p.ChannelID); err != nil && !errors.Is(err, outcome.ErrNotFound) {
			return nil, err
		}
		if o != nil && (!o.Active || !p.reaches(o)) {
			o = nil
		}
	}
	if uid := p.userID(); o == nil && uid != nil {
		id, err := s.customerActiveOrderID(ctx, t, *uid, p.ChannelID, true)
		if err != nil {
			return nil, err
		}
		if id != 0 {
			if o, err = s.lockAndLoad(ctx, t, id, p.ChannelID); err != nil {
				return nil, err
			}
		}
	}
	if o == nil && create {
		return s.createOrder(ctx, t, p)
	}
	return o, nil
}

// lockAndLoad locks an order row (PostgreSQL; SQLite has one writer) and
// loads it with its customer and lines.
func (s *Service) lockAndLoad(ctx context.Context, t *session.Tx, id, channelID entity.ID) (*entity.Order, error) {
	if s.forUpdate {
		var got entity.ID
		err := t.NewSelect().Model((*entity.Order)(nil)).Column("id").
			Where("id = ? AND channel_id = ?", id, channelID).For("UPDATE").Scan(ctx, &got)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, outcome.ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("lock order: %w", err)
		}
	}
	return s.load(ctx, t, id, channelID)
}

// createOrder creates an empty order in AddingItems on the shopper's
// channel, in its default currency, for the logged-in customer if any.
func (s *Service) createOrder(ctx context.Context, t *session.Tx, p Shopper) (*entity.Order, error) {
	var currency entity.CurrencyCode
	if err := t.NewSelect().Model((*entity.Channel)(nil)).Column("default_currency_code").
		Where("id = ?", p.ChannelID).Scan(ctx, &currency); err != nil {
		return nil, fmt.Errorf("find channel currency: %w", err)
	}
	now := s.now().UTC()
	o := &entity.Order{
		CreatedAt: now, UpdatedAt: now, Code: newOrderCode(), State: entity.OrderAddingItems,
		Active: true, ChannelID: p.ChannelID, CurrencyCode: currency,
	}
	if uid := p.userID(); uid != nil {
		cust, err := customerOfUser(ctx, t, *uid)
		if err != nil {
			return nil, err
		}
		if cust != nil {
			o.CustomerID, o.Customer = &cust.ID, cust
		}
	}
	if _, err := t.NewInsert().Model(o).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create order: %w", err)
	}
	return o, nil
}

// customerOfUser returns the live customer profile of a user, or nil.
func customerOfUser(ctx context.Context, t *session.Tx, userID entity.ID) (*entity.Customer, error) {
	c := new(entity.Customer)
	err := t.NewSelect().Model(c).Where("user_id = ? AND deleted_at IS NULL", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find customer: %w", err)
	}
	return c, nil
}
