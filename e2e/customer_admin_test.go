package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/audit"
)

// Vendure's customer.e2e-spec documents, for the fields served.
const (
	customerFields = `fragment Customer on Customer {
  id title firstName lastName phoneNumber emailAddress
  user { id identifier verified lastLogin roles { code } }
}`
	specGetCustomerList = `query GetCustomerList($options: CustomerListOptions) {
  customers(options: $options) { items { id title firstName lastName emailAddress phoneNumber user { id verified } } totalItems }
}`
	specGetCustomer = `query GetCustomer($id: ID!, $orderListOptions: OrderListOptions) {
  customer(id: $id) {
    ...Customer
    orders(options: $orderListOptions) { items { id code state total currencyCode lines { quantity } } totalItems }
  }
}` + "\n" + customerFields
	specCreateCustomer = `mutation CreateCustomer($input: CreateCustomerInput!, $password: String) {
  createCustomer(input: $input, password: $password) {
    __typename
    ...Customer
    ... on ErrorResult { errorCode message }
  }
}` + "\n" + customerFields
	specUpdateCustomer = `mutation UpdateCustomer($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    __typename
    ...Customer
    ... on ErrorResult { errorCode message }
  }
}` + "\n" + customerFields
	specDeleteCustomer  = `mutation DeleteCustomer($id: ID!) { deleteCustomer(id: $id) { result message } }`
	specDeleteCustomers = `mutation DeleteCustomers($ids: [ID!]!) { deleteCustomers(ids: $ids) { result message } }`
	specEraseCustomer   = `mutation EraseCustomer($id: ID!) { eraseCustomer(id: $id) { result message } }`
)

// customerView is the Customer fragment.
type customerView struct {
	Typename     string  `json:"__typename"`
	ID           string  `json:"id"`
	Title        *string `json:"title"`
	FirstName    string  `json:"firstName"`
	LastName     string  `json:"lastName"`
	PhoneNumber  *string `json:"phoneNumber"`
	EmailAddress string  `json:"emailAddress"`
	ErrorCode    string  `json:"errorCode"`
	Message      string  `json:"message"`
	User         *struct {
		ID         string  `json:"id"`
		Identifier string  `json:"identifier"`
		Verified   bool    `json:"verified"`
		LastLogin  *string `json:"lastLogin"`
		Roles      []struct {
			Code string `json:"code"`
		} `json:"roles"`
	} `json:"user"`
	Orders *struct {
		Items []struct {
			ID           string `json:"id"`
			Code         string `json:"code"`
			State        string `json:"state"`
			Total        int64  `json:"total"`
			CurrencyCode string `json:"currencyCode"`
			Lines        []struct {
				Quantity int `json:"quantity"`
			} `json:"lines"`
		} `json:"items"`
		TotalItems int `json:"totalItems"`
	} `json:"orders"`
}

// customerList is the customers list.
type customerList struct {
	Items []struct {
		ID           string `json:"id"`
		FirstName    string `json:"firstName"`
		LastName     string `json:"lastName"`
		EmailAddress string `json:"emailAddress"`
		User         *struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"items"`
	TotalItems int `json:"totalItems"`
}

func (l customerList) emails() []string {
	out := []string{}
	for _, c := range l.Items {
		out = append(out, c.EmailAddress)
	}
	return out
}

// createCustomer creates a customer through the Admin API (password ""
// for none) and returns it.
func createCustomer(t *testing.T, c *testenv.Client, first, last, email, password string) customerView {
	t.Helper()
	vars := map[string]any{"input": map[string]any{"firstName": first, "lastName": last, "emailAddress": email}}
	if password != "" {
		vars["password"] = password
	}
	got := dataField[customerView](t, c.Do(specCreateCustomer, vars), "createCustomer")
	require.Equal(t, "Customer", got.Typename, "%s: %s", got.ErrorCode, got.Message)
	return got
}

func listCustomers(t *testing.T, c *testenv.Client, options map[string]any) customerList {
	t.Helper()
	return dataField[customerList](t, c.Do(specGetCustomerList, map[string]any{"options": options}), "customers")
}

// Vendure's customer.e2e-spec for the customer administration served
// here: the list with filter, sort and paging, a customer with its user
// and orders, createCustomer with and without a password, the e-mail
// conflicts, updateCustomer and deleteCustomer(s). Addresses, customer
// groups, history and notes are not served.
func TestVendureCustomerSpec(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.asSuperAdmin(t)
		variant := seedVariants(t, e, 1)[0]

		first := createCustomer(t, admin, "Hayden", "Zieme", "hayden.zieme12@hotmail.com", "test")
		second := createCustomer(t, admin, "Trevor", "Donnelly", "trevor_donnelly96@hotmail.com", "test")
		third := createCustomer(t, admin, "Marques", "Sawayn", "marques.sawayn@hotmail.com", "test")
		// A guest customer, from a guest checkout.
		guest := e.shop(testenv.Bearer)
		orderField(t, guest.Do(addItemMutation, map[string]any{"productVariantId": variant, "quantity": 1}), "addItemToOrder")
		orderField(t, guest.Do(setCustomerMutation, map[string]any{"input": map[string]any{
			"firstName": "Guest", "lastName": "Shopper", "emailAddress": "guest@example.com",
		}}), "setCustomerForOrder")

		// customers list, guests included
		all := listCustomers(t, admin, nil)
		require.Equal(t, 4, all.TotalItems)
		require.Equal(t, []string{first.EmailAddress, second.EmailAddress, third.EmailAddress, "guest@example.com"}, all.emails())
		require.Nil(t, all.Items[3].User, "a guest customer has no user")
		// filter, sort and paging
		l := listCustomers(t, admin, map[string]any{"filter": map[string]any{"emailAddress": map[string]any{"contains": "HOTMAIL"}},
			"sort": map[string]any{"lastName": "DESC"}, "take": 2})
		require.Equal(t, 3, l.TotalItems)
		require.Equal(t, []string{first.EmailAddress, third.EmailAddress}, l.emails())
		l = listCustomers(t, admin, map[string]any{"sort": map[string]any{"lastName": "DESC"}, "skip": 2, "take": 2,
			"filter": map[string]any{"emailAddress": map[string]any{"contains": "hotmail"}}})
		require.Equal(t, []string{second.EmailAddress}, l.emails())
		l = listCustomers(t, admin, map[string]any{"filterOperator": "OR", "filter": map[string]any{
			"firstName": map[string]any{"eq": "Trevor"}, "lastName": map[string]any{"eq": "Shopper"}}})
		require.Equal(t, []string{second.EmailAddress, "guest@example.com"}, l.emails())
		requireGraphQLError(t, admin.Do(specGetCustomerList, map[string]any{"options": map[string]any{"take": 101}}),
			"USER_INPUT_ERROR", "options.take must be between 0 and 100 (the maximum number of items that may be returned by a query), got 101: Cannot take more than 100 results from a list query")

		// customer with its user: lastLogin is set by a login, and its
		// orders are listed
		r := admin.Do(specGetCustomer, map[string]any{"id": first.ID})
		got := dataField[customerView](t, r, "customer")
		require.Equal(t, "hayden.zieme12@hotmail.com", got.User.Identifier)
		require.True(t, got.User.Verified)
		require.Nil(t, got.User.LastLogin)
		require.Equal(t, entity.CustomerRoleCode, got.User.Roles[0].Code)
		require.Zero(t, got.Orders.TotalItems)
		shop := e.shop(testenv.Bearer)
		shopLogin(t, shop, first.EmailAddress) // createCustomer with a password: logs in at once
		cart := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": variant, "quantity": 2}), "addItemToOrder")
		got = dataField[customerView](t, admin.Do(specGetCustomer, map[string]any{"id": first.ID}), "customer")
		require.NotNil(t, got.User.LastLogin)
		require.Equal(t, 1, got.Orders.TotalItems)
		require.Equal(t, cart.Code, got.Orders.Items[0].Code)
		require.Equal(t, int64(200), got.Orders.Items[0].Total)
		require.Equal(t, 2, got.Orders.Items[0].Lines[0].Quantity)
		got = dataField[customerView](t, admin.Do(specGetCustomer, map[string]any{"id": first.ID,
			"orderListOptions": map[string]any{"filter": map[string]any{"active": map[string]any{"eq": false}}}}), "customer")
		require.Zero(t, got.Orders.TotalItems)
		requireData(t, admin.Do(specGetCustomer, map[string]any{"id": "999999"}), `{"customer":null}`)
		// orders of the orders' customer would cost a query per order
		r = admin.Do(`query($id: ID!) { customer(id: $id) { orders { items { customer { orders { totalItems } } } } } }`, map[string]any{"id": first.ID})
		require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode())
		require.Equal(t, "Customer.orders cannot be selected inside Customer.orders", r.Errors[0].Message)

		// createCustomer without a password: an unverified user with a
		// verification token, which verifies it with a password of its
		// choosing
		noPw := createCustomer(t, admin, "No", "Password", "nopassword@example.com", "")
		require.False(t, noPw.User.Verified)
		token := e.tokens.last(t, entity.TokenVerification, "nopassword@example.com")
		require.Equal(t, "CurrentUser", do(t, e.shop(testenv.Bearer), verifyMutation, map[string]any{"token": token, "password": "chosen"}).Typename)

		// EmailAddressConflictError, whatever the case
		r = admin.Do(specCreateCustomer, map[string]any{"input": map[string]any{
			"firstName": "x", "lastName": "x", "emailAddress": "Trevor_Donnelly96@hotmail.com"}, "password": "test"})
		requireData(t, r, `{"createCustomer":{"__typename":"EmailAddressConflictError","errorCode":"EMAIL_ADDRESS_CONFLICT_ERROR","message":"The email address is not available."}}`)
		// (a guest customer on the request's channel has it too, as in Vendure)
		r = admin.Do(specCreateCustomer, map[string]any{"input": map[string]any{"firstName": "x", "lastName": "x", "emailAddress": "guest@example.com"}})
		require.Contains(t, string(r.Data), "EMAIL_ADDRESS_CONFLICT_ERROR")
		r = admin.Do(specUpdateCustomer, map[string]any{"input": map[string]any{"id": first.ID, "emailAddress": "trevor_donnelly96@hotmail.com"}})
		requireData(t, r, `{"updateCustomer":{"__typename":"EmailAddressConflictError","errorCode":"EMAIL_ADDRESS_CONFLICT_ERROR","message":"The email address is not available."}}`)

		// updateCustomer: the new address is the user's login from now on
		r = admin.Do(specUpdateCustomer, map[string]any{"input": map[string]any{
			"id": second.ID, "firstName": "Trev", "phoneNumber": "+1 555 0100", "emailAddress": "Trev@Example.com"}})
		updated := dataField[customerView](t, r, "updateCustomer")
		require.Equal(t, "Trev", updated.FirstName)
		require.Equal(t, "Donnelly", updated.LastName)
		require.Equal(t, "+1 555 0100", *updated.PhoneNumber)
		require.Equal(t, "trev@example.com", updated.EmailAddress)
		require.Equal(t, "trev@example.com", updated.User.Identifier)
		require.Equal(t, "InvalidCredentialsError", decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds(second.EmailAddress, "test"))).Login.Typename)
		shopLogin(t, e.shop(testenv.Bearer), "trev@example.com")
		r = admin.Do(specUpdateCustomer, map[string]any{"input": map[string]any{"id": second.ID, "phoneNumber": "not a phone"}})
		require.Equal(t, "USER_INPUT_ERROR", r.ErrorCode())
		requireGraphQLError(t, admin.Do(specUpdateCustomer, map[string]any{"input": map[string]any{"id": "999999", "firstName": "x"}}),
			"ENTITY_NOT_FOUND", `No Customer with the id "999999" could be found`)

		// deleteCustomer: the customer is not found, its token fails on the
		// next request and it cannot log in
		require.Equal(t, first.EmailAddress, decodeMe(t, shop.Do(meQuery, nil)).Me.Identifier)
		requireData(t, admin.Do(specDeleteCustomer, map[string]any{"id": first.ID}), `{"deleteCustomer":{"result":"DELETED","message":null}}`)
		requireData(t, admin.Do(specGetCustomer, map[string]any{"id": first.ID}), `{"customer":null}`)
		require.Equal(t, "FORBIDDEN", shop.Do(meQuery, nil).ErrorCode())
		require.Equal(t, "InvalidCredentialsError", decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds(first.EmailAddress, "test"))).Login.Typename)
		requireGraphQLError(t, admin.Do(specDeleteCustomer, map[string]any{"id": first.ID}), "ENTITY_NOT_FOUND",
			fmt.Sprintf(`No Customer with the id %q could be found`, first.ID))
		// the address is free again
		createCustomer(t, admin, "Hayden", "Again", first.EmailAddress, "test")

		// deleteCustomers: all or none
		requireGraphQLError(t, admin.Do(specDeleteCustomers, map[string]any{"ids": []string{third.ID, "999999"}}), "ENTITY_NOT_FOUND",
			`No Customer with the id "999999" could be found`)
		requireData(t, admin.Do(specDeleteCustomers, map[string]any{"ids": []string{third.ID, noPw.ID}}),
			`{"deleteCustomers":[{"result":"DELETED","message":null},{"result":"DELETED","message":null}]}`)
		require.Equal(t, 3, listCustomers(t, admin, nil).TotalItems)
		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprint(i + 1)
		}
		require.Equal(t, "USER_INPUT_ERROR", admin.Do(specDeleteCustomers, map[string]any{"ids": many}).ErrorCode())

		// every change is in the audit log, without the values
		var entries []audit.Row
		require.NoError(t, e.db.NewSelect().Model(&entries).Where("entity_type = ?", audit.Customer).Order("id").Scan(context.Background()))
		var actions []string
		for _, en := range entries {
			actions = append(actions, string(en.Action))
			require.NotContains(t, strings.ToLower(en.Detail), "trev", "no value in the detail")
			require.Equal(t, "superadmin", en.ActorIdentifier)
		}
		require.Equal(t, []string{"CREATED", "CREATED", "CREATED", "CREATED", "UPDATED", "DELETED", "CREATED", "DELETED", "DELETED"}, actions)
		require.Equal(t, "fields: firstName, phoneNumber, emailAddress", entries[4].Detail)
	})
}

// An administrator of channel B reaches only B's customers: a customer
// of the default channel is neither listed, nor found, nor changed,
// deleted or erased through B, and a call that names it with one of B's
// changes nothing.
func TestCustomerChannelScopingAttack(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		super := e.asSuperAdmin(t)
		zone := e.app.Channels.Default().DefaultTaxZoneID.String()
		r := super.Do(specCreateChannel, map[string]any{"input": map[string]any{
			"code": "channel-b", "token": "channel-b-token", "defaultLanguageCode": "en", "currencyCode": "GBP",
			"pricesIncludeTax": true, "defaultShippingZoneId": zone, "defaultTaxZoneId": zone,
		}})
		channelB := dataField[idOf](t, r, "createChannel").ID
		r = super.Do(specCreateRole, roleInput(map[string]any{"code": "b-customer-manager", "description": "",
			"channelIds": []string{channelB}, "permissions": []string{"ReadCustomer", "CreateCustomer", "UpdateCustomer", "DeleteCustomer"}}))
		e.newAdministrator(t, "b-admin@example.com", mustID(t, dataField[roleView](t, r, "createRole").ID))
		attacker := e.admin(testenv.Bearer)
		asUserWithCredentials(t, attacker, "b-admin@example.com", "test")
		require.Equal(t, "channel-b-token", attacker.Channel)

		victim := createCustomer(t, super, "Vic", "Tim", "victim@example.com", "test")
		own := createCustomer(t, attacker, "Own", "Customer", "own@example.com", "test")

		// the default channel sees both; B sees its own only
		require.Equal(t, []string{"victim@example.com", "own@example.com"}, listCustomers(t, super, nil).emails())
		require.Equal(t, []string{"own@example.com"}, listCustomers(t, attacker, nil).emails())
		// an OR filter does not reach past the scope
		require.Equal(t, []string{"own@example.com"}, listCustomers(t, attacker, map[string]any{"filterOperator": "OR", "filter": map[string]any{
			"id": map[string]any{"eq": victim.ID}, "firstName": map[string]any{"eq": "Own"}}}).emails())
		require.Zero(t, listCustomers(t, attacker, map[string]any{"filter": map[string]any{"id": map[string]any{"eq": victim.ID}}}).TotalItems)
		requireData(t, attacker.Do(specGetCustomer, map[string]any{"id": victim.ID}), `{"customer":null}`)
		require.Equal(t, own.ID, dataField[customerView](t, attacker.Do(specGetCustomer, map[string]any{"id": own.ID}), "customer").ID)

		notFound := fmt.Sprintf(`No Customer with the id %q could be found`, victim.ID)
		requireGraphQLError(t, attacker.Do(specUpdateCustomer, map[string]any{"input": map[string]any{"id": victim.ID, "emailAddress": "mine@example.com"}}),
			"ENTITY_NOT_FOUND", notFound)
		requireGraphQLError(t, attacker.Do(specDeleteCustomer, map[string]any{"id": victim.ID}), "ENTITY_NOT_FOUND", notFound)
		requireGraphQLError(t, attacker.Do(specEraseCustomer, map[string]any{"id": victim.ID}), "ENTITY_NOT_FOUND", notFound)
		requireGraphQLError(t, attacker.Do(specDeleteCustomers, map[string]any{"ids": []string{own.ID, victim.ID}}), "ENTITY_NOT_FOUND", notFound)
		require.Equal(t, []string{"own@example.com"}, listCustomers(t, attacker, nil).emails(), "the all-or-none delete deleted none")

		// nor through the default channel's token, where it holds nothing
		attacker.Channel = "e2e-default-channel"
		require.Equal(t, "FORBIDDEN", attacker.Do(specGetCustomerList, nil).ErrorCode())
		require.Equal(t, "FORBIDDEN", attacker.Do(specDeleteCustomer, map[string]any{"id": victim.ID}).ErrorCode())

		got := dataField[customerView](t, super.Do(specGetCustomer, map[string]any{"id": victim.ID}), "customer")
		require.Equal(t, "victim@example.com", got.EmailAddress)
		shopLogin(t, e.shop(testenv.Bearer), "victim@example.com")
		attacker.Channel = "channel-b-token"

		// the roles of B's own customer show no role that spans channels
		// the attacker has no part in (the Customer role is on every one)
		got = dataField[customerView](t, attacker.Do(specGetCustomer, map[string]any{"id": own.ID}), "customer")
		require.Empty(t, got.User.Roles)

		// creating a customer with the address of a default-channel guest
		// does not pull that guest (its names, its orders) into B
		guest := e.shop(testenv.Bearer)
		orderField(t, guest.Do(addItemMutation, map[string]any{"productVariantId": seedVariants(t, e, 1)[0], "quantity": 1}), "addItemToOrder")
		orderField(t, guest.Do(setCustomerMutation, map[string]any{"input": map[string]any{
			"firstName": "Guest", "lastName": "OnDefault", "phoneNumber": "+1 555 0199", "emailAddress": "guest-a@example.com",
		}}), "setCustomerForOrder")
		pulled := createCustomer(t, attacker, "Pull", "Er", "guest-a@example.com", "")
		got = dataField[customerView](t, attacker.Do(specGetCustomer, map[string]any{"id": pulled.ID}), "customer")
		require.Equal(t, "Pull", got.FirstName)
		require.Nil(t, got.PhoneNumber)
		require.Zero(t, got.Orders.TotalItems)
		l := listCustomers(t, super, map[string]any{"filter": map[string]any{"lastName": map[string]any{"eq": "OnDefault"}}})
		require.Equal(t, 1, l.TotalItems, "the guest stays a customer of its own")
		require.NotEqual(t, pulled.ID, l.Items[0].ID)
	})
}

// A new e-mail address reaches the customer's sessions on every instance
// on their next request: the change evicts them from the shared cache
// when it commits, so the other instance reads the new identifier from
// the database instead of answering the old one from its cache.
func TestCustomerEmailChangeReachesEveryInstance(t *testing.T) {
	t.Parallel()
	db := sharedDB(t)
	client, _ := testenv.Redis(t)
	prefix := testenv.RandomPrefix()
	a := newInstance(t, db, client, prefix)
	b := newInstance(t, db, client, prefix)

	super := a.admin(t, "")
	asUserWithCredentials(t, super, "superadmin", "superadmin")
	c := createCustomer(t, super, "Ann", "Other", "ann@example.com", "test")

	onB := testenv.NewClient(t, strings.TrimSuffix(b.url, app.AdminPath)+app.ShopPath, testenv.Bearer)
	shopLogin(t, onB, "ann@example.com")
	require.Equal(t, "ann@example.com", decodeMe(t, onB.Do(meQuery, nil)).Me.Identifier)
	require.Equal(t, "ann@example.com", decodeMe(t, onB.Do(meQuery, nil)).Me.Identifier, "now from the cache")

	r := super.Do(specUpdateCustomer, map[string]any{"input": map[string]any{"id": c.ID, "emailAddress": "ann.new@example.com"}})
	require.Equal(t, "ann.new@example.com", dataField[customerView](t, r, "updateCustomer").User.Identifier)
	require.Equal(t, "ann.new@example.com", decodeMe(t, onB.Do(meQuery, nil)).Me.Identifier, "B's next request")
}

// eraseNeedles are the personal data an erasure must leave nowhere.
var eraseNeedles = []string{"Zebulon", "Quillfeather", "erase.me@example.com", "7700 900123", "Dr. Who"}

// Erasure: after eraseCustomer no column of any table holds the
// customer's e-mail address, names or phone number (every column of
// every table is scanned), its sessions end, it cannot log in, and the
// audit log records the erasure without personal data.
func TestEraseCustomer(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.asSuperAdmin(t)
		variant := seedVariants(t, e, 1)[0]
		r := admin.Do(specCreateCustomer, map[string]any{"input": map[string]any{
			"title": "Dr. Who", "firstName": "Zebulon", "lastName": "Quillfeather", "phoneNumber": "+44 7700 900123",
			"emailAddress": "Erase.Me@Example.com"}, "password": "test"})
		c := dataField[customerView](t, r, "createCustomer")
		r = admin.Do(specUpdateCustomer, map[string]any{"input": map[string]any{"id": c.ID, "lastName": "Quillfeather"}})
		require.Empty(t, r.Errors)
		shop := e.shop(testenv.Bearer)
		shopLogin(t, shop, "erase.me@example.com")
		orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": variant, "quantity": 1}), "addItemToOrder")
		require.True(t, do(t, e.shop(testenv.Bearer), requestResetMutation, map[string]any{"emailAddress": "erase.me@example.com"}).Success)
		require.NotEmpty(t, tablesHolding(t, e.db, "erase.me@example.com"), "the scan finds the address before")

		requireData(t, admin.Do(specEraseCustomer, map[string]any{"id": c.ID}), `{"eraseCustomer":{"result":"DELETED","message":null}}`)

		for _, needle := range eraseNeedles {
			require.Empty(t, tablesHolding(t, e.db, needle), "%q is left", needle)
		}
		require.Equal(t, "FORBIDDEN", shop.Do(meQuery, nil).ErrorCode())
		require.Equal(t, "InvalidCredentialsError", decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds("erase.me@example.com", "test"))).Login.Typename)
		requireData(t, admin.Do(specGetCustomer, map[string]any{"id": c.ID}), `{"customer":null}`)
		var entry audit.Row
		require.NoError(t, e.db.NewSelect().Model(&entry).Where("action = ?", audit.Erased).Scan(context.Background()))
		require.Equal(t, c.ID, entry.EntityID.String())
		require.Equal(t, "personal data of 1 customers erased", entry.Detail)
		// the order stays, and a customer deleted before can be erased too
		orders, err := e.db.NewSelect().Model((*entity.Order)(nil)).Count(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 1, orders)
		other := createCustomer(t, admin, "Deleted", "Before", "deleted.before@example.com", "test")
		requireData(t, admin.Do(specDeleteCustomer, map[string]any{"id": other.ID}), `{"deleteCustomer":{"result":"DELETED","message":null}}`)
		requireData(t, admin.Do(specEraseCustomer, map[string]any{"id": other.ID}), `{"eraseCustomer":{"result":"DELETED","message":null}}`)
		require.Empty(t, tablesHolding(t, e.db, "deleted.before@example.com"))
	})
}

// tablesHolding returns "table.column" for every column of every table of
// the database whose text holds needle (case-insensitively).
func tablesHolding(t *testing.T, db *bun.DB, needle string) []string {
	t.Helper()
	ctx := context.Background()
	type col struct {
		Table  string `bun:"table_name"`
		Column string `bun:"column_name"`
	}
	var cols []col
	if db.Dialect().Name() == dialect.PG {
		require.NoError(t, db.NewRaw(`SELECT table_name, column_name FROM information_schema.columns
WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`).Scan(ctx, &cols))
	} else {
		require.NoError(t, db.NewRaw(`SELECT m.name AS table_name, p.name AS column_name
FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p
WHERE m.type = 'table' ORDER BY m.name, p.cid`).Scan(ctx, &cols))
	}
	require.NotEmpty(t, cols)
	var out []string
	for _, c := range cols {
		var n int
		require.NoError(t, db.NewRaw("SELECT count(*) FROM ? WHERE lower(CAST(? AS TEXT)) LIKE ?",
			bun.Ident(c.Table), bun.Ident(c.Column), "%"+strings.ToLower(needle)+"%").Scan(ctx, &n), "%s.%s", c.Table, c.Column)
		if n > 0 {
			out = append(out, c.Table+"."+c.Column)
		}
	}
	return out
}
