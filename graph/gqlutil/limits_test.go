package gqlutil_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/graph/shopapi"
)

// fragmentBomb is fragment F0 on Query { me { id } } and F_n spreading
// F_(n-1) twice, `{ ...F<levels-1> }`: 2^(levels-1) expansions of `me { id }`
// in about 40 bytes a level.
func fragmentBomb(levels int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{ ...F%d } fragment F0 on Query { me { id } }", levels-1)
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i-1, i-1)
	}
	return b.String()
}

// repeated is `{ activeChannel { id id … } }` with n ids: n+1 fields.
func repeated(n int) string {
	return "{ activeChannel { " + strings.Repeat("id ", n) + "} }"
}

// nested is n levels of `a { … }` around `id`: n+1 levels deep.
func nested(n int) string {
	return strings.Repeat("a { ", n) + "id" + strings.Repeat(" }", n)
}

func logins(n int) string {
	var b strings.Builder
	b.WriteString("mutation {")
	for i := range n {
		fmt.Fprintf(&b, ` a%d: login(username: "superadmin", password: "p%d") { __typename }`, i, i)
	}
	b.WriteString(" }")
	return b.String()
}

func TestLimitsFieldsAfterFragmentExpansion(t *testing.T) {
	t.Parallel()
	var l gqlutil.Limits

	// The 1.6 KB fragment bomb: 2^39 expansions of two fields, counted
	// once per fragment.
	bomb := fragmentBomb(40)
	require.Less(t, len(bomb), 1700)
	e := l.CheckQuery(bomb)
	require.NotNil(t, e)
	require.Equal(t, "FIELD_LIMIT_EXCEEDED", codeOf(e))
	require.Equal(t, "The query selects 1099511627776 fields; the limit is 1000", e.Message)

	// 2^200 expansions saturate instead of wrapping around to a small or
	// negative count.
	e = gqlutil.Limits{MaxFragments: 1000}.CheckQuery(fragmentBomb(201))
	require.Equal(t, "FIELD_LIMIT_EXCEEDED", codeOf(e))
	require.Equal(t, "The query selects more than 1152921504606846976 fields; the limit is 1000", e.Message)

	// At the cap and one over: activeChannel plus the ids.
	require.Nil(t, l.CheckQuery(repeated(999)))
	e = l.CheckQuery(repeated(1000))
	require.Equal(t, "FIELD_LIMIT_EXCEEDED", codeOf(e))
	require.Equal(t, "The query selects 1001 fields; the limit is 1000", e.Message)

	// Inline fragments count too; a smaller configured limit applies.
	small := gqlutil.Limits{MaxFields: 3}
	require.Nil(t, small.CheckQuery(`{ activeChannel { ... on Channel { id code } } }`))
	e = small.CheckQuery(`{ activeChannel { ... on Channel { id code token } } }`)
	require.Equal(t, "The query selects 4 fields; the limit is 3", e.Message)
}

func TestLimitsEveryOperationAndFragment(t *testing.T) {
	t.Parallel()
	l := gqlutil.Limits{MaxFields: 3}
	// Whichever operation the request names, each one is held to the limits.
	e := l.CheckQuery(`query A { me { id } } query B { activeChannel { id code token } }`)
	require.Equal(t, "FIELD_LIMIT_EXCEEDED", codeOf(e))
	// So is a fragment no operation spreads: validation would walk it first.
	e = l.CheckQuery(`{ me { id } } fragment Unused on Query { activeChannel { id code token } }`)
	require.Equal(t, "FIELD_LIMIT_EXCEEDED", codeOf(e))
	require.Equal(t, `The fragment "Unused" selects 4 fields; the limit is 3`, e.Message)

	// Too many fragment definitions.
	var b strings.Builder
	b.WriteString("{ me { id } }")
	for i := range 101 {
		fmt.Fprintf(&b, " fragment F%d on Query { me { id } }", i)
	}
	e = gqlutil.Limits{}.CheckQuery(b.String())
	require.Equal(t, "FRAGMENT_LIMIT_EXCEEDED", codeOf(e))
	require.Equal(t, "The query defines 101 fragments; the limit is 100", e.Message)
}

// Fragment cycles and unknown fragments are validation's to refuse; the
// check must terminate on them and count each fragment once.
func TestLimitsFragmentCyclesAndUnknownFragments(t *testing.T) {
	t.Parallel()
	var l gqlutil.Limits
	require.Nil(t, l.CheckQuery(`{ ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A ...A ...C }`))
	require.Nil(t, l.CheckQuery(`{ ...Self } fragment Self on Query { ...Self ...Self me { id } }`))
	require.Nil(t, l.CheckQuery(`{ ...Nowhere }`))

	// A cycle inside a bomb still counts the bomb.
	bomb := fragmentBomb(40) + " fragment Loop on Query { ...F39 ...Loop }"
	bomb = strings.Replace(bomb, "{ ...F39 }", "{ ...Loop }", 1)
	require.Equal(t, "FIELD_LIMIT_EXCEEDED", codeOf(l.CheckQuery(bomb)))
}

func TestLimitsDepth(t *testing.T) {
	t.Parallel()
	var l gqlutil.Limits
	require.Nil(t, l.CheckQuery("{ "+nested(14)+" }"))
	e := l.CheckQuery("{ " + nested(15) + " }")
	require.Equal(t, "DEPTH_LIMIT_EXCEEDED", codeOf(e))
	require.Equal(t, "The query nests fields 16 levels deep; the limit is 15", e.Message)

	// Depth through fragments, each counted once: F_n = { a { ...F_(n-1) } }.
	var b strings.Builder
	b.WriteString("{ ...D19 } fragment D0 on Query { id }")
	for i := 1; i < 20; i++ {
		fmt.Fprintf(&b, " fragment D%d on Query { a { ...D%d } b { ...D%d } }", i, i-1, i-1)
	}
	e = gqlutil.Limits{MaxFields: 1 << 30}.CheckQuery(b.String())
	require.Equal(t, "DEPTH_LIMIT_EXCEEDED", codeOf(e))
	require.Equal(t, "The query nests fields 20 levels deep; the limit is 15", e.Message)

	// graphql-js's introspection query (GraphiQL's) fits the defaults, with
	// the deeper TypeRef of graphql-js 17 too.
	require.Nil(t, l.CheckQuery(introspectionQuery(7)))
	require.Nil(t, l.CheckQuery(introspectionQuery(9)))
	require.Equal(t, "The query nests fields 16 levels deep; the limit is 15", l.CheckQuery(introspectionQuery(10)).Message)
}

func TestLimitsAliases(t *testing.T) {
	t.Parallel()
	var l gqlutil.Limits
	aliases := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " c%d: activeChannel { id }", i)
		}
		return b.String() + " }"
	}
	require.Nil(t, l.CheckQuery(aliases(30)))
	e := l.CheckQuery(aliases(31))
	require.Equal(t, "ALIAS_LIMIT_EXCEEDED", codeOf(e))
	require.Equal(t, "The query uses 31 aliases; the limit is 30", e.Message)

	// An alias equal to the field name is no alias; aliases in a fragment
	// count each time it is spread.
	require.Nil(t, l.CheckQuery(`{ activeChannel: activeChannel { id: id } }`))
	e = l.CheckQuery(`{ ...A ...A } fragment A on Query { ` + strings.Repeat("x: activeChannel { id } ", 16) + `}`)
	require.Equal(t, "The query uses 32 aliases; the limit is 30", e.Message)
}

func TestLimitsOneLoginPerOperation(t *testing.T) {
	t.Parallel()
	var l gqlutil.Limits
	require.Nil(t, l.CheckQuery(logins(1)))
	// 400 aliased logins: refused as logins, before the alias limit.
	e := l.CheckQuery(logins(400))
	require.Equal(t, "LOGIN_LIMIT_EXCEEDED", codeOf(e))
	require.Equal(t, "The query selects login, authenticate or another password or token mutation 400 times; the limit is 1 per request", e.Message)
	require.Equal(t, "LOGIN_LIMIT_EXCEEDED", codeOf(l.CheckQuery(logins(2))))

	for _, doc := range []string{
		// login and authenticate together
		`mutation { login(username: "a", password: "b") { __typename } authenticate(input: {native: {username: "a", password: "b"}}) { __typename } }`,
		// through a fragment on Mutation and an inline fragment
		`mutation { ...L } fragment L on Mutation { login(username: "a", password: "b") { __typename } ... on Mutation { authenticate(input: {}) { __typename } } }`,
		// the same fragment spread twice
		`mutation { ...L ...L } fragment L on Mutation { login(username: "a", password: "b") { __typename } }`,
		// in the second operation of the document
		`query Q { me { id } } mutation M { a: login(username: "a", password: "b") { __typename } b: login(username: "a", password: "c") { __typename } }`,
		// two registrations (two bcrypt hashes), or a registration and a login
		`mutation { a: registerCustomerAccount(input: {emailAddress: "a@x"}) { __typename } b: registerCustomerAccount(input: {emailAddress: "b@x"}) { __typename } }`,
		`mutation { registerCustomerAccount(input: {emailAddress: "a@x"}) { __typename } login(username: "a", password: "b") { __typename } }`,
		// password changes, resets and token deliveries
		`mutation { a: updateCustomerPassword(currentPassword: "a", newPassword: "b") { __typename } b: updateCustomerPassword(currentPassword: "a", newPassword: "c") { __typename } }`,
		`mutation { a: requestPasswordReset(emailAddress: "a@x") { __typename } b: requestPasswordReset(emailAddress: "b@x") { __typename } }`,
		`mutation { resetPassword(token: "t", password: "p") { __typename } verifyCustomerAccount(token: "t") { __typename } }`,
		`mutation { a: refreshCustomerVerification(emailAddress: "a@x") { __typename } b: refreshCustomerVerification(emailAddress: "b@x") { __typename } }`,
	} {
		require.Equal(t, "LOGIN_LIMIT_EXCEEDED", codeOf(l.CheckQuery(doc)), doc)
	}
	// Fields named login below the root are not logins.
	require.Nil(t, l.CheckQuery(`mutation { login(username: "a", password: "b") { ... on CurrentUser { login: identifier } } }`))
}

func TestLimitsTokensAndSyntax(t *testing.T) {
	t.Parallel()
	l := gqlutil.Limits{MaxTokens: 10}
	require.Nil(t, l.CheckQuery(`{ me { id identifier } }`)) // 7 tokens
	e := l.CheckQuery(`{ me { id identifier channels { id code token } } }`)
	require.Equal(t, "TOKEN_LIMIT_EXCEEDED", codeOf(e))
	require.Equal(t, "The query has more than 10 tokens; the limit is 10", e.Message)

	e = gqlutil.Limits{}.CheckQuery(`{ me { `)
	require.Equal(t, "GRAPHQL_PARSE_FAILED", codeOf(e))
	require.Nil(t, gqlutil.Limits{}.CheckQuery(``), "no operation: gqlgen says so")
}

// The document caches are bounded by the bytes of their queries: least
// recently used entries go first, and a query too long to be worth keeping
// is not kept at all.
func TestQueryCacheIsBoundedByBytes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := gqlutil.NewQueryCache[int](160) // entries of at most 10 bytes
	for i := range 20 {
		c.Add(ctx, fmt.Sprintf("query-%03d", i), i) // 9 bytes each: 17 fit
	}
	for i := range 3 {
		_, ok := c.Get(ctx, fmt.Sprintf("query-%03d", i))
		require.False(t, ok, "evicted: %d", i)
	}
	v, ok := c.Get(ctx, "query-003")
	require.True(t, ok)
	require.Equal(t, 3, v)
	c.Add(ctx, "query-100", 100) // evicts query-004, not query-003, just used
	_, ok = c.Get(ctx, "query-003")
	require.True(t, ok)
	_, ok = c.Get(ctx, "query-004")
	require.False(t, ok)

	c.Add(ctx, strings.Repeat(" ", 11)+"{ me }", 1)
	_, ok = c.Get(ctx, strings.Repeat(" ", 11)+"{ me }")
	require.False(t, ok, "too long to cache")
	c.Add(ctx, "query-100", 101)
	v, _ = c.Get(ctx, "query-100")
	require.Equal(t, 101, v, "replaced")
}

func codeOf(e *gqlerror.Error) string {
	if e == nil {
		return ""
	}
	code, _ := e.Extensions["code"].(string)
	return code
}

// introspectionQuery is graphql-js's getIntrospectionQuery() with
// typeDepth levels of ofType in TypeRef (7 in graphql-js 16, 9 in 17).
func introspectionQuery(typeDepth int) string {
	typeRef := "kind name"
	for range typeDepth {
		typeRef = "kind name ofType { " + typeRef + " }"
	}
	return `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) {
    name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type { ` + typeRef + ` }`
}

// BenchmarkCheckQuery is the cost of the check on a document seen for the
// first time (later ones hit the verdict cache).
func BenchmarkCheckQuery(b *testing.B) {
	for _, doc := range []struct{ name, query string }{
		{"me", `{ me { id identifier } }`},
		{"bomb40", fragmentBomb(40)},
		{"repeated999", repeated(999)},
		{"logins400", logins(400)},
	} {
		b.Run(doc.name, func(b *testing.B) {
			var l gqlutil.Limits
			for b.Loop() {
				_ = l.CheckQuery(doc.query)
			}
		})
	}
}

// BenchmarkValidateAtLimits is gqlparser's validation of the costliest
// documents the limits let through: its OverlappingFieldsCanBeMerged
// compares every pair of fields with one response name, so its work grows
// with the square of the fields (about 500,000 pairs at 1,000 fields).
func BenchmarkValidateAtLimits(b *testing.B) {
	schema := shopapi.NewExecutableSchema(shopapi.Config{}).Schema()
	var spreads strings.Builder
	spreads.WriteString("{ activeChannel { ")
	for i := range 100 {
		fmt.Fprintf(&spreads, "...F%d ", i)
	}
	spreads.WriteString("} }")
	for i := range 100 {
		fmt.Fprintf(&spreads, " fragment F%d on Channel { %s}", i, strings.Repeat("id ", 9))
	}
	for _, doc := range []struct{ name, query string }{
		{"repeated999", repeated(999)},
		{"nested31x31", "{ " + strings.Repeat("activeChannel { "+strings.Repeat("id ", 31)+"} ", 31) + "}"},
		{"fragments100x9", spreads.String()},
	} {
		require.Nil(b, gqlutil.Limits{}.CheckQuery(doc.query), doc.name)
		parsed, err := parser.ParseQuery(&ast.Source{Input: doc.query})
		require.NoError(b, err)
		b.Run(doc.name, func(b *testing.B) {
			for b.Loop() {
				require.Empty(b, validator.ValidateWithRules(schema, parsed, rules.NewDefaultRules()))
			}
		})
	}
}
