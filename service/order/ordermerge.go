package order

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// MergeLine is one line of a merge's result: the line it comes from (of
// the guest or the existing order) and its quantity.
type MergeLine struct {
	LineID    entity.ID
	VariantID entity.ID
	Quantity  int
}

// MergeStrategy is Vendure's OrderMergeStrategy: given the lines of the
// guest order and of the customer's existing order, both non-empty, it
// returns the lines the customer keeps.
type MergeStrategy func(guest, existing []MergeLine) []MergeLine

// The four strategies of Vendure, by the names ORDER_MERGE_STRATEGY takes.
var mergeStrategies = map[string]MergeStrategy{
	"MergeOrdersStrategy":             MergeOrders,
	"UseGuestStrategy":                UseGuest,
	"UseExistingStrategy":             UseExisting,
	"UseGuestIfExistingEmptyStrategy": UseGuestIfExistingEmpty,
}

// MergeStrategyNamed returns the strategy with that name, if there is one.
func MergeStrategyNamed(name string) (MergeStrategy, bool) {
	m, ok := mergeStrategies[name]
	return m, ok
}

// MergeOrders is Vendure's MergeOrdersStrategy (the default): the existing
// lines, where a guest line for the same variant sets that line's quantity
// to the guest's (not the sum), and the guest's other lines before them.
func MergeOrders(guest, existing []MergeLine) []MergeLine {
	merged := slices.Clone(existing)
	for _, g := range slices.Backward(guest) {
		if i := slices.IndexFunc(merged, func(m MergeLine) bool { return m.VariantID == g.VariantID }); i >= 0 {
			merged[i].Quantity = g.Quantity
		} else {
			merged = slices.Insert(merged, 0, g)
		}
	}
	return merged
}

// UseGuest is Vendure's UseGuestStrategy: the guest's lines only.
func UseGuest(guest, _ []MergeLine) []MergeLine { return slices.Clone(guest) }

// UseExisting is Vendure's UseExistingStrategy: the existing lines only.
func UseExisting(_, existing []MergeLine) []MergeLine { return slices.Clone(existing) }

// UseGuestIfExistingEmpty is Vendure's UseGuestIfExistingEmptyStrategy.
// The merge only calls strategies with two non-empty orders, so it keeps
// the existing lines there.
func UseGuestIfExistingEmpty(guest, existing []MergeLine) []MergeLine {
	if len(existing) > 0 {
		return slices.Clone(existing)
	}
	return slices.Clone(guest)
}

// MergeOnLogin is Vendure's mergeOrders at login, in the login's
// transaction t: it returns the order the new session holds (nil for none).
// guestOrderID is the active order of the session the request carried.
//
// A guest order that has a customer (a checkout in progress, or another
// user's cart) is never merged (vendure#263). A guest order that is gone
// or on another channel counts as none (vendure#1454). Both orders are locked
// first, the guest's then the existing one, so concurrent logins with one
// guest cart run one after the other, and the later ones find the cart
// already merged (vendure#4481).
func (s *Service) MergeOnLogin(ctx context.Context, t *session.Tx, userID, channelID entity.ID, guestOrderID *entity.ID) (*entity.ID, error) {
	var guest *entity.Order
	if guestOrderID != nil {
		o, err := s.lockAndLoad(ctx, t, *guestOrderID, channelID)
		if err != nil && !errors.Is(err, outcome.ErrNotFound) {
			return nil, err
		}
		if o != nil && o.Active && o.CustomerID == nil {
			guest = o
		}
	}
	var existing *entity.Order
	id, err := s.customerActiveOrderID(ctx, t, userID, channelID, true)
	if err != nil {
		return nil, err
	}
	if id != 0 {
		if existing, err = s.lockAndLoad(ctx, t, id, channelID); err != nil {
			return nil, err
		}
	}
	target, drop := existing, guest
	switch {
	case guest != nil && len(guest.Lines) > 0 && existing != nil && len(existing.Lines) > 0:
		if err := s.applyMerge(ctx, t, guest, existing); err != nil {
			return nil, err
		}
	case guest != nil && len(guest.Lines) > 0:
		target, drop = guest, existing
	}
	if drop != nil {
		if err := s.deleteOrder(ctx, t, drop.ID); err != nil {
			return nil, err
		}
	}
	if target == nil {
		return nil, nil
	}
	if target.CustomerID == nil {
		cust, err := customerOfUser(ctx, t, userID)
		if err != nil {
			return nil, err
		}
		if cust != nil {
			if _, err := t.NewUpdate().Model((*entity.Order)(nil)).Set("customer_id = ?", cust.ID).
				Set("updated_at = ?", s.now().UTC()).Where("id = ?", target.ID).Exec(ctx); err != nil {
				return nil, fmt.Errorf("set order customer: %w", err)
			}
		}
	}
	return &target.ID, nil
}

// applyMerge writes the strategy's result into the existing order: guest
// lines it keeps are added as new lines (after the existing ones, as
// Vendure inserts them), existing lines change quantity or go.
func (s *Service) applyMerge(ctx context.Context, t *session.Tx, guest, existing *entity.Order) error {
	merged := s.merge(mergeLines(guest), mergeLines(existing))
	now := s.now().UTC()
	keep := map[entity.ID]int{}
	for _, m := range merged {
		keep[m.LineID] = m.Quantity
	}
	var drop []entity.ID
	for _, l := range existing.Lines {
		q, ok := keep[l.ID]
		switch {
		case !ok:
			drop = append(drop, l.ID)
		case q != l.Quantity:
			if _, err := t.NewUpdate().Model((*entity.OrderLine)(nil)).Set("quantity = ?", q).
				Set("updated_at = ?", now).Where("id = ?", l.ID).Exec(ctx); err != nil {
				return fmt.Errorf("merge: update line: %w", err)
			}
		}
	}
	if len(drop) > 0 {
		if _, err := t.NewDelete().Model((*entity.OrderLine)(nil)).Where("id IN (?)", bun.List(drop)).Exec(ctx); err != nil {
			return fmt.Errorf("merge: delete lines: %w", err)
		}
	}
	for _, l := range guest.Lines {
		q, ok := keep[l.ID]
		if !ok {
			continue
		}
		nl := &entity.OrderLine{
			CreatedAt: now, UpdatedAt: now, OrderID: existing.ID, ProductVariantID: l.ProductVariantID,
			Quantity: q, UnitPrice: l.UnitPrice,
		}
		if _, err := t.NewInsert().Model(nl).Exec(ctx); err != nil {
			return fmt.Errorf("merge: add line: %w", err)
		}
	}
	_, err := t.NewUpdate().Model((*entity.Order)(nil)).Set("updated_at = ?", now).Where("id = ?", existing.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("merge: update order: %w", err)
	}
	return nil
}

func mergeLines(o *entity.Order) []MergeLine {
	out := make([]MergeLine, len(o.Lines))
	for i, l := range o.Lines {
		out[i] = MergeLine{LineID: l.ID, VariantID: l.ProductVariantID, Quantity: l.Quantity}
	}
	return out
}

// deleteOrder deletes an order and its lines. Sessions that still point
// at it lose it first, in the same transaction, through the session owner
// (vendure#1454), which revokes their cached copies after commit.
func (s *Service) deleteOrder(ctx context.Context, t *session.Tx, id entity.ID) error {
	if err := s.sessions.ReleaseOrders(ctx, t, id); err != nil {
		return err
	}
	if _, err := t.NewDelete().Model((*entity.Order)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete order: %w", err)
	}
	return nil
}
