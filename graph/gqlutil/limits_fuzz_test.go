package gqlutil

import (
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/shopsession/sessionserver/graph/gqlerr"
)

// limitCodes are the codes a document may be refused with by CheckQuery.
var limitCodes = map[string]bool{
	gqlerr.CodeTokenLimit: true, gqlerr.CodeFieldLimit: true, gqlerr.CodeDepthLimit: true,
	gqlerr.CodeAliasLimit: true, gqlerr.CodeLoginLimit: true, gqlerr.CodeFragmentLimit: true,
	errcode.ParseFailed: true,
}

// FuzzCheckQuery checks Limits.CheckQuery on any text and any limits
// (zero: the default). It never panics; it passes the document or refuses
// it with one of the documented codes (the limits' own, or
// GRAPHQL_PARSE_FAILED) and a message; it answers the same twice. When the
// document parses and expanding its fragments in place is small and finds
// no cycle, the verdict is the one that expansion gives (the checker
// counts each fragment once instead), message included. A document that
// parses within a token limit gets the same verdict under a larger one.
func FuzzCheckQuery(f *testing.F) {
	bomb := func(levels int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "{ ...F%d } fragment F0 on Query { me { id } }", levels-1)
		for i := 1; i < levels; i++ {
			fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i-1, i-1)
		}
		return b.String()
	}
	for _, q := range []string{
		`{ me { id identifier } }`,
		`query Q($a: Int = 1) { activeChannel { id code ... on Channel { token } } }`,
		`{ a: me { b: id c: id } d: me { id } }`,
		`mutation { login(username: "a", password: "b") { __typename } }`,
		`mutation { a: login(username: "a", password: "b") { __typename } b: authenticate(input: {}) { __typename } }`,
		`mutation { ...L } fragment L on Mutation { login(username: "", password: "") { __typename } ...M } fragment M on Mutation { resetPassword { __typename } }`,
		`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A me { id } }`,
		`{ ...Missing }`,
		`{ ...A } fragment A on Query { me { id } } fragment A on Query { me { id identifier } }`,
		`fragment Unused on Query { me { ` + strings.Repeat("id ", 40) + `} }`,
		`{ me { id } } { me { id } } query { x }`,
		strings.Repeat("a { ", 20) + "id" + strings.Repeat(" }", 20),
		"{ activeChannel { " + strings.Repeat("id ", 60) + "} }",
		bomb(8), bomb(40),
		`subscription { me { id } }`,
		`{ me(x: [[[[1]]]], y: {a: {b: {c: $v}}}) @skip(if: true) { id } }`,
		`"""block""" { me { id } }`,
		`{`, `}`, `{ me { id }`, `query`, ``, `   `, `# only a comment`, `{ "unterminated }`, "{ me\x00 }", "{ \xff }",
	} {
		f.Add(q, uint16(0), uint8(0), uint8(0), uint8(0), uint8(0))
		f.Add(q, uint16(10), uint8(3), uint8(2), uint8(1), uint8(1))
	}
	f.Fuzz(func(t *testing.T, query string, maxTokens uint16, maxFields, maxDepth, maxAliases, maxFragments uint8) {
		l := Limits{
			MaxTokens: int(maxTokens), MaxFields: int(maxFields), MaxDepth: int(maxDepth),
			MaxAliases: int(maxAliases), MaxFragments: int(maxFragments),
		}
		got := l.CheckQuery(query)
		again := l.CheckQuery(query)
		require.Equal(t, describe(got), describe(again), "the same verdict twice")
		if got != nil {
			require.True(t, limitCodes[gqlerr.Code(got)], "undocumented code %q: %s", gqlerr.Code(got), got.Message)
			require.NotEmpty(t, got.Message)
		}

		doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, l.withDefaults().MaxTokens)
		if err != nil {
			require.NotNil(t, got, "a document that does not parse is refused")
			require.Contains(t, []string{gqlerr.CodeTokenLimit, errcode.ParseFailed}, gqlerr.Code(got))
			return
		}
		if want, ok := expandedVerdict(l, doc); ok {
			require.Equal(t, describe(want), describe(got), "the verdict of expanding every fragment")
		}
		larger := l
		larger.MaxTokens = 2 * l.withDefaults().MaxTokens
		require.Equal(t, describe(got), describe(larger.CheckQuery(query)), "a larger token limit changes nothing")
	})
}

func describe(e *gqlerror.Error) string {
	if e == nil {
		return "<nil>"
	}
	return gqlerr.Code(e) + ": " + e.Message
}

// expandedVerdict is the verdict of the limits on doc computed by
// expanding every fragment spread in place (the definition of the counts),
// in the checker's order: fragments, each operation, each fragment
// definition. ok is false when that is too much work or meets a cycle,
// which the checker cuts where the expansion cannot.
func expandedVerdict(l Limits, doc *ast.QueryDocument) (verdict *gqlerror.Error, ok bool) {
	l = l.withDefaults()
	if n := len(doc.Fragments); n > l.MaxFragments {
		return limitError(gqlerr.CodeFragmentLimit, "The query defines %d fragments; the limit is %d", n, l.MaxFragments), true
	}
	x := &expansion{doc: doc, budget: 20000}
	for _, op := range doc.Operations {
		s := x.selectionSet(op.SelectionSet, map[string]bool{})
		if x.spent() {
			return nil, false
		}
		if err := l.check("The query", s, op.Operation == ast.Mutation); err != nil {
			return err, true
		}
	}
	for _, def := range doc.Fragments {
		first := doc.Fragments.ForName(def.Name)
		s := x.selectionSet(first.SelectionSet, map[string]bool{def.Name: true})
		if x.spent() {
			return nil, false
		}
		if err := l.check(fmt.Sprintf("The fragment %q", def.Name), s, false); err != nil {
			return err, true
		}
	}
	return nil, true
}

// expansion counts a selection set with every fragment spread expanded
// where it stands, within a budget of selections visited.
type expansion struct {
	doc    *ast.QueryDocument
	budget int
	cycle  bool
}

func (x *expansion) spent() bool { return x.budget < 0 || x.cycle }

func (x *expansion) selectionSet(set ast.SelectionSet, active map[string]bool) stats {
	var s stats
	for _, sel := range set {
		if x.budget--; x.spent() {
			return s
		}
		switch sel := sel.(type) {
		case *ast.Field:
			sub := x.selectionSet(sel.SelectionSet, active)
			s.fields += 1 + sub.fields
			s.aliases += sub.aliases
			if sel.Alias != "" && sel.Alias != sel.Name {
				s.aliases++
			}
			s.depth = max(s.depth, 1+sub.depth)
			if credentialFields[sel.Name] {
				s.logins++
			}
		case *ast.InlineFragment:
			s.merge(x.selectionSet(sel.SelectionSet, active))
		case *ast.FragmentSpread:
			def := x.doc.Fragments.ForName(sel.Name)
			if def == nil {
				continue // unknown: validation refuses it
			}
			if active[sel.Name] {
				x.cycle = true
				return s
			}
			active[sel.Name] = true
			s.merge(x.selectionSet(def.SelectionSet, active))
			delete(active, sel.Name)
		}
	}
	return s
}

// TestCheckQueryStopsAtTheTokenLimit: the work of checking a document
// over the token limit does not grow with the document. A 1 MiB document
// (the largest body the POST transport reads) of half a million tokens
// costs no more allocations than a 64 KiB one: parsing stops at the limit.
// Not parallel: AllocsPerRun counts every allocation of the process.
func TestCheckQueryStopsAtTheTokenLimit(t *testing.T) {
	// doc is `{ a a … }` of exactly size bytes.
	doc := func(size int) string {
		q := "{ " + strings.Repeat("a ", (size-3)/2) + "}"
		return q + strings.Repeat(" ", size-len(q))
	}
	small, large := doc(64<<10), doc(maxBodyBytes)
	require.Equal(t, maxBodyBytes, len(large))
	var l Limits
	for _, q := range []string{small, large} {
		require.Equal(t, gqlerr.CodeTokenLimit, gqlerr.Code(l.CheckQuery(q)))
	}
	smallAllocs := testing.AllocsPerRun(5, func() { _ = l.CheckQuery(small) })
	largeAllocs := testing.AllocsPerRun(5, func() { _ = l.CheckQuery(large) })
	t.Logf("allocations: %v for 64 KiB, %v for 1 MiB", smallAllocs, largeAllocs)
	require.Less(t, largeAllocs, smallAllocs*1.1+10, "allocations: %v for 64 KiB, %v for 1 MiB", smallAllocs, largeAllocs)
	// Without the limit the tokens are all parsed: ten times the
	// allocations of the same document at a tenth of the size, give or
	// take. (This is what shows that the measure sees parsing.)
	unbounded := Limits{MaxTokens: 1 << 20, MaxFields: 1 << 20}
	short, long := doc(maxBodyBytes/40), doc(maxBodyBytes/4)
	shortAllocs := testing.AllocsPerRun(1, func() { _ = unbounded.CheckQuery(short) })
	longAllocs := testing.AllocsPerRun(1, func() { _ = unbounded.CheckQuery(long) })
	t.Logf("allocations without the limit: %v for 25.6 KiB, %v for 256 KiB", shortAllocs, longAllocs)
	require.Greater(t, longAllocs, 5*shortAllocs, "the measure sees parsing work: %v and %v", shortAllocs, longAllocs)
}
