package order

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/internal/setup"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/shopsession/sessionserver/service/session"
	"github.com/shopsession/sessionserver/sessioncache"
)

// Vendure's default order limits (orderOptions.orderItemsLimit and
// orderLineItemsLimit).
const (
	DefaultOrderItemsLimit     = 999
	DefaultOrderLineItemsLimit = 999
)

// maxOrderCodeLength bounds the code orderByCode looks up: every order code
// is shorter (newOrderCode: 16 characters).
const maxOrderCodeLength = 64

// GuestOrderAccessDuration is how long after it was placed a guest order
// can be read by code without logging in (Vendure's
// DefaultOrderByCodeAccessStrategy, '2h').
const GuestOrderAccessDuration = 2 * time.Hour

// Config configures an Service.
type Config struct {
	// DB is the database. Required.
	DB *bun.DB
	// Sessions stores the active order on sessions. Required.
	Sessions *session.Service
	// MergeStrategy decides the lines of the order a customer keeps when
	// they log in with a guest cart while holding an active order.
	// Defaults to MergeOrders (Vendure's default).
	MergeStrategy MergeStrategy
	// OrderItemsLimit caps the total quantity of an order. Defaults to
	// DefaultOrderItemsLimit.
	OrderItemsLimit int
	// OrderLineItemsLimit caps the quantity of one line. Defaults to
	// DefaultOrderLineItemsLimit.
	OrderLineItemsLimit int
	// RequireVerification says that accounts prove their address by
	// verification: only then does a placed guest order join the verified
	// account with its address (order_history.go). Defaults to false here
	// (guest orders stay guest orders); the server passes the configured
	// value.
	RequireVerification bool
	// Logger defaults to discarding.
	Logger *slog.Logger
	// NowFunc returns the current time. Defaults to time.Now.
	NowFunc func() time.Time
	// Throttle limits setCustomerForOrder per session, e-mail address and
	// client address. Defaults to none: no limits.
	Throttle *ratelimit.Throttle
}

// Service keeps carts: the active order of a session (Vendure's
// ActiveOrderService with its default strategy), its lines, its state
// machine, the built-in payment method and the merge of a guest cart at
// login.
//
// Concurrency: every write runs in one transaction that first locks the
// session row (SELECT … FOR UPDATE on PostgreSQL; SQLite has one writer),
// then the order row, so concurrent requests of one session or on one
// order are serialized and none loses another's update (vendure#2187,
// vendure#3398).
type Service struct {
	db         *bun.DB
	sessions   *session.Service
	merge      MergeStrategy
	itemsLimit int
	lineLimit  int
	log        *slog.Logger
	now        func() time.Time
	forUpdate  bool
	// requireVerification: see Config.RequireVerification.
	requireVerification bool
	throttle            *ratelimit.Throttle
}

// New returns an Service. A missing required field is an
// error.
func New(cfg Config) (*Service, error) {
	if err := setup.Required("order service",
		setup.Field{Name: "DB", Unset: cfg.DB == nil},
		setup.Field{Name: "Sessions", Unset: cfg.Sessions == nil},
	); err != nil {
		return nil, err
	}
	if cfg.MergeStrategy == nil {
		cfg.MergeStrategy = MergeOrders
	}
	if cfg.OrderItemsLimit <= 0 {
		cfg.OrderItemsLimit = DefaultOrderItemsLimit
	}
	if cfg.OrderLineItemsLimit <= 0 {
		cfg.OrderLineItemsLimit = DefaultOrderLineItemsLimit
	}
	return &Service{
		db: cfg.DB, sessions: cfg.Sessions, merge: cfg.MergeStrategy,
		itemsLimit: cfg.OrderItemsLimit, lineLimit: cfg.OrderLineItemsLimit,
		log: setup.Logger(cfg.Logger), now: setup.Now(cfg.NowFunc),
		forUpdate:           cfg.DB.Dialect().Name() == dialect.PG,
		requireVerification: cfg.RequireVerification,
		throttle:            cfg.Throttle,
	}, nil
}

// Shopper is who asks: the request's session (nil when none) and channel.
type Shopper struct {
	Session   *sessioncache.CachedSession
	ChannelID entity.ID
}

// reaches reports whether the shopper's session may reach an order it
// holds: an order of a customer with an account only from that account's
// sessions; a guest order (no customer, or a guest customer) from the
// session that holds it, which is the only way a caller finds one. Every
// path from a session to its active order checks it, so a session left
// pointing at an order that has since become an account's (a guest
// customer adopted at registration) reads and writes nothing of it.
func (p Shopper) reaches(o *entity.Order) bool {
	if o.Customer == nil || o.Customer.UserID == nil {
		return true
	}
	uid := p.userID()
	return uid != nil && *uid == *o.Customer.UserID
}

func (p Shopper) userID() *entity.ID {
	if p.Session == nil || p.Session.User == nil {
		return nil
	}
	id := p.Session.User.ID
	return &id
}

// ActiveOrder returns the session's active order on the shopper's channel,
// or nil (Vendure's activeOrder: it never creates one). An order that is no
// longer active is unset from the session; a logged-in customer without one
// gets their newest active order on the channel, stored on the session.
// The returned session is the updated one (the input when unchanged).
func (s *Service) ActiveOrder(ctx context.Context, p Shopper) (*entity.Order, *sessioncache.CachedSession, error) {
	if p.Session == nil {
		return nil, nil, nil
	}
	cs := p.Session
	if cs.ActiveOrderID != nil {
		o, err := s.load(ctx, s.db, *cs.ActiveOrderID, p.ChannelID)
		if err != nil && !errors.Is(err, outcome.ErrNotFound) {
			return nil, cs, err
		}
		if o != nil && o.Active && p.reaches(o) {
			return o, cs, nil
		}
		if o != nil {
			// Paid (or cancelled), or another account's: not this
			// session's cart.
			if cs, err = s.sessions.UnsetActiveOrder(ctx, cs); err != nil {
				return nil, p.Session, err
			}
		}
	}
	uid := p.userID()
	if uid == nil {
		return nil, cs, nil
	}
	id, err := s.customerActiveOrderID(ctx, s.db, *uid, p.ChannelID, false)
	if err != nil || id == 0 {
		return nil, cs, err
	}
	o, err := s.load(ctx, s.db, id, p.ChannelID)
	if err != nil {
		return nil, cs, err
	}
	cs, err = s.sessions.SetActiveOrder(ctx, cs, id)
	return o, cs, err
}

// OrderForUser returns the order with that id when it belongs to the
// logged-in user (Shop API order(id)), a placed guest order linked to
// their account included (order_history.go), else nil.
func (s *Service) OrderForUser(ctx context.Context, p Shopper, id entity.ID) (*entity.Order, error) {
	uid := p.userID()
	if uid == nil {
		return nil, nil
	}
	o, err := s.load(ctx, s.db, id, p.ChannelID)
	if errors.Is(err, outcome.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if ok, err := s.ownedBy(ctx, o, *uid); err != nil || !ok {
		return nil, err
	}
	return o, nil
}

// OrderByCode is Vendure's orderByCode with its default access strategy:
// a logged-in user reads their own orders (a placed guest order linked to
// their account included); a guest reads a guest order
// (one whose customer has no account) placed less than
// GuestOrderAccessDuration ago, for its confirmation page. Anything else,
// an unknown code included, is outcome.ErrForbidden, so codes cannot be probed.
// Vendure also lets a guest read a registered customer's recent order by
// code; we do not.
func (s *Service) OrderByCode(ctx context.Context, p Shopper, code string) (*entity.Order, error) {
	if len(code) > maxOrderCodeLength {
		return nil, outcome.ErrForbidden // no order has such a code
	}
	var id entity.ID
	err := s.db.NewSelect().Model((*entity.Order)(nil)).Column("id").
		Where("code = ? AND channel_id = ?", code, p.ChannelID).Limit(1).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outcome.ErrForbidden
	}
	if err != nil {
		return nil, fmt.Errorf("find order by code: %w", err)
	}
	o, err := s.load(ctx, s.db, id, p.ChannelID)
	if err != nil {
		return nil, err
	}
	var owner *entity.ID
	if o.Customer != nil {
		owner = o.Customer.UserID
	}
	if uid := p.userID(); uid != nil {
		if ok, err := s.ownedBy(ctx, o, *uid); err != nil || !ok {
			return nil, cmp.Or(err, outcome.ErrForbidden)
		}
		return o, nil
	}
	if owner == nil && o.OrderPlacedAt != nil && s.now().Sub(*o.OrderPlacedAt) < GuestOrderAccessDuration {
		return o, nil
	}
	return nil, outcome.ErrForbidden
}

// load reads an order on a channel with its customer and its lines (with
// their variants), in two queries. outcome.ErrNotFound when there is none.
func (s *Service) load(ctx context.Context, db bun.IDB, id, channelID entity.ID) (*entity.Order, error) {
	o := new(entity.Order)
	err := db.NewSelect().Model(o).Relation("Customer").
		Where("o.id = ? AND o.channel_id = ?", id, channelID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outcome.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load order: %w", err)
	}
	if err := db.NewSelect().Model(&o.Lines).Relation("ProductVariant").
		Where("ol.order_id = ?", id).Order("ol.id").Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load order lines: %w", err)
	}
	return o, nil
}

// customerActiveOrderID finds the newest active order of a user's
// customer on a channel (0 when none), locking it when lock is set and the
// database can.
func (s *Service) customerActiveOrderID(ctx context.Context, db bun.IDB, userID, channelID entity.ID, lock bool) (entity.ID, error) {
	q := db.NewSelect().Model((*entity.Order)(nil)).Column("o.id").
		Join("JOIN customer AS cu ON cu.id = o.customer_id").
		Where("cu.user_id = ? AND o.channel_id = ? AND o.active = TRUE", userID, channelID).
		OrderExpr("o.id DESC").Limit(1)
	if lock && s.forUpdate {
		q = q.For("UPDATE OF o")
	}
	var id entity.ID
	err := q.Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find active order of customer: %w", err)
	}
	return id, nil
}

// orderCodeAlphabet is Vendure's (DefaultOrderCodeStrategy): 16 of these,
// ~82 bits.
const orderCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newOrderCode returns a random order code (unique by the table's unique
// constraint; a collision is a failed request, at odds of 2^-82).
func newOrderCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	for i := range b {
		b[i] = orderCodeAlphabet[int(b[i])%len(orderCodeAlphabet)]
	}
	return string(b)
}

// sessionToken is the token of the shopper's session, the key of the
// per-session checkout limit ("" without a session).
func (p Shopper) sessionToken() string {
	if p.Session == nil {
		return ""
	}
	return p.Session.Token
}
