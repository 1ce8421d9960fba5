package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/access"
)

// The Admin API's session administration documents.
const (
	sessionsQuery = `query Sessions($options: SessionListOptions) {
  sessions(options: $options) {
    totalItems
    items { id type user { id identifier } createdAt expires activeOrderId activeChannel { id code } authenticationStrategy }
  }
}`
	deleteSessionsByUserMutation  = `mutation ($id: ID!) { deleteSessionsByUser(userId: $id) { count } }`
	deleteSessionsByOrderMutation = `mutation ($id: ID!) { deleteSessionsByActiveOrderId(orderId: $id) { count } }`
	deleteSessionMutation         = `mutation ($id: ID!) { deleteSession(id: $id) { count } }`
	shopMeQuery                   = `{ me { id identifier } }`
)

// requireRefused: a request whose token no longer names a session is
// anonymous, and me is FORBIDDEN to it.
func requireRefused(t *testing.T, c *testenv.Client) {
	t.Helper()
	r := c.Do(shopMeQuery, nil)
	require.Len(t, r.Errors, 1, "%s", r.Data)
	require.Equal(t, "FORBIDDEN", r.ErrorCode())
}

type sessionItem struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	User *struct {
		ID         string `json:"id"`
		Identifier string `json:"identifier"`
	} `json:"user"`
	CreatedAt     time.Time `json:"createdAt"`
	Expires       time.Time `json:"expires"`
	ActiveOrderID *string   `json:"activeOrderId"`
	ActiveChannel *struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	} `json:"activeChannel"`
	AuthenticationStrategy *string `json:"authenticationStrategy"`
}

type sessionPage struct {
	TotalItems int
	Items      []sessionItem
}

// listSessions sends sessionsQuery with options and returns the page; the
// response must have no error.
func listSessions(t *testing.T, c *testenv.Client, options map[string]any) sessionPage {
	t.Helper()
	r := c.Do(sessionsQuery, map[string]any{"options": options})
	require.Empty(t, r.Errors, "%v", options)
	var out struct {
		Sessions struct {
			TotalItems int           `json:"totalItems"`
			Items      []sessionItem `json:"items"`
		} `json:"sessions"`
	}
	r.Decode(t, &out)
	return sessionPage{TotalItems: out.Sessions.TotalItems, Items: out.Sessions.Items}
}

// ids are the ids of a page's items, in order.
func (p sessionPage) ids() []string {
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	return out
}

// endCount sends one of the deletion mutations and returns its count.
func endCount(t *testing.T, c *testenv.Client, doc, field, id string) int {
	t.Helper()
	r := c.Do(doc, map[string]any{"id": id})
	require.Empty(t, r.Errors, "%s(%s)", field, id)
	var out map[string]struct {
		Count int `json:"count"`
	}
	r.Decode(t, &out)
	return out[field].Count
}

// sessionWorld is a server with sessions of every kind:
//
//	superadmin  administrator, logged in on the Admin API (first, at T0)
//	alice       customer, logged in twice on the Shop API (T0+1m, T0+2m)
//	bob         customer, logged in once (T0+3m)
//	guest       a guest with a cart (T0+4m)
//	lazy        a guest holding nothing: no row
type sessionWorld struct {
	e                  *env
	admin              *testenv.Client
	alice1, alice2     *testenv.Client
	bob, guest, lazy   *testenv.Client
	aliceID, bobID     string
	superadminID       string
	cartID             string
	variantID          string
	t0                 time.Time
	defaultChannelID   string
	tokens             []string
	superadminSessions string // the id of the superadmin's session
}

func newSessionWorld(t *testing.T, b backend) *sessionWorld {
	t.Helper()
	e := newEnv(t, b)
	w := &sessionWorld{e: e, t0: e.clock.Now(), defaultChannelID: fmt.Sprint(e.app.Channels.Default().ID)}
	w.admin = e.admin(testenv.Bearer)
	login := decodeLogin(t, w.admin.Do(loginMutation, creds("superadmin", "superadmin"))).Login
	require.Equal(t, "CurrentUser", login.Typename)
	w.superadminID = login.ID
	ctx := context.Background()
	for _, email := range []string{"alice@example.com", "bob@example.com"} {
		_, err := e.app.Users.CreateCustomer(ctx, access.NewCustomer{
			EmailAddress: email, Password: "secret", FirstName: "F", LastName: "L",
			Verified: true, ChannelIDs: []entity.ID{e.app.Channels.Default().ID},
		})
		require.NoError(t, err)
	}
	shopLogin := func(email string) (*testenv.Client, string) {
		e.clock.Advance(time.Minute)
		c := e.shop(testenv.Bearer)
		l := decodeLogin(t, c.Do(loginMutation, creds(email, "secret"))).Login
		require.Equal(t, "CurrentUser", l.Typename)
		return c, l.ID
	}
	w.alice1, w.aliceID = shopLogin("alice@example.com")
	w.alice2, _ = shopLogin("alice@example.com")
	w.bob, w.bobID = shopLogin("bob@example.com")
	e.clock.Advance(time.Minute)
	w.variantID = seedVariants(t, e, 1)[0]
	w.guest = e.shop(testenv.Bearer)
	w.cartID = orderField(t, w.guest.Do(addItemMutation, map[string]any{"productVariantId": w.variantID, "quantity": 1}), "addItemToOrder").ID
	w.lazy = e.shop(testenv.Bearer)
	r := w.lazy.Do(`{ activeOrder { id } }`, nil)
	require.Empty(t, r.Errors)
	require.NotEmpty(t, w.lazy.Token, "the lazy guest has a token")
	for _, c := range []*testenv.Client{w.admin, w.alice1, w.alice2, w.bob, w.guest, w.lazy} {
		require.NotEmpty(t, c.Token)
		w.tokens = append(w.tokens, c.Token)
	}
	require.Len(t, uniq(w.tokens), 6)
	return w
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

// requireNoSecrets fails if a response shows a session token or its hash.
func (w *sessionWorld) requireNoSecrets(t *testing.T, r *testenv.Response) {
	t.Helper()
	errs, err := json.Marshal(r.Errors)
	require.NoError(t, err)
	body := string(r.Data) + string(errs)
	for _, tok := range w.tokens {
		require.NotContains(t, body, tok)
		require.NotContains(t, body, sha256Hex(tok))
	}
}

// The sessions list: every row with its metadata, filtered, sorted and
// paged with Vendure's list options; never a token.
func TestSessionsList(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		w := newSessionWorld(t, b)
		admin := w.admin

		all := listSessions(t, admin, nil)
		require.Equal(t, 5, all.TotalItems, "the lazy guest holds nothing and has no row")
		require.Len(t, all.Items, 5)
		// Newest first: the guest's cart, bob, alice twice, the superadmin.
		guest, bob, superadmin := all.Items[0], all.Items[1], all.Items[4]
		require.Equal(t, "ANONYMOUS", guest.Type)
		require.Nil(t, guest.User)
		require.Nil(t, guest.AuthenticationStrategy)
		require.Equal(t, &w.cartID, guest.ActiveOrderID)
		require.Equal(t, w.t0.Add(4*time.Minute), guest.CreatedAt)
		require.Equal(t, "AUTHENTICATED", bob.Type)
		require.Equal(t, w.bobID, bob.User.ID)
		require.Equal(t, "bob@example.com", bob.User.Identifier)
		require.Equal(t, "native", *bob.AuthenticationStrategy)
		require.Nil(t, bob.ActiveOrderID)
		require.Equal(t, w.superadminID, superadmin.User.ID)
		require.Equal(t, "superadmin", superadmin.User.Identifier)
		require.Equal(t, w.t0, superadmin.CreatedAt)
		require.Equal(t, w.t0.Add(365*24*time.Hour+6*time.Hour), superadmin.Expires, "sessionDuration, a year of 365.25 days")
		for _, it := range all.Items {
			require.NotNil(t, it.ActiveChannel)
			require.Equal(t, w.defaultChannelID, it.ActiveChannel.ID)
			require.Equal(t, entity.DefaultChannelCode, it.ActiveChannel.Code)
		}

		filter := func(f map[string]any) map[string]any { return map[string]any{"filter": f} }
		count := func(options map[string]any) int { return listSessions(t, admin, options).TotalItems }
		require.Equal(t, 2, count(filter(map[string]any{"userId": map[string]any{"eq": w.aliceID}})))
		require.Equal(t, 3, count(filter(map[string]any{"userId": map[string]any{"in": []string{w.aliceID, w.bobID}}})))
		require.Equal(t, 1, count(filter(map[string]any{"userId": map[string]any{"isNull": true}})))
		require.Equal(t, 4, count(filter(map[string]any{"type": map[string]any{"eq": "AUTHENTICATED"}})))
		require.Equal(t, 1, count(filter(map[string]any{"type": map[string]any{"notEq": "AUTHENTICATED"}})))
		require.Equal(t, 5, count(filter(map[string]any{"type": map[string]any{"in": []string{"ANONYMOUS", "AUTHENTICATED"}}})))
		require.Equal(t, 1, count(filter(map[string]any{"activeOrderId": map[string]any{"eq": w.cartID}})))
		require.Equal(t, 4, count(filter(map[string]any{"activeOrderId": map[string]any{"isNull": true}})))
		require.Equal(t, 5, count(filter(map[string]any{"activeChannelId": map[string]any{"eq": w.defaultChannelID}})))
		require.Equal(t, 0, count(filter(map[string]any{"activeChannelId": map[string]any{"notIn": []string{w.defaultChannelID}}})))
		require.Equal(t, 4, count(filter(map[string]any{"authenticationStrategy": map[string]any{"contains": "NAT"}})))
		require.Equal(t, 2, count(filter(map[string]any{"createdAt": map[string]any{"after": w.t0.Add(2 * time.Minute)}})))
		require.Equal(t, 3, count(filter(map[string]any{"createdAt": map[string]any{"between": map[string]any{"start": w.t0.Add(time.Minute), "end": w.t0.Add(3 * time.Minute)}}})))
		require.Equal(t, 1, count(filter(map[string]any{"expires": map[string]any{"eq": superadmin.Expires}})))
		require.Equal(t, 2, count(filter(map[string]any{"expires": map[string]any{"before": superadmin.Expires.Add(90 * time.Second)}})), "the superadmin's and alice's first")
		require.Equal(t, 4, count(filter(map[string]any{"expires": map[string]any{"after": superadmin.Expires}})))
		require.Equal(t, 2, count(map[string]any{"filterOperator": "OR", "filter": map[string]any{
			"userId": map[string]any{"eq": w.bobID}, "type": map[string]any{"eq": "ANONYMOUS"},
		}}))
		require.Equal(t, 3, count(filter(map[string]any{
			"_or":  []any{map[string]any{"userId": map[string]any{"eq": w.aliceID}}, map[string]any{"userId": map[string]any{"eq": w.superadminID}}},
			"type": map[string]any{"eq": "AUTHENTICATED"},
		})))
		require.Equal(t, 2, count(filter(map[string]any{"_and": []any{
			map[string]any{"type": map[string]any{"eq": "AUTHENTICATED"}},
			map[string]any{"createdAt": map[string]any{"after": w.t0}, "userId": map[string]any{"notEq": w.bobID}},
		}})))

		oldest := listSessions(t, admin, map[string]any{"sort": map[string]any{"createdAt": "ASC"}, "take": 2, "skip": 1})
		require.Equal(t, 5, oldest.TotalItems)
		require.Equal(t, []string{all.Items[3].ID, all.Items[2].ID}, oldest.ids(), "alice's two, oldest first")
		byID := listSessions(t, admin, map[string]any{"sort": map[string]any{"id": "DESC"}})
		require.Equal(t, all.ids(), byID.ids(), "ids grow with creation")
		byExpiry := listSessions(t, admin, map[string]any{"sort": map[string]any{"expires": "ASC"}, "take": 1})
		require.Equal(t, superadmin.ID, byExpiry.Items[0].ID)
		require.Equal(t, []string{guest.ID}, listSessions(t, admin, filter(map[string]any{"id": map[string]any{"eq": guest.ID}})).ids())

		if b.dialect == "postgres" {
			require.Equal(t, 4, count(filter(map[string]any{"authenticationStrategy": map[string]any{"regex": "^NAT.*e$"}})), "case-insensitive, PostgreSQL's ~*")
		}

		// No response shows a token or its hash, whatever is asked.
		for _, c := range []*testenv.Client{admin, w.alice1} {
			for _, opts := range []map[string]any{nil, filter(map[string]any{"type": map[string]any{"eq": "GUEST"}})} {
				w.requireNoSecrets(t, c.Do(sessionsQuery, map[string]any{"options": opts}))
			}
		}
	})
}

// A field the list does not serve, an operator it does not serve, a value
// its enum lacks, a regex where the database has none and a page beyond
// the bound are USER_INPUT_ERRORs naming them; the token is no field of
// the input at all.
func TestSessionsListRefusals(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin := e.admin(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
		refused := func(options map[string]any, want string) {
			t.Helper()
			requireUserInputError(t, admin.Do(sessionsQuery, map[string]any{"options": options}), "sessions", want)
		}
		const operators = "sessions can be filtered by id and userId (eq, notEq, in, notIn, isNull), type (eq, notEq, in, notIn, isNull), "
		refused(map[string]any{"filter": map[string]any{"type": map[string]any{"contains": "ANON"}}},
			"options.filter.type.contains is not supported: "+operators)
		refused(map[string]any{"filter": map[string]any{"type": map[string]any{"in": []string{"ANONYMOUS", "GUEST"}}}},
			`options.filter.type: "GUEST" is not a SessionType (ANONYMOUS, AUTHENTICATED)`)
		refused(map[string]any{"filter": map[string]any{"_or": []any{map[string]any{"type": map[string]any{"eq": "anonymous"}}}}},
			`options.filter._or[0].type: "anonymous" is not a SessionType`)
		refused(map[string]any{"take": 101}, "options.take must be between 0 and 100")
		refused(map[string]any{"skip": -1}, "options.skip must not be negative, got -1")
		refused(map[string]any{"filter": map[string]any{"authenticationStrategy": map[string]any{"contains": strings.Repeat("x", 256)}}},
			"options.filter.authenticationStrategy.contains must be at most 255 characters long")
		refused(map[string]any{"filter": map[string]any{"userId": map[string]any{"in": make([]string, 1001)}}},
			"options.filter.userId.in may hold at most 1000 values, got 1001")
		regex := map[string]any{"filter": map[string]any{"authenticationStrategy": map[string]any{"regex": "^nat"}}}
		if b.dialect == "sqlite" {
			refused(regex, "options.filter.authenticationStrategy.regex is not available on this server's database (SQLite has no regular expressions)")
		} else {
			listSessions(t, admin, regex)
			refused(map[string]any{"filter": map[string]any{"authenticationStrategy": map[string]any{"regex": "(unclosed"}}},
				"options.filter: a regex is not a valid regular expression")
			refused(map[string]any{"filter": map[string]any{"authenticationStrategy": map[string]any{"regex": strings.Repeat("a", 101)}}},
				"options.filter.authenticationStrategy.regex must be at most 100 characters long")
		}
		// The token and its hash are no field of the filter or the
		// sort: the document does not validate.
		for _, doc := range []string{
			`{ sessions(options: {filter: {token: {eq: "x"}}}) { totalItems } }`,
			`{ sessions(options: {filter: {tokenHash: {eq: "x"}}}) { totalItems } }`,
			`{ sessions(options: {sort: {token: ASC}}) { totalItems } }`,
			`{ sessions { items { token } } }`,
		} {
			r := admin.Do(doc, nil)
			require.Len(t, r.Errors, 1, doc)
			require.Equal(t, "GRAPHQL_VALIDATION_FAILED", r.ErrorCode(), doc)
		}
	})
}

// deleteSessionsByUser, deleteSessionsByActiveOrderId and deleteSession
// end sessions through the session owner: each returns how many ended,
// and every ended token is refused on its next request, from the cache as
// from the database.
func TestSessionsEnd(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		w := newSessionWorld(t, b)
		admin := w.admin
		for _, c := range []*testenv.Client{w.alice1, w.alice2, w.bob} {
			// Cached now: the revocation must reach the cache.
			require.Empty(t, c.Do(shopMeQuery, nil).Errors)
		}

		r := admin.Do(deleteSessionsByUserMutation, map[string]any{"id": w.aliceID})
		require.JSONEq(t, `{"deleteSessionsByUser":{"count":2}}`, string(r.Data))
		w.requireNoSecrets(t, r)
		for _, c := range []*testenv.Client{w.alice1, w.alice2} {
			requireRefused(t, c)
		}
		require.Empty(t, w.bob.Do(shopMeQuery, nil).Errors, "bob's session stays")
		require.Equal(t, 0, endCount(t, admin, deleteSessionsByUserMutation, "deleteSessionsByUser", w.aliceID), "none left")
		require.Equal(t, 0, endCount(t, admin, deleteSessionsByUserMutation, "deleteSessionsByUser", "999999"))

		r = w.guest.Do(`{ activeOrder { id } }`, nil)
		require.JSONEq(t, fmt.Sprintf(`{"activeOrder":{"id":%q}}`, w.cartID), string(r.Data))
		require.Equal(t, 1, endCount(t, admin, deleteSessionsByOrderMutation, "deleteSessionsByActiveOrderId", w.cartID))
		guestToken := w.guest.Token
		r = w.guest.Do(`{ activeOrder { id } }`, nil)
		require.JSONEq(t, `{"activeOrder":null}`, string(r.Data), "the guest's session is gone; a new one holds no cart")
		require.NotEqual(t, guestToken, w.guest.Token, "a new guest session")

		bobs := listSessions(t, admin, map[string]any{"filter": map[string]any{"userId": map[string]any{"eq": w.bobID}}})
		require.Len(t, bobs.Items, 1)
		require.Equal(t, 1, endCount(t, admin, deleteSessionMutation, "deleteSession", bobs.Items[0].ID))
		requireRefused(t, w.bob)
		require.Equal(t, 0, endCount(t, admin, deleteSessionMutation, "deleteSession", bobs.Items[0].ID))
		require.Equal(t, "USER_INPUT_ERROR", admin.Do(deleteSessionMutation, map[string]any{"id": "not-a-number"}).ErrorCode(), "the ID scalar refuses it")

		// The superadmin may end its own session: the next request is
		// anonymous.
		own := listSessions(t, admin, map[string]any{"filter": map[string]any{"userId": map[string]any{"eq": w.superadminID}}})
		require.Equal(t, 1, own.TotalItems)
		require.Equal(t, 1, endCount(t, admin, deleteSessionsByUserMutation, "deleteSessionsByUser", w.superadminID))
		requireForbidden(t, admin.Do(sessionsQuery, nil), "sessions")
	})
}

// sessions needs ReadAdministrator or ReadCustomer and shows what each
// allows; the deletions need UpdateAdministrator or UpdateCustomer and
// refuse, ending nothing, a session of a kind the caller may not end.
// Anonymous callers, customers and administrators without them get
// FORBIDDEN; a permission on another channel only counts there, and shows
// that channel's sessions.
func TestSessionAdminPermissions(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		w := newSessionWorld(t, b)
		e := w.e
		docs := []struct{ doc, field string }{
			{sessionsQuery, "sessions"},
			{deleteSessionsByUserMutation, "deleteSessionsByUser"},
			{deleteSessionsByOrderMutation, "deleteSessionsByActiveOrderId"},
			{deleteSessionMutation, "deleteSession"},
		}
		vars := map[string]any{"id": w.aliceID}
		customer := e.admin(testenv.Bearer)
		customer.Token = w.bob.Token // a customer's session, sent to the Admin API
		anonymous := e.admin(testenv.Bearer)
		catalog := e.adminWith(t, "catalog", "ReadCatalog", "UpdateCatalog", "DeleteCatalog")
		for _, c := range []*testenv.Client{anonymous, customer, catalog} {
			for _, d := range docs {
				requireForbidden(t, c.Do(d.doc, vars), d.field)
			}
		}
		require.Equal(t, 2, listSessions(t, w.admin, map[string]any{"filter": map[string]any{"userId": map[string]any{"eq": w.aliceID}}}).TotalItems, "nothing ended")

		// ReadCustomer: customers' and guests' sessions only.
		customerReader := e.adminWith(t, "customer-reader", "ReadCustomer")
		page := listSessions(t, customerReader, nil)
		require.Equal(t, 4, page.TotalItems, "alice's two, bob's and the guest's")
		for _, it := range page.Items {
			if it.User != nil {
				require.Contains(t, []string{w.aliceID, w.bobID}, it.User.ID)
			}
		}
		for _, d := range docs[1:] {
			requireForbidden(t, customerReader.Do(d.doc, vars), d.field)
		}

		// ReadAdministrator: administrators' sessions only (the
		// superadmin's, the readers' own).
		adminReader := e.adminWith(t, "admin-reader", "ReadAdministrator")
		page = listSessions(t, adminReader, nil)
		require.Equal(t, 4, page.TotalItems, "the superadmin's, catalog's, customer-reader's and admin-reader's")
		for _, it := range page.Items {
			require.NotNil(t, it.User)
			require.NotContains(t, []string{w.aliceID, w.bobID}, it.User.ID)
		}

		// UpdateCustomer ends customers' and guests' sessions, and refuses
		// an administrator's, ending none.
		customerEnder := e.adminWith(t, "customer-ender", "UpdateCustomer")
		requireForbidden(t, customerEnder.Do(sessionsQuery, nil), "sessions")
		requireForbidden(t, customerEnder.Do(deleteSessionsByUserMutation, map[string]any{"id": w.superadminID}), "deleteSessionsByUser")
		superadmins := listSessions(t, w.admin, map[string]any{"filter": map[string]any{"userId": map[string]any{"eq": w.superadminID}}})
		require.Equal(t, 1, superadmins.TotalItems)
		requireForbidden(t, customerEnder.Do(deleteSessionMutation, map[string]any{"id": superadmins.Items[0].ID}), "deleteSession")
		require.Empty(t, w.admin.Do(meQuery, nil).Errors, "the superadmin's session stays")
		require.Equal(t, 2, endCount(t, customerEnder, deleteSessionsByUserMutation, "deleteSessionsByUser", w.aliceID))
		require.Equal(t, 1, endCount(t, customerEnder, deleteSessionsByOrderMutation, "deleteSessionsByActiveOrderId", w.cartID))

		// UpdateAdministrator ends administrators' sessions and refuses a
		// customer's.
		adminEnder := e.adminWith(t, "admin-ender", "UpdateAdministrator")
		requireForbidden(t, adminEnder.Do(deleteSessionsByUserMutation, map[string]any{"id": w.bobID}), "deleteSessionsByUser")
		require.Empty(t, w.bob.Do(shopMeQuery, nil).Errors, "bob's session stays")
		catalogUser := decodeMe(t, catalog.Do(meQuery, nil)).Me
		require.NotNil(t, catalogUser)
		require.Equal(t, 1, endCount(t, adminEnder, deleteSessionsByUserMutation, "deleteSessionsByUser", catalogUser.ID))
		r := catalog.Do(meQuery, nil)
		require.Equal(t, "FORBIDDEN", r.ErrorCode(), "the catalog administrator's session ended")

		// A permission on another channel counts there only, and shows
		// that channel's sessions.
		ctx := context.Background()
		other, err := e.app.Channels.Create(ctx, access.NewChannel{Code: "other", Token: "other-token", DefaultCurrencyCode: "USD"})
		require.NoError(t, err)
		role, err := e.app.Roles.Create(ctx, access.NewRole{
			Code: "other-reader", Description: "other-reader", Permissions: []auth.Permission{"ReadCustomer", "UpdateCustomer"}, ChannelIDs: []entity.ID{other.ID},
		})
		require.NoError(t, err)
		_, err = e.app.Users.CreateAdministrator(ctx, access.NewAdministrator{
			EmailAddress: "other@example.com", Password: "secret", FirstName: "O", LastName: "R", RoleIDs: []entity.ID{role.ID},
		})
		require.NoError(t, err)
		otherAdmin := e.admin(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, otherAdmin.Do(loginMutation, creds("other@example.com", "secret"))).Login.Typename)
		for _, d := range docs {
			requireForbidden(t, otherAdmin.Do(d.doc, map[string]any{"id": w.bobID}), d.field)
		}
		otherShopper := e.shop(testenv.Bearer)
		otherShopper.Channel = "other-token"
		require.Empty(t, otherShopper.Do(`{ activeOrder { id } }`, nil).Errors)
		otherCart := orderField(t, otherShopper.Do(addItemMutation, map[string]any{"productVariantId": w.variantID, "quantity": 1}), "addItemToOrder").ID
		otherAdmin.Channel = "other-token"
		page = listSessions(t, otherAdmin, nil)
		require.Equal(t, 1, page.TotalItems, "the other channel's one session")
		require.Equal(t, otherCart, *page.Items[0].ActiveOrderID)
		require.Equal(t, "other", page.Items[0].ActiveChannel.Code)
		require.Equal(t, 0, endCount(t, otherAdmin, deleteSessionsByUserMutation, "deleteSessionsByUser", w.bobID), "bob is on the default channel")
		require.Empty(t, w.bob.Do(shopMeQuery, nil).Errors, "bob's session stays")
		require.Equal(t, 1, endCount(t, otherAdmin, deleteSessionsByOrderMutation, "deleteSessionsByActiveOrderId", otherCart))
	})
}
