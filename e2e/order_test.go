package e2e_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

// The cart documents of a storefront (Vendure's starters, with the fields
// of features this server does not serve removed).
const (
	orderFields = `fragment ActiveOrder on Order {
  __typename id code state active totalQuantity subTotal subTotalWithTax total totalWithTax currencyCode
  customer { id emailAddress }
  lines { id quantity unitPrice unitPriceWithTax linePrice linePriceWithTax productVariant { id name sku price priceWithTax currencyCode } }
}`
	activeOrderQuery = `query activeOrder { activeOrder { ...ActiveOrder } }` + "\n" + orderFields
	addItemMutation  = `mutation addItemToOrder($productVariantId: ID!, $quantity: Int!) {
  addItemToOrder(productVariantId: $productVariantId, quantity: $quantity) {
    ...ActiveOrder
    ... on ErrorResult { errorCode message }
    ... on OrderLimitError { maxItems }
  }
}` + "\n" + orderFields
	adjustLineMutation = `mutation adjustOrderLine($orderLineId: ID!, $quantity: Int!) {
  adjustOrderLine(orderLineId: $orderLineId, quantity: $quantity) { ...ActiveOrder ... on ErrorResult { errorCode message } }
}` + "\n" + orderFields
	removeLineMutation = `mutation removeOrderLine($orderLineId: ID!) {
  removeOrderLine(orderLineId: $orderLineId) { ...ActiveOrder ... on ErrorResult { errorCode message } }
}` + "\n" + orderFields
	removeAllMutation  = `mutation { removeAllOrderLines { ...ActiveOrder ... on ErrorResult { errorCode message } } }` + "\n" + orderFields
	transitionMutation = `mutation transitionOrderToState($state: String!) {
  transitionOrderToState(state: $state) {
    ...ActiveOrder
    ... on OrderStateTransitionError { errorCode message transitionError fromState toState }
  }
}` + "\n" + orderFields
	setCustomerMutation = `mutation setCustomerForOrder($input: CreateCustomerInput!) {
  setCustomerForOrder(input: $input) { ...ActiveOrder ... on ErrorResult { errorCode message } }
}` + "\n" + orderFields
	addPaymentMutation = `mutation addPaymentToOrder($input: PaymentInput!) {
  addPaymentToOrder(input: $input) { ...ActiveOrder ... on ErrorResult { errorCode message } }
}` + "\n" + orderFields
	orderByCodeQuery = `query orderByCode($code: String!) { orderByCode(code: $code) { ...ActiveOrder } }` + "\n" + orderFields
	orderByIDQuery   = `query order($id: ID!) { order(id: $id) { ...ActiveOrder } }` + "\n" + orderFields
)

// orderJSON is an Order or an ErrorResult as the documents above read them.
type orderJSON struct {
	Typename      string `json:"__typename"`
	ID            string `json:"id"`
	Code          string `json:"code"`
	State         string `json:"state"`
	Active        bool   `json:"active"`
	TotalQuantity int    `json:"totalQuantity"`
	SubTotal      int64  `json:"subTotal"`
	SubTotalTax   int64  `json:"subTotalWithTax"`
	Total         int64  `json:"total"`
	TotalWithTax  int64  `json:"totalWithTax"`
	CurrencyCode  string `json:"currencyCode"`
	Customer      *struct {
		ID           string `json:"id"`
		EmailAddress string `json:"emailAddress"`
	} `json:"customer"`
	Lines []struct {
		ID             string `json:"id"`
		Quantity       int    `json:"quantity"`
		UnitPrice      int64  `json:"unitPrice"`
		LinePrice      int64  `json:"linePrice"`
		LinePriceTax   int64  `json:"linePriceWithTax"`
		ProductVariant struct {
			ID  string `json:"id"`
			SKU string `json:"sku"`
		} `json:"productVariant"`
	} `json:"lines"`
	ErrorCode       string `json:"errorCode"`
	Message         string `json:"message"`
	MaxItems        int    `json:"maxItems"`
	TransitionError string `json:"transitionError"`
}

// variantIDs lists the SKUs of an order's lines, in order, with quantities.
func (o *orderJSON) variants() []string {
	var out []string
	for _, l := range o.Lines {
		out = append(out, fmt.Sprintf("%s×%d", l.ProductVariant.SKU, l.Quantity))
	}
	return out
}

// field decodes the one root field of a response.
func orderField(t *testing.T, r *testenv.Response, name string) *orderJSON {
	t.Helper()
	require.Empty(t, r.Errors, "%s", r.Data)
	var m map[string]*orderJSON
	r.Decode(t, &m)
	return m[name]
}

// seedVariants inserts variants SKU-1…SKU-n priced 100, 200, … in USD (the
// default channel's currency) and returns their ids.
func seedVariants(t *testing.T, e *env, n int) []string {
	t.Helper()
	ids := make([]string, n)
	now := time.Now().UTC()
	for i := range n {
		v := &entity.ProductVariant{
			CreatedAt: now, UpdatedAt: now, SKU: fmt.Sprintf("SKU-%d", i+1), Name: fmt.Sprintf("Variant %d", i+1),
			Price: int64(100 * (i + 1)), CurrencyCode: e.app.Channels.Default().DefaultCurrencyCode,
		}
		_, err := e.db.NewInsert().Model(v).Exec(context.Background())
		require.NoError(t, err)
		ids[i] = v.ID.String()
	}
	return ids
}

func newCustomer(t *testing.T, e *env, email string) {
	t.Helper()
	_, err := e.app.Users.CreateCustomer(context.Background(), access.NewCustomer{
		EmailAddress: email, Password: "test", FirstName: "F", LastName: "L",
		Verified: true, ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
	})
	require.NoError(t, err)
}

func shopLogin(t *testing.T, c *testenv.Client, email string) loginResult {
	t.Helper()
	r := c.Do(loginMutation, creds(email, "test"))
	require.Empty(t, r.Errors)
	l := decodeLogin(t, r)
	require.Equal(t, "CurrentUser", l.Login.Typename, "%+v", l.Login)
	return l
}

// Vendure §9.5 1–3: a fresh client gets a guest session from activeOrder
// (null); adding items creates the order on that session, the same token
// keeps it, and paying ends it.
func TestGuestCart(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 2)
		for _, mode := range []testenv.TokenMode{testenv.Bearer, testenv.Cookie} {
			shop := e.shop(mode)
			r := shop.Do(activeOrderQuery, nil)
			require.Nil(t, orderField(t, r, "activeOrder"))
			if mode == testenv.Bearer {
				require.NotEmpty(t, shop.Token, "a guest session is created")
			} else {
				require.NotNil(t, shop.Cookie)
			}

			o := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
			require.Equal(t, "Order", o.Typename)
			o2 := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 2}), "addItemToOrder")
			require.Equal(t, o.ID, o2.ID, "same session, same order")
			require.Equal(t, []string{"SKU-1×3"}, o2.variants())
			o2 = orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[1], "quantity": 1}), "addItemToOrder")
			require.Equal(t, 4, o2.TotalQuantity)
			require.Equal(t, int64(500), o2.SubTotal)
			require.Equal(t, []int64{500, 500, 500}, []int64{o2.SubTotalTax, o2.Total, o2.TotalWithTax})
			require.Equal(t, "USD", o2.CurrencyCode)
			require.Equal(t, "AddingItems", o2.State)
			require.True(t, o2.Active)

			got := orderField(t, shop.Do(activeOrderQuery, nil), "activeOrder")
			require.Equal(t, o.ID, got.ID)

			// Errors as Vendure.
			neg := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": -1}), "addItemToOrder")
			require.Equal(t, "NEGATIVE_QUANTITY_ERROR", neg.ErrorCode)
			require.Equal(t, "The quantity for an OrderItem cannot be negative", neg.Message)
			lim := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 999}), "addItemToOrder")
			require.Equal(t, "ORDER_LIMIT_ERROR", lim.ErrorCode)
			require.Equal(t, 999, lim.MaxItems)
			require.Equal(t, "Cannot add items. An order may consist of a maximum of 999 items", lim.Message)
			r = shop.Do(addItemMutation, map[string]any{"productVariantId": "999999", "quantity": 1})
			require.Equal(t, "ENTITY_NOT_FOUND", r.ErrorCode())
			require.Equal(t, `No ProductVariant with the id "999999" could be found`, r.Errors[0].Message)

			// Lines: adjust, remove.
			line := got.Lines[1].ID
			adj := orderField(t, shop.Do(adjustLineMutation, map[string]any{"orderLineId": line, "quantity": 5}), "adjustOrderLine")
			require.Equal(t, []string{"SKU-1×3", "SKU-2×5"}, adj.variants())
			rm := orderField(t, shop.Do(removeLineMutation, map[string]any{"orderLineId": line}), "removeOrderLine")
			require.Equal(t, []string{"SKU-1×3"}, rm.variants())
			r = shop.Do(removeLineMutation, map[string]any{"orderLineId": "999999"})
			require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode())

			// Checkout: ArrangingPayment needs a customer.
			tr := orderField(t, shop.Do(transitionMutation, map[string]any{"state": "ArrangingPayment"}), "transitionOrderToState")
			require.Equal(t, "ORDER_STATE_TRANSITION_ERROR", tr.ErrorCode)
			require.Equal(t, `Cannot transition Order from "AddingItems" to "ArrangingPayment"`, tr.Message)
			require.Equal(t, `Cannot transition Order to the "ArrangingPayment" state without Customer details`, tr.TransitionError)
			email := fmt.Sprintf("guest-%d@example.com", mode)
			sc := orderField(t, shop.Do(setCustomerMutation, map[string]any{"input": map[string]any{
				"firstName": "G", "lastName": "Uest", "emailAddress": email,
			}}), "setCustomerForOrder")
			require.Equal(t, email, sc.Customer.EmailAddress)
			pay := orderField(t, shop.Do(addPaymentMutation, map[string]any{"input": map[string]any{"method": "standard-payment", "metadata": map[string]any{}}}), "addPaymentToOrder")
			require.Equal(t, "ORDER_PAYMENT_STATE_ERROR", pay.ErrorCode)
			tr = orderField(t, shop.Do(transitionMutation, map[string]any{"state": "ArrangingPayment"}), "transitionOrderToState")
			require.Equal(t, "ArrangingPayment", tr.State)
			mod := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
			require.Equal(t, "ORDER_MODIFICATION_ERROR", mod.ErrorCode)
			require.Equal(t, `Order contents may only be modified when in the "AddingItems" state`, mod.Message)
			pay = orderField(t, shop.Do(addPaymentMutation, map[string]any{"input": map[string]any{"method": "nope", "metadata": map[string]any{}}}), "addPaymentToOrder")
			require.Equal(t, "INELIGIBLE_PAYMENT_METHOD_ERROR", pay.ErrorCode)
			pay = orderField(t, shop.Do(addPaymentMutation, map[string]any{"input": map[string]any{"method": "standard-payment", "metadata": map[string]any{}}}), "addPaymentToOrder")
			require.Equal(t, "PaymentSettled", pay.State)
			require.False(t, pay.Active)

			// §9.5 3: paid, so no active order; the guest can read it by code.
			require.Nil(t, orderField(t, shop.Do(activeOrderQuery, nil), "activeOrder"))
			byCode := orderField(t, shop.Do(orderByCodeQuery, map[string]any{"code": o.Code}), "orderByCode")
			require.Equal(t, o.ID, byCode.ID)
			other := e.shop(testenv.Bearer)
			e.clock.Advance(3 * time.Hour)
			r = other.Do(orderByCodeQuery, map[string]any{"code": o.Code})
			require.Equal(t, "FORBIDDEN", r.ErrorCode(), "a guest order is readable by code for 2 hours")
			pay = orderField(t, shop.Do(addPaymentMutation, map[string]any{"input": map[string]any{"method": "standard-payment", "metadata": map[string]any{}}}), "addPaymentToOrder")
			require.Equal(t, "NO_ACTIVE_ORDER_ERROR", pay.ErrorCode)
		}
	})
}

// Vendure §9.5 4, 5: a logged-in customer's cart survives logout and login;
// setCustomerForOrder is refused while logged in; order(id) is the owner's.
func TestCustomerCartResumes(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 1)
		newCustomer(t, e, "kim@example.com")
		shop := e.shop(testenv.Bearer)
		shopLogin(t, shop, "kim@example.com")
		o := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 2}), "addItemToOrder")
		require.Equal(t, "kim@example.com", o.Customer.EmailAddress)
		sc := orderField(t, shop.Do(setCustomerMutation, map[string]any{"input": map[string]any{
			"firstName": "K", "lastName": "M", "emailAddress": "kim@example.com",
		}}), "setCustomerForOrder")
		require.Equal(t, "ALREADY_LOGGED_IN_ERROR", sc.ErrorCode)
		require.Equal(t, "Cannot set a Customer for the Order when already logged in", sc.Message)
		require.Equal(t, o.ID, orderField(t, shop.Do(orderByIDQuery, map[string]any{"id": o.ID}), "order").ID)

		shop.Do(`mutation { logout { success } }`, nil)
		require.Nil(t, orderField(t, shop.Do(activeOrderQuery, nil), "activeOrder"))
		require.Nil(t, orderField(t, shop.Do(orderByIDQuery, map[string]any{"id": o.ID}), "order"), "only the owner's")
		shopLogin(t, shop, "kim@example.com")
		got := orderField(t, shop.Do(activeOrderQuery, nil), "activeOrder")
		require.Equal(t, o.ID, got.ID, "logging back in resumes the last active order")
		require.Equal(t, []string{"SKU-1×2"}, got.variants())
	})
}

// 50 concurrent addItemToOrder with one guest token make one order holding
// all 50 items: the first write locks the session, the others wait and
// find its order; none loses an update.
func TestConcurrentAddItemToOrder(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		v := seedVariants(t, e, 2)
		shop := e.shop(testenv.Bearer)
		require.Nil(t, orderField(t, shop.Do(activeOrderQuery, nil), "activeOrder"))
		token := shop.Token
		require.NotEmpty(t, token)

		const n = 50
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				c := e.shop(testenv.Bearer)
				c.Token = token
				o := orderField(t, c.Do(addItemMutation, map[string]any{"productVariantId": v[i%2], "quantity": 1}), "addItemToOrder")
				ids[i] = o.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			require.Equal(t, ids[0], id, "one order")
		}
		got := orderField(t, shop.Do(activeOrderQuery, nil), "activeOrder")
		require.Equal(t, ids[0], got.ID)
		require.Equal(t, n, got.TotalQuantity)
		require.ElementsMatch(t, []string{"SKU-1×25", "SKU-2×25"}, got.variants(), "the line order is the order of the first adds")
		count, err := e.db.NewSelect().Model((*entity.Order)(nil)).Count(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 1, count)
	})
}
