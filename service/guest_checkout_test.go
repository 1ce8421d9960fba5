package service_test

import (
	"context"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/order"
)

// queryRecorder keeps the statements run while it is on, with their
// values (quoted strings, numbers) replaced by "?": what is left is the
// shape of the work.
type queryRecorder struct {
	mu    sync.Mutex
	on    bool
	shape []string
}

var queryValues = regexp.MustCompile(`'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b`)

func (r *queryRecorder) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (r *queryRecorder) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		r.shape = append(r.shape, queryValues.ReplaceAllString(e.Query, "?"))
	}
}

// record runs f and returns the statements it ran.
func (r *queryRecorder) record(f func()) []string {
	r.mu.Lock()
	r.on, r.shape = true, nil
	r.mu.Unlock()
	f()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.shape
}

type orderBundle struct {
	*testBundle
	orders  *order.Service
	rec     *queryRecorder
	variant entity.ID
}

func newOrderBundle(t *testing.T, b *testBundle, requireVerification bool) *orderBundle {
	t.Helper()
	ob := &orderBundle{testBundle: b, rec: &queryRecorder{}}
	var err error
	ob.orders, err = order.New(order.Config{
		DB: b.db.WithQueryHook(ob.rec), Sessions: b.sessions, NowFunc: b.clock.Now,
		RequireVerification: requireVerification,
	})
	require.NoError(t, err)
	now := b.clock.Now().UTC()
	v := &entity.ProductVariant{CreatedAt: now, UpdatedAt: now, SKU: "SKU-1", Name: "One", Price: 100,
		CurrencyCode: b.defaultChannel.DefaultCurrencyCode}
	_, err = b.db.NewInsert().Model(v).Exec(b.ctx)
	require.NoError(t, err)
	ob.variant = v.ID
	return ob
}

// cart is a new guest session's shopper holding a cart of one item.
func (ob *orderBundle) cart(t *testing.T) order.Shopper {
	t.Helper()
	p := order.Shopper{Session: ob.anonymous(t), ChannelID: ob.defaultChannel.ID}
	_, cs, err := ob.orders.AddItemToOrder(ob.ctx, p, ob.variant, 1)
	require.NoError(t, err)
	p.Session = cs
	return p
}

func (ob *orderBundle) setCustomer(t *testing.T, p order.Shopper, email string) *entity.Order {
	t.Helper()
	o, _, err := ob.orders.SetCustomerForOrder(ob.ctx, p, order.GuestCustomer{FirstName: "A", LastName: "B", EmailAddress: email})
	require.NoError(t, err)
	return o
}

// setCustomerForOrder never looks the address up: a registered verified
// address, a registered unverified one and an unknown one run the same
// statements, on the first call (the order's guest customer is created)
// and on a later one (it is updated in place).
func TestSetCustomerForOrderRunsTheSameQueriesForAnyAddress(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		ob := newOrderBundle(t, b, true)
		ob.createCustomer(t, "verified@example.com", "pw-verified", true)
		ob.createCustomer(t, "pending@example.com", "pw-pending", false)
		var first, later [][]string
		for _, email := range []string{"verified@example.com", "PENDING@example.com", "unknown@example.com"} {
			p := ob.cart(t)
			first = append(first, ob.rec.record(func() { ob.setCustomer(t, p, email) }))
			later = append(later, ob.rec.record(func() { ob.setCustomer(t, p, email) }))
		}
		require.NotEmpty(t, first[0])
		for i := 1; i < len(first); i++ {
			require.Equal(t, first[0], first[i])
			require.Equal(t, later[0], later[i])
		}
		for _, q := range append(first[0], later[0]...) {
			require.NotRegexp(t, `(?i)WHERE[^;]*email_address`, q, "no statement looks an address up")
		}
	})
}

// Verification links the placed guest orders of the proven address to the
// account (LinkPlacedGuestOrders); an active guest order with the address
// stays a guest cart, and an order linked already keeps its link.
func TestLinkPlacedGuestOrders(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		ob := newOrderBundle(t, b, true)
		placedEarly := ob.cart(t)
		ob.setCustomer(t, placedEarly, "late@example.com")
		cart := ob.cart(t)
		ob.setCustomer(t, cart, "Late@Example.com")
		_, cs, err := ob.orders.TransitionOrderToState(ob.ctx, placedEarly, entity.OrderArrangingPayment)
		require.NoError(t, err)
		placedEarly.Session = cs
		paid, _, err := ob.orders.AddPaymentToOrder(ob.ctx, placedEarly, order.StandardPaymentMethod)
		require.NoError(t, err)
		require.Nil(t, paid.AccountCustomerID, "no account had the address when it was placed")
		userID := ob.createCustomer(t, "late@example.com", "pw-late", false)
		var custID entity.ID
		require.NoError(t, ob.db.NewSelect().Model((*entity.Customer)(nil)).Column("id").Where("user_id = ?", userID).Scan(ob.ctx, &custID))

		require.NoError(t, ob.orders.LinkPlacedGuestOrders(ob.ctx, ob.db, custID, "LATE@example.com"))
		var orders []entity.Order
		require.NoError(t, ob.db.NewSelect().Model(&orders).Order("id").Scan(ob.ctx))
		require.Len(t, orders, 2)
		require.Equal(t, &custID, orders[0].AccountCustomerID, "the placed order joins the account")
		require.Nil(t, orders[1].AccountCustomerID, "the cart does not")
		require.True(t, orders[1].Active)
	})
}

// A guest order placed with the address of a registration that is not
// verified yet joins the account when its verification proves the address
// (account.Carts); until then it is linked to nothing. (Guest orders placed
// before the registration join it through the guest customer it adopts.)
func TestVerificationLinksPlacedGuestOrders(t *testing.T) {
	eachDB(t, bundleOpts{}, func(t *testing.T, b *testBundle) {
		ob := newOrderBundle(t, b, true)
		authn, err := account.NewAuthService(account.AuthConfig{
			DB: b.db, Sessions: b.sessions, Hasher: b.hasher, NowFunc: b.clock.Now, Orders: ob.orders,
			RequireVerification: true,
		})
		require.NoError(t, err)
		sink := &tokenSink{}
		accounts, err := account.New(account.Config{
			DB: b.db, Auth: authn, Hasher: b.hasher, Notifier: account.SendAfterCommit{Sender: sink}, NowFunc: b.clock.Now, RequireVerification: true,
		})
		require.NoError(t, err)
		require.NoError(t, accounts.RegisterCustomerAccount(b.ctx, account.Registration{
			EmailAddress: "Early@Example.com", FirstName: "E", LastName: "A", Password: "pw-early", ChannelID: b.defaultChannel.ID,
		}))

		p := ob.cart(t)
		ob.setCustomer(t, p, "early@example.com")
		_, cs, err := ob.orders.TransitionOrderToState(ob.ctx, p, entity.OrderArrangingPayment)
		require.NoError(t, err)
		p.Session = cs
		placed, _, err := ob.orders.AddPaymentToOrder(ob.ctx, p, order.StandardPaymentMethod)
		require.NoError(t, err)
		require.Nil(t, placed.AccountCustomerID, "an unverified registration is linked to nothing")

		cs, err = accounts.VerifyCustomerAccount(b.ctx, sink.last(t, entity.TokenVerification, "early@example.com"), "", account.LoginRequest{API: auth.ShopAPI, ChannelID: b.defaultChannel.ID})
		require.NoError(t, err)
		got, err := ob.orders.OrderForUser(b.ctx, order.Shopper{Session: cs, ChannelID: b.defaultChannel.ID}, placed.ID)
		require.NoError(t, err, "the verified account reads the guest order placed with its address")
		require.Equal(t, placed.ID, got.ID)
	})
}
