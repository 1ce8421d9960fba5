package listquery

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/database"
)

// Query is a checked request for a page of a list: its page bounds, its
// condition and its order, ready to be added to a select.
type Query struct {
	skip, take int
	where      string // SQL with bun placeholders; "" is no condition
	args       []any
	order      string
}

// Skip is the number of items the page skips.
func (q *Query) Skip() int { return q.skip }

// Take is the page size.
func (q *Query) Take() int { return q.take }

// Where adds the filter's condition to sq, as one parenthesised term
// (nothing when the request has no filter).
func (q *Query) Where(sq *bun.SelectQuery) *bun.SelectQuery {
	if q.where == "" {
		return sq
	}
	return sq.Where(q.where, q.args...)
}

// Page adds the order, offset and limit to sq.
func (q *Query) Page(sq *bun.SelectQuery) *bun.SelectQuery {
	return sq.OrderExpr(q.order).Offset(int64(q.skip)).Limit(int64(q.take))
}

// Apply adds the condition, order, offset and limit to sq: bun's
// ScanAndCount then reads the page and counts every match.
func (q *Query) Apply(sq *bun.SelectQuery) *bun.SelectQuery { return q.Page(q.Where(sq)) }

// QueryError maps an error of running a list query: PostgreSQL's refusal
// of a regex filter's pattern is the client's (an *Error); any other error
// is returned as it is.
func QueryError(err error) error {
	if msg, ok := database.InvalidRegex(err); ok {
		return Errorf("options.filter: a regex is not a valid regular expression (%s)", msg)
	}
	return err
}

// Parse checks o against the table for a database of dialect d and
// returns the query it asks for, or an *Error naming the first option the
// list does not serve.
func (t *Table) Parse(o Options, d dialect.Name) (*Query, error) {
	q := &Query{take: t.MaxTake}
	if o.Skip != nil {
		if *o.Skip < 0 {
			return nil, Errorf("options.skip must not be negative, got %d", *o.Skip)
		}
		q.skip = *o.Skip
	}
	if o.Take != nil {
		n := *o.Take
		bound := fmt.Sprintf("options.take must be between 0 and %d (the maximum number of items that may be returned by a query), got %d", t.MaxTake, n)
		switch {
		case n < 0:
			return nil, Errorf("%s", bound)
		case n > t.MaxTake:
			// Vendure's words follow.
			return nil, Errorf("%s: Cannot take more than %d results from a list query", bound, t.MaxTake)
		case n > 0:
			q.take = n
		}
	}
	order, err := t.order(o.Sort)
	if err != nil {
		return nil, err
	}
	q.order = order
	if o.Filter != nil {
		p := parser{t: t, pg: d == dialect.PG}
		op := And
		if o.FilterOperator == Or {
			op = Or
		}
		where, err := p.filter(o.Filter, "options.filter", op, 0)
		if err != nil {
			return nil, err
		}
		if where != "" {
			q.where, q.args = "("+where+")", p.args
		}
	}
	if t.Check != nil {
		if err := t.Check(o); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// order is the ORDER BY of a request's sort keys (the table's default
// without any), ended by the tie-break column.
func (t *Table) order(keys []Sort) (string, error) {
	if len(keys) == 0 {
		keys = t.DefaultSort
	}
	var parts []string
	last, desc := "", false
	for _, k := range keys {
		f := t.field(k.Field)
		if f == nil || !f.Sort {
			return "", Errorf("options.sort.%s is not supported: %s can be sorted by %s", k.Field, t.Noun, t.sortSummary())
		}
		last, desc = f.Column, k.Desc
		parts = append(parts, f.Column+direction(desc))
	}
	if last != t.TieBreak {
		parts = append(parts, t.TieBreak+direction(desc))
	}
	return strings.Join(parts, ", "), nil
}

func direction(desc bool) string {
	if desc {
		return " DESC"
	}
	return " ASC"
}

// parser builds a filter's condition, collecting its arguments in order.
type parser struct {
	t    *Table
	pg   bool
	args []any
}

// filter returns the condition of f (at path) with its terms combined by
// op, or "" when it sets none.
func (p *parser) filter(f *Filter, path string, op LogicalOperator, depth int) (string, error) {
	if depth > MaxDepth {
		return "", Errorf("%s: filters nest at most %d _and and _or groups deep", path, MaxDepth)
	}
	var terms []string
	for _, ff := range f.Fields {
		if ff.Ops == nil || reflect.ValueOf(ff.Ops).IsNil() {
			continue
		}
		term, err := p.field(ff, path)
		if err != nil {
			return "", err
		}
		if term != "" {
			terms = append(terms, term)
		}
	}
	for _, g := range []struct {
		name    string
		members []*Filter
		op      LogicalOperator
	}{{"_and", f.And, And}, {"_or", f.Or, Or}} {
		if g.members == nil {
			continue
		}
		if !p.t.Nested {
			return "", p.notSupported(path + "." + g.name)
		}
		var group []string
		for i, m := range g.members {
			if m == nil {
				continue
			}
			term, err := p.filter(m, fmt.Sprintf("%s.%s[%d]", path, g.name, i), And, depth+1)
			if err != nil {
				return "", err
			}
			if term != "" {
				group = append(group, "("+term+")")
			}
		}
		if len(group) > 0 {
			terms = append(terms, "("+strings.Join(group, " "+string(g.op)+" ")+")")
		}
	}
	return strings.Join(terms, " "+string(op)+" "), nil
}

func (p *parser) notSupported(what string) *Error {
	return Errorf("%s is not supported: %s can be filtered by %s", what, p.t.Noun, p.t.filterSummary())
}

// field returns the condition of one field's operators, combined with AND.
func (p *parser) field(ff FieldFilter, path string) (string, error) {
	f := p.t.field(ff.Field)
	at := path + "." + ff.Field
	if f == nil || len(f.ops()) == 0 {
		return "", p.notSupported(at)
	}
	if ff.Ops.Type() != f.Type {
		return "", Errorf("%s takes %s, not %s", at, f.Type, ff.Ops.Type())
	}
	operands := ff.Ops.operands()
	for _, o := range operands {
		if !slices.Contains(f.ops(), o.op) {
			return "", p.notSupported(at + "." + string(o.op))
		}
	}
	var terms []string
	for _, o := range operands {
		term, err := p.operand(f, at, o)
		if err != nil {
			return "", err
		}
		terms = append(terms, term)
	}
	if len(terms) > 1 {
		return "(" + strings.Join(terms, " AND ") + ")", nil
	}
	return strings.Join(terms, ""), nil
}

// Conditions that need no column.
const (
	matchNone = "1 = 0"
	matchAll  = "1 = 1"
)

// operand returns the condition of one operator of field f (at path at),
// its value bound as an argument.
func (p *parser) operand(f *Field, at string, o operand) (string, error) {
	c := f.Column
	if o.op == IsNull {
		if o.value.(bool) {
			return c + " IS NULL", nil
		}
		return c + " IS NOT NULL", nil
	}
	switch f.Type {
	case String:
		if f.Values != nil {
			return p.enum(f, at, o)
		}
		return p.text(c, at, o)
	case ID:
		return p.id(c, at, o)
	case Number:
		return p.compare(c, o), nil
	case Date:
		if r, ok := o.value.([2]time.Time); ok {
			o.value = [2]time.Time{r[0].UTC(), r[1].UTC()}
		} else {
			o.value = o.value.(time.Time).UTC()
		}
		return p.compare(c, o), nil
	case Boolean:
		return p.bind(c+" = ?", o.value), nil
	}
	return "", fmt.Errorf("listquery: field %s has no type", f.Name)
}

func (p *parser) bind(term string, args ...any) string {
	p.args = append(p.args, args...)
	return term
}

// compare is the condition of a number's or a date's operator.
func (p *parser) compare(c string, o operand) string {
	switch o.op {
	case Lt, Before:
		return p.bind(c+" < ?", o.value)
	case Lte:
		return p.bind(c+" <= ?", o.value)
	case Gt, After:
		return p.bind(c+" > ?", o.value)
	case Gte:
		return p.bind(c+" >= ?", o.value)
	case Between:
		switch r := o.value.(type) {
		case [2]float64:
			return p.bind(c+" BETWEEN ? AND ?", r[0], r[1])
		case [2]time.Time:
			return p.bind(c+" BETWEEN ? AND ?", r[0], r[1])
		}
	}
	return p.bind(c+" = ?", o.value)
}

// text is the condition of a string operator.
func (p *parser) text(c, at string, o operand) (string, error) {
	if list, ok := o.value.([]string); ok {
		if err := checkList(at+"."+string(o.op), list); err != nil {
			return "", err
		}
		return p.list(c, o.op, anys(list)), nil
	}
	v := o.value.(string)
	if err := checkValue(at+"."+string(o.op), v); err != nil {
		return "", err
	}
	if o.op == Regex {
		if !p.pg {
			return "", Errorf("%s.regex is not available on this server's database (SQLite has no regular expressions): use eq, contains or in", at)
		}
		if utf8.RuneCountInString(v) > MaxRegexLength {
			return "", Errorf("%s.regex must be at most %d characters long", at, MaxRegexLength)
		}
		return p.bind(c+" ~* ?", v), nil
	}
	if utf8.RuneCountInString(v) > MaxValueLength {
		return "", Errorf("%s.%s must be at most %d characters long", at, o.op, MaxValueLength)
	}
	switch o.op {
	case NotEq:
		return p.bind(c+" <> ?", v), nil
	case Contains:
		return p.bind("LOWER("+c+`) LIKE ? ESCAPE '\'`, likePattern(v)), nil
	case NotContains:
		return p.bind("LOWER("+c+`) NOT LIKE ? ESCAPE '\'`, likePattern(v)), nil
	}
	return p.bind(c+" = ?", v), nil
}

// enum is the condition of an enum field's operator: its values stand for
// their stored values.
func (p *parser) enum(f *Field, at string, o operand) (string, error) {
	names, ok := o.value.([]string)
	if ok {
		if err := checkList(at+"."+string(o.op), names); err != nil {
			return "", err
		}
	} else {
		names = []string{o.value.(string)}
		if err := checkValue(at+"."+string(o.op), names[0]); err != nil {
			return "", err
		}
	}
	var stored []any
	for _, name := range names {
		i := slices.IndexFunc(f.Values, func(v Value) bool { return v.Name == name })
		if i < 0 {
			return "", Errorf("%s: %q is not a %s (%s)", at, name, f.ValuesName, f.valueNames())
		}
		for _, s := range f.Values[i].Stored {
			stored = append(stored, s)
		}
	}
	op := In
	if o.op == NotEq || o.op == NotIn {
		op = NotIn
	}
	return p.list(f.Column, op, stored), nil
}

// id is the condition of an ID operator. IDs are numbers: a value that is
// not one names no row, so eq and in match nothing by it and notEq and
// notIn exclude nothing by it.
func (p *parser) id(c, at string, o operand) (string, error) {
	if list, ok := o.value.([]string); ok {
		if err := checkList(at+"."+string(o.op), list); err != nil {
			return "", err
		}
		var ids []any
		for _, s := range list {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				ids = append(ids, n)
			}
		}
		return p.list(c, o.op, ids), nil
	}
	v := o.value.(string)
	if err := checkValue(at+"."+string(o.op), v); err != nil {
		return "", err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil && o.op == NotEq:
		return c + " IS NOT NULL", nil
	case err != nil:
		return matchNone, nil
	case o.op == NotEq:
		return p.bind(c+" <> ?", n), nil
	}
	return p.bind(c+" = ?", n), nil
}

// list is the condition of in or notIn over values.
func (p *parser) list(c string, op Op, values []any) string {
	switch {
	case len(values) == 0 && op == NotIn:
		return matchAll
	case len(values) == 0:
		return matchNone
	case op == NotIn:
		return p.bind(c+" NOT IN (?)", bun.List(values))
	}
	return p.bind(c+" IN (?)", bun.List(values))
}

// checkList bounds an in or notIn list (at path) and its values.
func checkList(path string, list []string) error {
	if len(list) > MaxValues {
		return Errorf("%s may hold at most %d values, got %d", path, MaxValues, len(list))
	}
	for _, s := range list {
		if utf8.RuneCountInString(s) > MaxValueLength {
			return Errorf("%s: each value must be at most %d characters long", path, MaxValueLength)
		}
		if strings.ContainsRune(s, 0) {
			return Errorf("%s: no value may contain a NUL character", path)
		}
	}
	return nil
}

// checkValue refuses a value (at path) with a NUL character, which no
// stored text holds and bun does not bind. (The GraphQL layer refuses it
// first; the check keeps every caller to the same rule.)
func checkValue(path, v string) error {
	if strings.ContainsRune(v, 0) {
		return Errorf("%s must not contain a NUL character", path)
	}
	return nil
}

// likePattern is a contains value as a LIKE pattern on a lower-cased
// column: trimmed (as Vendure does), lower-cased, its wildcards and the
// escape character escaped.
func likePattern(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(v) + "%"
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
