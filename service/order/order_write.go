package order

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// StandardPaymentMethod is the code of the one built-in payment method: a
// test method that settles at once, like Vendure's testing handler.
const StandardPaymentMethod = "standard-payment"

// maxOrderStateLength bounds the state transitionOrderToState takes (the
// longest of Vendure's state names is 26 characters); a longer one is
// refused rather than repeated back in a transition error.
const maxOrderStateLength = 64

// AddItemToOrder adds quantity of a variant to the active order, creating
// the order (and storing it on the session) when there is none. A line for
// the variant grows; otherwise a line is added at the variant's price.
func (s *Service) AddItemToOrder(ctx context.Context, p Shopper, variantID entity.ID, quantity int) (*entity.Order, *sessioncache.CachedSession, error) {
	if quantity < 0 {
		return nil, p.Session, &outcome.NegativeQuantityError{}
	}
	return s.writeActiveOrder(ctx, p, true, func(ctx context.Context, ot *orderTx) error {
		if err := checkModifiable(ot.order); err != nil {
			return err
		}
		v := new(entity.ProductVariant)
		err := ot.t.NewSelect().Model(v).Where("id = ? AND deleted_at IS NULL", variantID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && v.CurrencyCode != ot.order.CurrencyCode) {
			return &outcome.EntityNotFoundError{Entity: "ProductVariant", ID: variantID.String()}
		}
		if err != nil {
			return fmt.Errorf("find variant: %w", err)
		}
		if quantity == 0 {
			return nil
		}
		i := slices.IndexFunc(ot.order.Lines, func(l *entity.OrderLine) bool { return l.ProductVariantID == variantID })
		if i < 0 {
			if err := s.checkLimits(ot.order, nil, v.Price, quantity); err != nil {
				return err
			}
			return s.insertLine(ctx, ot, v, quantity)
		}
		line := ot.order.Lines[i]
		if err := s.checkLimits(ot.order, line, 0, line.Quantity+quantity); err != nil {
			return err
		}
		return s.setLineQuantity(ctx, ot, line, line.Quantity+quantity)
	})
}

// AdjustOrderLine sets a line's quantity; 0 removes the line.
func (s *Service) AdjustOrderLine(ctx context.Context, p Shopper, lineID entity.ID, quantity int) (*entity.Order, *sessioncache.CachedSession, error) {
	if quantity < 0 {
		return nil, p.Session, &outcome.NegativeQuantityError{}
	}
	return s.writeActiveOrder(ctx, p, true, func(ctx context.Context, ot *orderTx) error {
		line, err := s.lineOf(ot.order, lineID)
		if err != nil {
			return err
		}
		if err := checkModifiable(ot.order); err != nil {
			return err
		}
		if quantity == 0 {
			return s.deleteLines(ctx, ot, line.ID)
		}
		if err := s.checkLimits(ot.order, line, 0, quantity); err != nil {
			return err
		}
		return s.setLineQuantity(ctx, ot, line, quantity)
	})
}

// RemoveOrderLine removes one line of the active order.
func (s *Service) RemoveOrderLine(ctx context.Context, p Shopper, lineID entity.ID) (*entity.Order, *sessioncache.CachedSession, error) {
	return s.writeActiveOrder(ctx, p, true, func(ctx context.Context, ot *orderTx) error {
		line, err := s.lineOf(ot.order, lineID)
		if err != nil {
			return err
		}
		if err := checkModifiable(ot.order); err != nil {
			return err
		}
		return s.deleteLines(ctx, ot, line.ID)
	})
}

// RemoveAllOrderLines empties the active order.
func (s *Service) RemoveAllOrderLines(ctx context.Context, p Shopper) (*entity.Order, *sessioncache.CachedSession, error) {
	return s.writeActiveOrder(ctx, p, true, func(ctx context.Context, ot *orderTx) error {
		if err := checkModifiable(ot.order); err != nil {
			return err
		}
		ids := make([]entity.ID, len(ot.order.Lines))
		for i, l := range ot.order.Lines {
			ids[i] = l.ID
		}
		return s.deleteLines(ctx, ot, ids...)
	})
}

// TransitionOrderToState moves the active order to state, if the order
// process allows it. Without an active order the order is nil.
func (s *Service) TransitionOrderToState(ctx context.Context, p Shopper, state string) (*entity.Order, *sessioncache.CachedSession, error) {
	if len(state) > maxOrderStateLength {
		return nil, p.Session, fmt.Errorf("%w: state must be at most %d characters long", outcome.ErrInvalidInput, maxOrderStateLength)
	}
	return s.writeActiveOrder(ctx, p, false, func(ctx context.Context, ot *orderTx) error {
		if reason := transitionRefusal(ot.order, state); reason != "" {
			return &outcome.OrderStateTransitionError{FromState: ot.order.State, ToState: state, TransitionError: reason}
		}
		return s.setState(ctx, ot, state)
	})
}

// AddPaymentToOrder pays the active order, which must be in
// ArrangingPayment, with the built-in method: the payment settles at once,
// the order moves to PaymentSettled, stops being active and leaves the
// session. The metadata is not used.
func (s *Service) AddPaymentToOrder(ctx context.Context, p Shopper, method string) (*entity.Order, *sessioncache.CachedSession, error) {
	if utf8.RuneCountInString(method) > account.MaxFieldLength {
		return nil, p.Session, fmt.Errorf("%w: method must be at most %d characters long", outcome.ErrInvalidInput, account.MaxFieldLength)
	}
	o, cs, err := s.writeActiveOrder(ctx, p, false, func(ctx context.Context, ot *orderTx) error {
		if ot.order.State != entity.OrderArrangingPayment {
			return &outcome.OrderPaymentStateError{}
		}
		if method != StandardPaymentMethod {
			return &outcome.IneligiblePaymentMethodError{}
		}
		if _, err := ot.order.SubTotal(); err != nil {
			// Never settle an amount that cannot be computed.
			return err
		}
		return s.setState(ctx, ot, entity.OrderPaymentSettled)
	})
	if err == nil && o == nil {
		return nil, cs, &outcome.NoActiveOrderError{}
	}
	return o, cs, err
}

// GuestCustomer is setCustomerForOrder's input.
type GuestCustomer struct {
	Title        *string
	FirstName    string
	LastName     string
	PhoneNumber  *string
	EmailAddress string
}

// SetCustomerForOrder is Vendure's setCustomerForOrder: a guest names the
// customer of the active order. A logged-in customer gets
// *outcome.AlreadyLoggedInError.
//
// The address is never looked up: a registered address (verified or not,
// any letter case) gets the same answer, the same work and the same
// queries as an unknown one, so the mutation tells nobody whether an
// address has an account (Vendure's default answers
// EMAIL_ADDRESS_CONFLICT_ERROR for a registered one). Guest checkout with
// a registered address is allowed (Vendure's
// allowGuestCheckoutForRegisteredCustomers), but the order keeps its own
// guest customer: it never becomes the account's cart, and it joins the
// account's order history only once placed (setState).
//
// One guest customer per order: the first call creates it, later calls
// update it in place. A guest customer is never shared between orders, so
// nothing one guest enters reaches another order.
//
// The fields follow the customer field rules (customer_fields.go); a
// refusal is outcome.ErrInvalidInput and stores nothing.
func (s *Service) SetCustomerForOrder(ctx context.Context, p Shopper, in GuestCustomer) (*entity.Order, *sessioncache.CachedSession, error) {
	if err := s.throttle.TakeCheckout(ctx, p.sessionToken(), in.EmailAddress); err != nil {
		return nil, p.Session, err
	}
	in.EmailAddress = auth.NormalizeIdentifier(in.EmailAddress)
	if err := account.CheckFields([]account.Field{
		{Name: "emailAddress", Value: in.EmailAddress}, {Name: "title", Value: deref(in.Title)},
		{Name: "firstName", Value: in.FirstName}, {Name: "lastName", Value: in.LastName},
		{Name: "phoneNumber", Value: deref(in.PhoneNumber)},
	}); err != nil {
		return nil, p.Session, err
	}
	o, cs, err := s.writeActiveOrder(ctx, p, false, func(ctx context.Context, ot *orderTx) error {
		if p.userID() != nil {
			return &outcome.AlreadyLoggedInError{}
		}
		return s.saveGuestCustomer(ctx, ot, p.ChannelID, in)
	})
	if err == nil && o == nil {
		return nil, cs, &outcome.NoActiveOrderError{}
	}
	return o, cs, err
}

// saveGuestCustomer updates the order's guest customer in place, or, when
// the order has none of its own (none yet, a customer with an account, or
// a row another order also names), creates one and makes it the order's.
func (s *Service) saveGuestCustomer(ctx context.Context, ot *orderTx, channelID entity.ID, in GuestCustomer) error {
	now := s.now().UTC()
	c := &entity.Customer{
		CreatedAt: now, UpdatedAt: now, Title: in.Title, FirstName: in.FirstName, LastName: in.LastName,
		PhoneNumber: in.PhoneNumber, EmailAddress: in.EmailAddress,
	}
	updated := false
	if id := ot.order.CustomerID; id != nil {
		res, err := ot.t.NewUpdate().Model(c).
			Column("title", "first_name", "last_name", "phone_number", "email_address", "updated_at").
			Where("id = ? AND user_id IS NULL AND deleted_at IS NULL", *id).
			Where(`NOT EXISTS (SELECT 1 FROM "order" AS other WHERE other.customer_id = ? AND other.id <> ?)`, *id, ot.order.ID).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("update guest customer: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			c.ID, updated = *id, true
			if ot.order.Customer != nil {
				c.CreatedAt = ot.order.Customer.CreatedAt
			}
		}
	}
	if !updated {
		if _, err := ot.t.NewInsert().Model(c).Exec(ctx); err != nil {
			return fmt.Errorf("create guest customer: %w", err)
		}
	}
	if err := access.AddCustomerToChannel(ctx, ot.t, c.ID, channelID); err != nil {
		return err
	}
	if _, err := ot.t.NewUpdate().Model((*entity.Order)(nil)).Set("customer_id = ?", c.ID).
		Set("updated_at = ?", now).Where("id = ?", ot.order.ID).Exec(ctx); err != nil {
		return fmt.Errorf("set order customer: %w", err)
	}
	ot.order.CustomerID, ot.order.Customer, ot.order.UpdatedAt = &c.ID, c, now
	return nil
}

func checkModifiable(o *entity.Order) error {
	if o.State != entity.OrderAddingItems {
		return &outcome.OrderModificationError{}
	}
	return nil
}

// checkLimits checks the order and line caps with line (nil for a new one
// at unitPrice) at quantity, and that the order's figures stay in range:
// the line price and the order total within entity.MaxMoney. A figure out
// of range is refused (outcome.ErrInvalidInput), never computed with a wrap.
func (s *Service) checkLimits(o *entity.Order, line *entity.OrderLine, unitPrice int64, quantity int) error {
	next := &entity.Order{Lines: make([]*entity.OrderLine, 0, len(o.Lines)+1)}
	for _, l := range o.Lines {
		if l != line {
			next.Lines = append(next.Lines, l)
		}
	}
	if line != nil {
		unitPrice = line.UnitPrice
	}
	next.Lines = append(next.Lines, &entity.OrderLine{UnitPrice: unitPrice, Quantity: quantity})
	total, err := next.TotalQuantity()
	if err != nil || total > s.itemsLimit {
		return &outcome.OrderLimitError{MaxItems: s.itemsLimit}
	}
	if quantity > s.lineLimit {
		return &outcome.OrderLimitError{MaxItems: s.lineLimit}
	}
	if _, err := next.SubTotal(); err != nil {
		return fmt.Errorf("%w: the order total would be more than %d minor units, the largest amount this server handles",
			outcome.ErrInvalidInput, int64(entity.MaxMoney))
	}
	return nil
}

func (s *Service) lineOf(o *entity.Order, lineID entity.ID) (*entity.OrderLine, error) {
	for _, l := range o.Lines {
		if l.ID == lineID {
			return l, nil
		}
	}
	return nil, fmt.Errorf("%w: This order does not contain an OrderLine with the id %s", outcome.ErrInvalidInput, lineID)
}

func (s *Service) insertLine(ctx context.Context, ot *orderTx, v *entity.ProductVariant, quantity int) error {
	now := s.now().UTC()
	l := &entity.OrderLine{
		CreatedAt: now, UpdatedAt: now, OrderID: ot.order.ID, ProductVariantID: v.ID, ProductVariant: v,
		Quantity: quantity, UnitPrice: v.Price,
	}
	if _, err := ot.t.NewInsert().Model(l).Exec(ctx); err != nil {
		return fmt.Errorf("add order line: %w", err)
	}
	ot.order.Lines = append(ot.order.Lines, l)
	return s.touch(ctx, ot)
}

func (s *Service) setLineQuantity(ctx context.Context, ot *orderTx, l *entity.OrderLine, quantity int) error {
	now := s.now().UTC()
	if _, err := ot.t.NewUpdate().Model((*entity.OrderLine)(nil)).Set("quantity = ?", quantity).
		Set("updated_at = ?", now).Where("id = ?", l.ID).Exec(ctx); err != nil {
		return fmt.Errorf("update order line: %w", err)
	}
	l.Quantity, l.UpdatedAt = quantity, now
	return s.touch(ctx, ot)
}

func (s *Service) deleteLines(ctx context.Context, ot *orderTx, ids ...entity.ID) error {
	if len(ids) > 0 {
		if _, err := ot.t.NewDelete().Model((*entity.OrderLine)(nil)).
			Where("order_id = ? AND id IN (?)", ot.order.ID, bun.List(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("delete order lines: %w", err)
		}
	}
	ot.order.Lines = slices.DeleteFunc(ot.order.Lines, func(l *entity.OrderLine) bool { return slices.Contains(ids, l.ID) })
	return s.touch(ctx, ot)
}

// touch records that the order changed.
func (s *Service) touch(ctx context.Context, ot *orderTx) error {
	now := s.now().UTC()
	if _, err := ot.t.NewUpdate().Model((*entity.Order)(nil)).Set("updated_at = ?", now).
		Where("id = ?", ot.order.ID).Exec(ctx); err != nil {
		return fmt.Errorf("update order: %w", err)
	}
	ot.order.UpdatedAt = now
	return nil
}

// setState moves the order to state; PaymentSettled and Cancelled end its
// life as a cart (active false), and a settled order is placed now (and a
// guest order joins the verified account with its address:
// order_history.go).
func (s *Service) setState(ctx context.Context, ot *orderTx, state string) error {
	now := s.now().UTC()
	o := ot.order
	o.State, o.UpdatedAt = state, now
	switch state {
	case entity.OrderPaymentSettled:
		o.Active, o.OrderPlacedAt = false, &now
	case entity.OrderCancelled:
		o.Active = false
	}
	if _, err := ot.t.NewUpdate().Model(o).Column("state", "active", "order_placed_at", "updated_at").
		WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update order state: %w", err)
	}
	if state == entity.OrderPaymentSettled {
		return s.linkPlacedToAccount(ctx, ot.t, o)
	}
	return nil
}

// deref is *s, or "" for nil (an absent field).
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
