package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/access"
)

// The permission matrix: every operation of both APIs, called by every
// kind of caller, is refused (FORBIDDEN) or let through exactly as its row
// says. A row names the permissions that grant the operation as Vendure's
// @Allow does; the callers' expected answers follow from them (see
// allowedFor), so a guard that is missing, wrong or weaker than its row
// fails here. An operation of the served schema without a row fails the
// test, so no operation can be added unguarded.
//
// "Let through" means the guard passed: the operation may still answer
// with a not-found, an ErrorResult or USER_INPUT_ERROR (the documents name
// ids that do not exist, so nothing is changed), but never FORBIDDEN.

// matrixCaller is a kind of caller.
type matrixCaller string

const (
	// Admin API callers.
	noSession    matrixCaller = "no session"
	customer     matrixCaller = "customer"
	lacking      matrixCaller = "administrator without the permission"
	otherChannel matrixCaller = "administrator with it on another channel only"
	holder       matrixCaller = "administrator with the permission"
	// The Shop API's callers besides noSession and customer.
	guest matrixCaller = "guest with a session"
)

var (
	adminCallers = []matrixCaller{noSession, customer, lacking, otherChannel, holder}
	shopCallers  = []matrixCaller{noSession, guest, customer}
)

// matrixRow is one operation: its document (variables inline), the
// permissions that grant it, and the callers a resolver refuses beyond
// its guard (an Owner operation that needs a user, say).
type matrixRow struct {
	doc   string
	perms []auth.Permission
	// refused are callers refused although the guard lets them through.
	refused []matrixCaller
	// last runs the row after every other (logout ends the caller's
	// session).
	last bool
}

// allowedFor is whether a caller gets past a row's guard (and resolver).
func (r matrixRow) allowedFor(c matrixCaller) bool {
	if slices.Contains(r.refused, c) {
		return false
	}
	switch {
	case slices.Contains(r.perms, auth.Public), slices.Contains(r.perms, auth.Owner):
		return true
	case slices.Contains(r.perms, auth.Authenticated):
		// Every role holds Authenticated on its channels; the requests are
		// made on the default channel.
		return c == customer || c == lacking || c == holder
	}
	return c == holder
}

// A document names an id no row has.
const missing = "999999"

var adminMatrix = map[string]matrixRow{
	"Query.activeChannel":       {doc: `{ activeChannel { id } }`, perms: perms("Authenticated")},
	"Query.activeAdministrator": {doc: `{ activeAdministrator { id } }`, perms: perms("Owner")},
	// The Admin API's me answers logged-in administrators only.
	"Query.me":              {doc: `{ me { id } }`, perms: perms("Authenticated", "Owner"), refused: []matrixCaller{noSession, customer}},
	"Query.auditEntries":    {doc: `{ auditEntries { totalItems } }`, perms: perms("ReadAdministrator")},
	"Query.productVariants": {doc: `{ productVariants { totalItems } }`, perms: perms("ReadCatalog", "ReadProduct")},
	"Query.productVariant":  {doc: `{ productVariant(id: "` + missing + `") { id } }`, perms: perms("ReadCatalog", "ReadProduct")},
	"Query.channel":         {doc: `{ channel(id: "DEFAULT") { id } }`, perms: perms("ReadSettings", "ReadChannel")},
	"Query.channels":        {doc: `{ channels { totalItems } }`, perms: perms("ReadSettings", "ReadChannel")},
	"Query.job":             {doc: `{ job(jobId: "` + missing + `") { id } }`, perms: perms("ReadSettings", "ReadSystem")},
	"Query.jobs":            {doc: `{ jobs { totalItems } }`, perms: perms("ReadSettings", "ReadSystem")},
	"Query.jobsById":        {doc: `{ jobsById(jobIds: ["` + missing + `"]) { id } }`, perms: perms("ReadSettings", "ReadSystem")},
	"Query.jobQueues":       {doc: `{ jobQueues { name } }`, perms: perms("ReadSettings", "ReadSystem")},
	"Query.scheduledTasks":  {doc: `{ scheduledTasks { id } }`, perms: perms("ReadSettings", "ReadSystem")},
	"Query.role":            {doc: `{ role(id: "` + missing + `") { id } }`, perms: perms("ReadAdministrator")},
	"Query.roles":           {doc: `{ roles { totalItems } }`, perms: perms("ReadAdministrator")},
	"Query.sessions":        {doc: `{ sessions { totalItems } }`, perms: perms("ReadAdministrator", "ReadCustomer")},
	"Query.customers":       {doc: `{ customers { totalItems } }`, perms: perms("ReadCustomer")},
	"Query.customer":        {doc: `{ customer(id: "` + missing + `") { id } }`, perms: perms("ReadCustomer")},
	"Query.administrators":  {doc: `{ administrators { totalItems } }`, perms: perms("ReadAdministrator")},
	"Query.administrator":   {doc: `{ administrator(id: "` + missing + `") { id } }`, perms: perms("ReadAdministrator")},

	"Mutation.login":        {doc: `mutation { login(username: "nobody@example.com", password: "wrong") { __typename } }`, perms: perms("Public")},
	"Mutation.authenticate": {doc: `mutation { authenticate(input: {native: {username: "nobody@example.com", password: "wrong"}}) { __typename } }`, perms: perms("Public")},
	"Mutation.logout":       {doc: `mutation { logout { success } }`, perms: perms("Public"), last: true},
	"Mutation.createProductVariants": {
		doc: `mutation { createProductVariants(input: []) { id } }`, perms: perms("UpdateCatalog", "UpdateProduct"),
	},
	"Mutation.createChannel": {
		// No currency: refused after the guard.
		doc: `mutation { createChannel(input: {code: "matrix", token: "matrix", defaultLanguageCode: en, pricesIncludeTax: false,
			defaultTaxZoneId: "` + missing + `", defaultShippingZoneId: "` + missing + `"}) { __typename } }`,
		perms: perms("SuperAdmin", "CreateChannel"),
	},
	"Mutation.updateChannel":  {doc: `mutation { updateChannel(input: {id: "` + missing + `"}) { __typename } }`, perms: perms("SuperAdmin", "UpdateChannel")},
	"Mutation.deleteChannel":  {doc: `mutation { deleteChannel(id: "` + missing + `") { result } }`, perms: perms("SuperAdmin", "DeleteChannel")},
	"Mutation.deleteChannels": {doc: `mutation { deleteChannels(ids: ["` + missing + `"]) { result } }`, perms: perms("SuperAdmin", "DeleteChannel")},
	"Mutation.triggerCleanSessionsJob": {
		doc: `mutation { triggerCleanSessionsJob(batchSize: 1) { id } }`, perms: perms("UpdateSettings", "UpdateSystem"),
	},
	// SuperAdmin is not assignable: refused after the guard.
	"Mutation.createRole":  {doc: `mutation { createRole(input: {code: "matrix", description: "", permissions: [SuperAdmin]}) { id } }`, perms: perms("CreateAdministrator")},
	"Mutation.updateRole":  {doc: `mutation { updateRole(input: {id: "` + missing + `"}) { id } }`, perms: perms("UpdateAdministrator")},
	"Mutation.deleteRole":  {doc: `mutation { deleteRole(id: "` + missing + `") { result } }`, perms: perms("DeleteAdministrator")},
	"Mutation.deleteRoles": {doc: `mutation { deleteRoles(ids: ["` + missing + `"]) { result } }`, perms: perms("DeleteAdministrator")},
	"Mutation.deleteSessionsByUser": {
		doc: `mutation { deleteSessionsByUser(userId: "` + missing + `") { count } }`, perms: perms("UpdateAdministrator", "UpdateCustomer"),
	},
	"Mutation.deleteSessionsByActiveOrderId": {
		doc: `mutation { deleteSessionsByActiveOrderId(orderId: "` + missing + `") { count } }`, perms: perms("UpdateAdministrator", "UpdateCustomer"),
	},
	"Mutation.createAdministrator": {
		// An unknown role: refused after the guard.
		doc: `mutation { createAdministrator(input: {firstName: "M", lastName: "X", emailAddress: "matrix-admin@example.com",
			password: "matrix-secret", roleIds: ["` + missing + `"]}) { id } }`,
		perms: perms("CreateAdministrator"),
	},
	"Mutation.updateAdministrator": {doc: `mutation { updateAdministrator(input: {id: "` + missing + `"}) { id } }`, perms: perms("UpdateAdministrator")},
	// The caller's own profile: an administrator's (a change of nothing).
	"Mutation.updateActiveAdministrator": {
		doc: `mutation { updateActiveAdministrator(input: {}) { id } }`, perms: perms("Owner"), refused: []matrixCaller{noSession, customer},
	},
	"Mutation.deleteAdministrator":  {doc: `mutation { deleteAdministrator(id: "` + missing + `") { result } }`, perms: perms("DeleteAdministrator")},
	"Mutation.deleteAdministrators": {doc: `mutation { deleteAdministrators(ids: ["` + missing + `"]) { result } }`, perms: perms("DeleteAdministrator")},
	"Mutation.assignRoleToAdministrator": {
		doc: `mutation { assignRoleToAdministrator(administratorId: "` + missing + `", roleId: "` + missing + `") { id } }`, perms: perms("UpdateAdministrator"),
	},
	"Mutation.createCustomer": {
		doc:   `mutation { createCustomer(input: {firstName: "M", lastName: "X", emailAddress: "matrix-new-customer@example.com"}) { __typename } }`,
		perms: perms("CreateCustomer"),
	},
	"Mutation.updateCustomer":  {doc: `mutation { updateCustomer(input: {id: "` + missing + `"}) { __typename } }`, perms: perms("UpdateCustomer")},
	"Mutation.deleteCustomer":  {doc: `mutation { deleteCustomer(id: "` + missing + `") { result } }`, perms: perms("DeleteCustomer")},
	"Mutation.deleteCustomers": {doc: `mutation { deleteCustomers(ids: ["` + missing + `"]) { result } }`, perms: perms("DeleteCustomer")},
	"Mutation.eraseCustomer":   {doc: `mutation { eraseCustomer(id: "` + missing + `") { result } }`, perms: perms("DeleteCustomer")},
	"Mutation.deleteSession": {
		doc: `mutation { deleteSession(id: "` + missing + `") { count } }`, perms: perms("UpdateAdministrator", "UpdateCustomer"),
	},
	// The caller's own sessions: any logged-in administrator's, on any
	// channel (e2e/self_sessions_test.go).
	"Query.activeSessions": {doc: `{ activeSessions { id current } }`, perms: perms("Owner"), refused: []matrixCaller{noSession, customer}},
	"Mutation.revokeSession": {
		doc: `mutation { revokeSession(id: "` + missing + `") { success } }`, perms: perms("Owner"), refused: []matrixCaller{noSession, customer},
	},
	"Mutation.revokeOtherSessions": {doc: `mutation { revokeOtherSessions }`, perms: perms("Owner"), refused: []matrixCaller{noSession, customer}},
}

var shopMatrix = map[string]matrixRow{
	"Query.activeChannel":  {doc: `{ activeChannel { id } }`, perms: perms("Public")},
	"Query.activeCustomer": {doc: `{ activeCustomer { id } }`, perms: perms("Owner")},
	"Query.me":             {doc: `{ me { id } }`, perms: perms("Authenticated")},
	"Query.activeOrder":    {doc: `{ activeOrder { id } }`, perms: perms("Owner")},
	"Query.order":          {doc: `{ order(id: "` + missing + `") { id } }`, perms: perms("Owner")},
	// An order that is not the caller's is refused as Vendure refuses it,
	// whether or not it exists (e2e/order_test.go has the caller's own).
	"Query.orderByCode": {doc: `{ orderByCode(code: "NO-SUCH-CODE") { id } }`, perms: perms("Owner"), refused: shopCallers},

	"Mutation.login":        adminMatrix["Mutation.login"],
	"Mutation.authenticate": adminMatrix["Mutation.authenticate"],
	"Mutation.logout":       adminMatrix["Mutation.logout"],
	"Mutation.registerCustomerAccount": {
		doc: `mutation { registerCustomerAccount(input: {emailAddress: "matrix-new@example.com", password: "matrix-pw"}) { __typename } }`, perms: perms("Public"),
	},
	"Mutation.refreshCustomerVerification": {
		doc: `mutation { refreshCustomerVerification(emailAddress: "nobody@example.com") { __typename } }`, perms: perms("Public"),
	},
	"Mutation.verifyCustomerAccount": {doc: `mutation { verifyCustomerAccount(token: "bad") { __typename } }`, perms: perms("Public")},
	"Mutation.requestPasswordReset":  {doc: `mutation { requestPasswordReset(emailAddress: "nobody@example.com") { __typename } }`, perms: perms("Public")},
	"Mutation.resetPassword":         {doc: `mutation { resetPassword(token: "bad", password: "new-pw") { __typename } }`, perms: perms("Public")},
	// Owner operations on the customer's account need one.
	"Mutation.updateCustomer": {
		doc: `mutation { updateCustomer(input: {}) { id } }`, perms: perms("Owner"), refused: []matrixCaller{noSession, guest},
	},
	"Mutation.updateCustomerPassword": {
		doc:   `mutation { updateCustomerPassword(currentPassword: "wrong", newPassword: "new-pw") { __typename } }`,
		perms: perms("Owner"), refused: []matrixCaller{noSession, guest},
	},
	"Mutation.addItemToOrder":         {doc: `mutation { addItemToOrder(productVariantId: "` + missing + `", quantity: 1) { __typename } }`, perms: perms("Owner")},
	"Mutation.removeOrderLine":        {doc: `mutation { removeOrderLine(orderLineId: "` + missing + `") { __typename } }`, perms: perms("Owner")},
	"Mutation.removeAllOrderLines":    {doc: `mutation { removeAllOrderLines { __typename } }`, perms: perms("Owner")},
	"Mutation.adjustOrderLine":        {doc: `mutation { adjustOrderLine(orderLineId: "` + missing + `", quantity: 1) { __typename } }`, perms: perms("Owner")},
	"Mutation.transitionOrderToState": {doc: `mutation { transitionOrderToState(state: "ArrangingPayment") { __typename } }`, perms: perms("Owner")},
	"Mutation.addPaymentToOrder":      {doc: `mutation { addPaymentToOrder(input: {method: "none", metadata: {}}) { __typename } }`, perms: perms("Owner")},
	"Mutation.setCustomerForOrder": {
		doc: `mutation { setCustomerForOrder(input: {emailAddress: "matrix-guest@example.com", firstName: "M", lastName: "X"}) { __typename } }`, perms: perms("Owner"),
	},
	// The caller's own sessions need a logged-in customer
	// (e2e/self_sessions_test.go).
	"Query.activeSessions": {doc: `{ activeSessions { id current } }`, perms: perms("Owner"), refused: []matrixCaller{noSession, guest}},
	"Mutation.revokeSession": {
		doc: `mutation { revokeSession(id: "` + missing + `") { success } }`, perms: perms("Owner"), refused: []matrixCaller{noSession, guest},
	},
	"Mutation.revokeOtherSessions": {doc: `mutation { revokeOtherSessions }`, perms: perms("Owner"), refused: []matrixCaller{noSession, guest}},
}

func perms(names ...string) []auth.Permission {
	out := make([]auth.Permission, len(names))
	for i, n := range names {
		out[i] = auth.Permission(n)
	}
	return out
}

// servedOperations lists the Query and Mutation fields a client's
// introspection finds, as "Query.x" and "Mutation.y".
func servedOperations(t *testing.T, c *testenv.Client) []string {
	t.Helper()
	var schema struct {
		Schema struct {
			QueryType    struct{ Fields []struct{ Name string } } `json:"queryType"`
			MutationType struct{ Fields []struct{ Name string } } `json:"mutationType"`
		} `json:"__schema"`
	}
	r := c.Do(`{ __schema { queryType { fields { name } } mutationType { fields { name } } } }`, nil)
	require.Empty(t, r.Errors)
	r.Decode(t, &schema)
	var out []string
	for _, f := range schema.Schema.QueryType.Fields {
		out = append(out, "Query."+f.Name)
	}
	for _, f := range schema.Schema.MutationType.Fields {
		out = append(out, "Mutation."+f.Name)
	}
	require.NotEmpty(t, out)
	return out
}

// requestStatements counts the statements sent through bun on behalf of
// a request (their context holds its request context), leaving out the
// background work (cache sync, jobs) that runs meanwhile.
type requestStatements struct{ n atomic.Int64 }

func (h *requestStatements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	if requestctx.FromContext(ctx) != nil {
		h.n.Add(1)
	}
	return ctx
}

func (h *requestStatements) AfterQuery(context.Context, *bun.QueryEvent) {}

// guardCost, when set, is checked after each refusal of a caller with a
// cached session: the refusal sent no statement and read no session from
// the database (a cache miss would have re-cached it).
type guardCost struct {
	e          *env
	statements *requestStatements
	cached     []matrixCaller
}

// requireFromCache requires the refusal just made (again, do) to have been
// answered from the cached session: no session was cached anew during it.
// The background sync may still be applying an access change the test made
// while building its callers, and its clear may land between the request
// that cached the session and the refusal; so a refusal that re-read the
// session is made again (at most four times), after the request that
// cached it. A check that reads the database does so every time.
func (g *guardCost) requireFromCache(t *testing.T, op string, c matrixCaller, do func() *testenv.Response) {
	t.Helper()
	calls := g.e.takeCalls()
	for range 4 {
		if calls.Sets == 0 {
			break
		}
		do() // the session is cached again
		g.e.takeCalls()
		require.Equal(t, "FORBIDDEN", do().ErrorCode())
		calls = g.e.takeCalls()
	}
	require.Zero(t, calls.Sets, "%s as %s: the refusal read the session from the database", op, c)
}

// runMatrix calls every row of ops as every caller (clientFor gives the
// client to call with) and checks the answer; rows marked last run after
// the others.
func runMatrix(t *testing.T, matrix map[string]matrixRow, ops []string, callers []matrixCaller, clientFor func(matrixCaller) *testenv.Client, fill func(string) string, cost *guardCost) {
	t.Helper()
	ops = slices.Clone(ops)
	sort.SliceStable(ops, func(i, j int) bool { return !matrix[ops[i]].last && matrix[ops[j]].last })
	for _, op := range ops {
		row := matrix[op]
		for _, c := range callers {
			var before int64
			if cost != nil {
				before = cost.statements.n.Load()
				cost.e.takeCalls()
			}
			r := clientFor(c).Do(fill(row.doc), nil)
			var codes []string
			for _, e := range r.Errors {
				codes = append(codes, e.Code())
			}
			if row.allowedFor(c) {
				require.NotContains(t, codes, "FORBIDDEN", "%s as %s: %v", op, c, r.Errors)
				require.NotContains(t, codes, "GRAPHQL_VALIDATION_FAILED", "%s: the row's document is invalid: %v", op, r.Errors)
			} else {
				require.Equal(t, []string{"FORBIDDEN"}, codes, "%s as %s must be refused: %s", op, c, r.Data)
				if cost != nil && slices.Contains(cost.cached, c) {
					require.Zero(t, cost.statements.n.Load()-before, "%s as %s: the refusal sent statements", op, c)
					cost.requireFromCache(t, op, c, func() *testenv.Response { return clientFor(c).Do(fill(row.doc), nil) })
				}
			}
		}
	}
}

// requireRows fails on an operation of served that matrix has no row for.
func requireRows(t *testing.T, api string, matrix map[string]matrixRow, served []string) {
	t.Helper()
	var without []string
	for _, op := range served {
		if _, ok := matrix[op]; !ok {
			without = append(without, op)
		}
	}
	require.Empty(t, without, "%s API operations without a row in the permission matrix: add one", api)
}

// The matrix of the Admin API. It also shows what the permission check
// costs: refusing an administrator or a customer whose session is cached
// sends no statement to the database and reads no session from it, so
// the check itself (the same code when it lets a caller through) is free
// of database reads.
func TestAdminPermissionMatrix(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		statements := &requestStatements{}
		e := newEnvOn(t, b, testenv.DialectDB(t, b.dialect).WithQueryHook(statements))
		ctx := context.Background()
		def := e.app.Channels.Default()
		other, err := e.app.Channels.Create(ctx, access.NewChannel{
			Code: "matrix-other", Token: "matrix-other-token", DefaultLanguageCode: entity.LanguageCode("en"),
			DefaultCurrencyCode: entity.CurrencyCode("USD"), DefaultTaxZoneID: def.DefaultTaxZoneID, DefaultShippingZoneID: def.DefaultShippingZoneID,
		})
		require.NoError(t, err)
		served := servedOperations(t, e.admin(testenv.Bearer))
		requireRows(t, "Admin", adminMatrix, served)
		e.newCustomer(t, "matrix-customer@example.com", "Customer")

		// The operations by the permissions that grant them. Each set gets
		// its administrators: one without the permission (every other
		// assignable one, on the default channel), one with it on the other
		// channel only, and one with it (its first assignable permission)
		// on the default channel; every request is made on the default
		// channel.
		groups := map[string][]string{}
		var keys []string
		for _, op := range served {
			key := fmt.Sprint(adminMatrix[op].perms)
			if groups[key] == nil {
				keys = append(keys, key)
			}
			groups[key] = append(groups[key], op)
		}
		n := 0
		administrator := func(perms []auth.Permission, channel entity.ID) *testenv.Client {
			n++
			code := fmt.Sprintf("matrix-%d", n)
			role, err := e.app.Roles.Create(ctx, access.NewRole{Code: code, Description: code, Permissions: perms, ChannelIDs: []entity.ID{channel}})
			require.NoError(t, err)
			email := code + "@example.com"
			e.newAdministrator(t, email, role.ID)
			c := e.admin(testenv.Bearer)
			asUserWithCredentials(t, c, email, "test")
			c.Channel = ""
			return c
		}
		fill := func(doc string) string { return strings.ReplaceAll(doc, `"DEFAULT"`, `"`+def.ID.String()+`"`) }
		for _, key := range keys {
			row := adminMatrix[groups[key][0]]
			granted := []auth.Permission{"ReadCatalog"} // for Public, Owner and Authenticated sets
			for _, p := range row.perms {
				if slices.Contains(auth.Assignable(), p) {
					granted = []auth.Permission{p}
					break
				}
			}
			var without []auth.Permission
			for _, p := range auth.Assignable() {
				if !slices.Contains(row.perms, p) {
					without = append(without, p)
				}
			}
			clients := map[matrixCaller]*testenv.Client{
				lacking:      administrator(without, def.ID),
				otherChannel: administrator(granted, other.ID),
				holder:       administrator(granted, def.ID),
				// The customer logs in on the Shop API for each set (a
				// logout row ends its sessions) and calls with that token.
				customer: e.admin(testenv.Bearer),
			}
			shopper := e.shop(testenv.Bearer)
			require.Equal(t, "CurrentUser", decodeLogin(t, shopper.Do(loginMutation, creds("matrix-customer@example.com", "test"))).Login.Typename)
			clients[customer].Token = shopper.Token
			for _, c := range []matrixCaller{lacking, otherChannel, customer} {
				clients[c].Do(`{ activeChannel { id } }`, nil) // its session is cached
			}
			cost := &guardCost{e: e, statements: statements, cached: []matrixCaller{lacking, otherChannel, customer}}
			t.Run(key, func(t *testing.T) {
				runMatrix(t, adminMatrix, groups[key], adminCallers, func(c matrixCaller) *testenv.Client {
					if c == noSession {
						return e.admin(testenv.Bearer) // an Owner operation gives a client a session
					}
					return clients[c]
				}, fill, cost)
			})
		}
		// The hook sees the statements of requests: the ones let through sent some.
		require.Positive(t, statements.n.Load())
	})
}

func TestShopPermissionMatrix(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		served := servedOperations(t, e.shop(testenv.Bearer))
		requireRows(t, "Shop", shopMatrix, served)
		e.newCustomer(t, "matrix-shopper@example.com", "Shopper")
		shopper := e.shop(testenv.Bearer)
		require.Equal(t, "CurrentUser", decodeLogin(t, shopper.Do(loginMutation, creds("matrix-shopper@example.com", "test"))).Login.Typename)
		guestClient := e.shop(testenv.Bearer)
		guestClient.Do(`{ activeOrder { id } }`, nil) // an Owner operation starts a guest's session
		require.NotEmpty(t, guestClient.Token)
		clients := map[matrixCaller]*testenv.Client{guest: guestClient, customer: shopper}
		runMatrix(t, shopMatrix, served, shopCallers, func(c matrixCaller) *testenv.Client {
			if c == noSession {
				return e.shop(testenv.Bearer)
			}
			return clients[c]
		}, func(s string) string { return s }, nil)
	})
}
