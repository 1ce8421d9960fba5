package gqlutil

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/shopsession/sessionserver/graph/gqlerr"
)

// Defaults of Limits: MAX_QUERY_*'s (config leaves them to this package).
const (
	DefaultMaxTokens  = 15000
	DefaultMaxFields  = 1000
	DefaultMaxDepth   = 15
	DefaultMaxAliases = 30
	// DefaultMaxFragments is MAX_QUERY_FRAGMENTS's default.
	DefaultMaxFragments = 100
)

// maxLogins is how many credential fields one operation may select: one,
// so that a request cannot try many passwords, or start many bcrypt hashes
// or token deliveries, at once (30 aliased registrations would be 30
// hashes).
const maxLogins = 1

// credentialFields are the mutations that check or hash a password, or
// issue a verification or reset token; maxLogins bounds them together.
var credentialFields = map[string]bool{
	"login": true, "authenticate": true,
	"registerCustomerAccount": true, "refreshCustomerVerification": true, "verifyCustomerAccount": true,
	"updateCustomerPassword": true, "requestPasswordReset": true, "resetPassword": true,
}

// queryCacheBytes bounds the query text held by each document cache (the
// verdicts here, gqlgen's parsed documents in NewHandler): a count of
// entries would not bound memory, since one document may be a megabyte of
// white space around a small query, or up to MaxTokens of fields whose
// syntax tree takes ~70 times the bytes of their text. A storefront's few
// dozen documents of a few hundred bytes to a few KB each fit many times
// over.
const queryCacheBytes = 1 << 20

// Limits bound what one GraphQL document may ask for. They are checked on
// the parsed document before validation, complexity or execution, in time
// linear in the document's size: each fragment is counted once and its
// counts reused wherever it is spread. A zero field takes its default.
type Limits struct {
	// MaxTokens bounds the parser tokens of the whole document
	// (MAX_QUERY_TOKENS); parsing stops at the limit.
	MaxTokens int
	// MaxFields bounds the fields one operation selects, with every
	// fragment spread expanded (MAX_QUERY_FIELDS).
	MaxFields int
	// MaxDepth bounds how deeply one operation nests fields, fragments
	// expanded (MAX_QUERY_DEPTH); `{ me { id } }` is 2 deep.
	MaxDepth int
	// MaxAliases bounds the aliased fields of one operation, fragments
	// expanded (MAX_QUERY_ALIASES).
	MaxAliases int
	// MaxFragments bounds the fragment definitions of a document. gqlparser's
	// validation does work quadratic in their number (each definition is
	// walked with every fragment it reaches; every pair of fragments spread
	// side by side is compared): 500 one-field fragments spread in one
	// selection set, within every other limit, took ~0.3 s to validate.
	MaxFragments int
}

func (l Limits) withDefaults() Limits {
	if l.MaxTokens <= 0 {
		l.MaxTokens = DefaultMaxTokens
	}
	if l.MaxFields <= 0 {
		l.MaxFields = DefaultMaxFields
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAliases <= 0 {
		l.MaxAliases = DefaultMaxAliases
	}
	if l.MaxFragments <= 0 {
		l.MaxFragments = DefaultMaxFragments
	}
	return l
}

// CheckQuery parses query with the token limit and checks every operation
// of the document against the limits. It returns nil when the document is
// within them; otherwise a GraphQL error whose extensions.code says which
// limit (or GRAPHQL_PARSE_FAILED for a syntax error, as gqlgen would). A
// document that parses but is invalid (an unknown fragment, a fragment
// cycle) is left to validation: unknown fragments count as empty and a
// cycle is counted once around.
func (l Limits) CheckQuery(query string) *gqlerror.Error {
	l = l.withDefaults()
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, l.MaxTokens)
	if err != nil {
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			gqlErr = gqlerror.Wrap(err)
		}
		if gqlErr.Message == fmt.Sprintf("exceeded token limit of %d", l.MaxTokens) {
			return limitError(gqlerr.CodeTokenLimit, "The query has more than %d tokens; the limit is %d", l.MaxTokens, l.MaxTokens)
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		return gqlErr
	}
	return l.CheckDocument(doc)
}

// CheckDocument checks a parsed document against the limits (not the
// token limit, which only parsing can apply) and returns the first refusal,
// or nil. Every operation is checked, whichever one the request names, and
// so is every fragment definition: one that no operation spreads is refused
// by validation anyway, but only after validation has walked it and all it
// spreads. The login limit comes first: a request trying many passwords is
// told so, whatever else it exceeds.
func (l Limits) CheckDocument(doc *ast.QueryDocument) *gqlerror.Error {
	l = l.withDefaults()
	if n := len(doc.Fragments); n > l.MaxFragments {
		return limitError(gqlerr.CodeFragmentLimit, "The query defines %d fragments; the limit is %d", n, l.MaxFragments)
	}
	c := counter{doc: doc}
	for _, op := range doc.Operations {
		if err := l.check("The query", c.selectionSet(op.SelectionSet), op.Operation == ast.Mutation); err != nil {
			return err
		}
	}
	for _, def := range doc.Fragments {
		if err := l.check(fmt.Sprintf("The fragment %q", def.Name), c.fragment(def.Name), false); err != nil {
			return err
		}
	}
	return nil
}

// check holds the counts of an operation or a fragment to the limits;
// subject names it in the message.
func (l Limits) check(subject string, s stats, mutation bool) *gqlerror.Error {
	switch {
	case mutation && s.logins > maxLogins:
		return limitError(gqlerr.CodeLoginLimit, "%s selects login, authenticate or another password or token mutation %s times; the limit is %d per request", subject, count(s.logins), maxLogins)
	case s.fields > int64(l.MaxFields):
		return limitError(gqlerr.CodeFieldLimit, "%s selects %s fields; the limit is %d", subject, count(s.fields), l.MaxFields)
	case s.depth > int64(l.MaxDepth):
		return limitError(gqlerr.CodeDepthLimit, "%s nests fields %s levels deep; the limit is %d", subject, count(s.depth), l.MaxDepth)
	case s.aliases > int64(l.MaxAliases):
		return limitError(gqlerr.CodeAliasLimit, "%s uses %s aliases; the limit is %d", subject, count(s.aliases), l.MaxAliases)
	}
	return nil
}

func limitError(code, format string, args ...any) *gqlerror.Error {
	return gqlerr.New(code, fmt.Sprintf(format, args...))
}

// saturated caps every count: 2^40 fragment expansions are counted exactly,
// 2^100 stop here instead of wrapping around. Both operands of an addition
// are at most saturated, so the sum cannot overflow before it is capped.
const saturated int64 = 1 << 60

func add(a, b int64) int64 {
	if s := a + b; s < saturated {
		return s
	}
	return saturated
}

// count formats a count, "more than 2^60" once saturated.
func count(n int64) string {
	if n >= saturated {
		return fmt.Sprintf("more than %d", saturated)
	}
	return fmt.Sprint(n)
}

// stats are the counts of one selection set with its fragments expanded.
type stats struct {
	fields  int64 // fields selected
	aliases int64 // fields whose response name differs from their name
	depth   int64 // nesting of fields, 1 for a set of leaves
	logins  int64 // credentialFields at this level (not below)
}

// merge adds the counts of a fragment (inline or spread) to s: its fields
// sit at the same level as s's own.
func (s *stats) merge(o stats) {
	s.fields = add(s.fields, o.fields)
	s.aliases = add(s.aliases, o.aliases)
	s.logins = add(s.logins, o.logins)
	s.depth = max(s.depth, o.depth)
}

// counter walks one document; fragments are counted once, on first use.
type counter struct {
	doc   *ast.QueryDocument
	defs  map[string]*ast.FragmentDefinition // built on the first spread
	frags map[string]*stats
}

func (c *counter) selectionSet(set ast.SelectionSet) stats {
	var s stats
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			sub := c.selectionSet(sel.SelectionSet)
			s.fields = add(s.fields, add(1, sub.fields))
			s.aliases = add(s.aliases, sub.aliases)
			if sel.Alias != "" && sel.Alias != sel.Name {
				s.aliases = add(s.aliases, 1)
			}
			s.depth = max(s.depth, add(1, sub.depth))
			if credentialFields[sel.Name] {
				s.logins = add(s.logins, 1)
			}
		case *ast.InlineFragment:
			s.merge(c.selectionSet(sel.SelectionSet))
		case *ast.FragmentSpread:
			s.merge(c.fragment(sel.Name))
		}
	}
	return s
}

// fragment returns the counts of the named fragment, computing them on
// first use. An unknown fragment counts as empty, and so does a fragment
// reached again while it is being counted (a cycle): validation refuses
// both later, and neither can make this walk repeat itself.
func (c *counter) fragment(name string) stats {
	if s, ok := c.frags[name]; ok {
		return *s // zero while it is being counted: a cycle is cut here
	}
	if c.defs == nil {
		// Fragments.ForName scans the list: a map keeps many fragments linear.
		c.defs = make(map[string]*ast.FragmentDefinition, len(c.doc.Fragments))
		c.frags = make(map[string]*stats, len(c.doc.Fragments))
		for _, def := range c.doc.Fragments {
			if _, dup := c.defs[def.Name]; !dup { // the first wins, as in ForName
				c.defs[def.Name] = def
			}
		}
	}
	def := c.defs[name]
	if def == nil {
		return stats{}
	}
	s := &stats{}
	c.frags[name] = s
	*s = c.selectionSet(def.SelectionSet)
	return *s
}

// limitsExtension applies Limits to every request before gqlgen parses it
// (a graphql.OperationParameterMutator runs ahead of parsing, the query
// cache, validation, complexity and OperationContextMutators, on every
// transport). Verdicts are cached by query text, as gqlgen caches parsed
// documents, so a repeated document is looked up, not parsed again.
type limitsExtension struct {
	limits   Limits
	verdicts *QueryCache[*gqlerror.Error] // nil value: within the limits
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*limitsExtension)(nil)

func newLimitsExtension(l Limits) *limitsExtension {
	return &limitsExtension{limits: l.withDefaults(), verdicts: NewQueryCache[*gqlerror.Error](queryCacheBytes)}
}

func (*limitsExtension) ExtensionName() string { return "QueryLimits" }

func (*limitsExtension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters refuses a document over the limits, and any
// document once the request's context is done (its deadline passed or its
// client left), before and after checking it: nothing is parsed, validated
// or run for a request that is over.
func (e *limitsExtension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if ctx.Err() != nil {
		return contextError(ctx)
	}
	verdict, ok := e.verdicts.Get(ctx, p.Query)
	if !ok {
		verdict = e.limits.CheckQuery(p.Query)
		e.verdicts.Add(ctx, p.Query, verdict)
		if ctx.Err() != nil {
			return contextError(ctx)
		}
	}
	if verdict == nil {
		return nil
	}
	// gqlgen sets the path of the error it is handed: give each request its
	// own copy of the cached one.
	out := *verdict
	out.Extensions = maps.Clone(verdict.Extensions)
	return &out
}

// contextError is the error of a request whose context is done: its
// deadline passed (or its client left, which nobody will see).
func contextError(ctx context.Context) *gqlerror.Error {
	msg := gqlerr.MsgRequestTimeout
	if errors.Is(ctx.Err(), context.Canceled) {
		msg = gqlerr.MsgRequestCancelled
	}
	return gqlerr.New(gqlerr.CodeRequestTimeout, msg)
}

// isLimitCode reports whether code is one of the limits' refusals, which
// are answered with the HTTP status of a validation error.
func isLimitCode(code string) bool {
	switch code {
	case gqlerr.CodeTokenLimit, gqlerr.CodeFieldLimit, gqlerr.CodeDepthLimit, gqlerr.CodeAliasLimit, gqlerr.CodeLoginLimit, gqlerr.CodeFragmentLimit:
		return true
	}
	return false
}

// QueryCache is a least-recently-used cache keyed by query text and bounded
// by the total length of its keys (see queryCacheBytes), not by a count of
// entries. A query longer than a sixteenth of the budget is not cached: it
// is checked (or parsed) again each time, in time linear in its length. It
// implements graphql.Cache.
type QueryCache[V any] struct {
	mu     sync.Mutex
	budget int // bytes of keys
	used   int
	order  *list.List // of *cached[V], most recently used first
	items  map[string]*list.Element
}

type cached[V any] struct {
	key   string
	value V
}

var _ graphql.Cache[any] = (*QueryCache[any])(nil)

// NewQueryCache returns an empty cache whose keys may total budget bytes.
func NewQueryCache[V any](budget int) *QueryCache[V] {
	return &QueryCache[V]{budget: budget, order: list.New(), items: make(map[string]*list.Element)}
}

// Get returns the value cached for key.
func (c *QueryCache[V]) Get(_ context.Context, key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*cached[V]).value, true
	}
	var zero V
	return zero, false
}

// Add caches value for key, evicting the least recently used entries until
// the keys fit the budget.
func (c *QueryCache[V]) Add(_ context.Context, key string, value V) {
	if len(key) > c.budget/16 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value.(*cached[V]).value = value
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(&cached[V]{key: key, value: value})
	c.used += len(key)
	for c.used > c.budget {
		oldest := c.order.Back()
		e := c.order.Remove(oldest).(*cached[V])
		delete(c.items, e.key)
		c.used -= len(e.key)
	}
}
