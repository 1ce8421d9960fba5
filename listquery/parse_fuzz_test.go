package listquery

import (
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// fuzzFields are the fields of the fuzz target's lists: one of each type,
// an enum, a field with a few operators and a sort-only one.
var fuzzFields = []Field{
	{Name: "id", Type: ID, Column: "r.id", Sort: true},
	{Name: "name", Type: String, Column: "r.name", Sort: true},
	{Name: "price", Type: Number, Column: "r.price", Sort: true},
	{Name: "createdAt", Type: Date, Column: "r.created_at", Sort: true},
	{Name: "active", Type: Boolean, Column: "r.active"},
	{Name: "kind", Type: String, Column: "r.kind", Ops: []Op{Eq, NotEq, In, NotIn, IsNull},
		Values: []Value{{Name: "SMALL", Stored: []string{"s", "xs"}}, {Name: "LARGE", Stored: []string{"l"}}}, ValuesName: "Kind"},
	{Name: "code", Type: String, Column: "r.code", Ops: []Op{Eq, In}},
	{Name: "secret", Type: String, Column: "r.secret", NoFilter: true, Sort: true},
}

var (
	fuzzNested = MustTable(Table{Noun: "rows", Fields: fuzzFields, MaxTake: 50, DefaultSort: []Sort{{Field: "id"}}, TieBreak: "r.id", Nested: true})
	fuzzFlat   = MustTable(Table{Noun: "rows", Fields: fuzzFields, MaxTake: 50, TieBreak: "r.id"})
)

// fuzzOptions is list options as JSON: the GraphQL input's shape, with the
// filter's fields as object members ("_and" and "_or" hold lists of
// filters). A member named "field#n" has the operators of the n-th type
// instead of the field's own.
type fuzzOptions struct {
	Skip, Take     *int
	Sort           []Sort
	Filter         json.RawMessage
	FilterOperator LogicalOperator
}

// toOptions converts fuzzed JSON to Options, or says it is not options.
func toOptions(data []byte, t *Table) (Options, bool) {
	var in fuzzOptions
	if json.Unmarshal(data, &in) != nil {
		return Options{}, false
	}
	o := Options{Skip: in.Skip, Take: in.Take, Sort: in.Sort, FilterOperator: in.FilterOperator}
	if len(in.Filter) > 0 {
		f, ok := toFilter(in.Filter, t)
		if !ok {
			return Options{}, false
		}
		o.Filter = f
	}
	return o, true
}

func toFilter(raw json.RawMessage, t *Table) (*Filter, bool) {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return nil, false
	}
	if members == nil {
		return nil, true
	}
	f := &Filter{}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		value := members[name]
		if name == "_and" || name == "_or" {
			var list []json.RawMessage
			if json.Unmarshal(value, &list) != nil {
				return nil, false
			}
			group := []*Filter{}
			if list == nil {
				group = nil
			}
			for _, m := range list {
				sub, ok := toFilter(m, t)
				if !ok {
					return nil, false
				}
				group = append(group, sub)
			}
			if name == "_and" {
				f.And = group
			} else {
				f.Or = group
			}
			continue
		}
		field, typeName, _ := strings.Cut(name, "#")
		typ := String
		if def := t.field(field); def != nil {
			typ = def.Type
		}
		if n, err := strconv.Atoi(typeName); err == nil {
			typ = Type(1 + (n%5+5)%5)
		}
		ops := map[Type]Operators{
			String: &StringOperators{}, Number: &NumberOperators{}, Date: &DateOperators{}, Boolean: &BooleanOperators{}, ID: &IDOperators{},
		}[typ]
		if string(value) == "null" {
			ops = map[Type]Operators{
				String: (*StringOperators)(nil), Number: (*NumberOperators)(nil), Date: (*DateOperators)(nil),
				Boolean: (*BooleanOperators)(nil), ID: (*IDOperators)(nil),
			}[typ]
		} else if json.Unmarshal(value, ops) != nil {
			return nil, false
		}
		f.Fields = append(f.Fields, FieldFilter{Field: field, Ops: ops})
	}
	return f, true
}

// sqlToken is one token of the SQL a Query writes: white space, a
// parenthesis, a placeholder, a comma, a comparison, the escape character
// of LIKE, a word or a column, or a number.
var sqlToken = regexp.MustCompile(`^(\s+|[(),?]|<>|<=|>=|[=<>]|~\*|'\\'|[A-Za-z_][A-Za-z_0-9]*(\.[a-z_]+)?|[0-9]+)`)

// sqlWords are the only words and columns a Query's SQL may hold.
var sqlWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields("AND OR NOT IN IS NULL LIKE ESCAPE LOWER BETWEEN ASC DESC") {
		m[w] = true
	}
	for _, f := range fuzzFields {
		m[f.Column] = true
	}
	return m
}()

// requireOnlySQLOf checks that sql is made of sqlToken tokens only, and its
// words are sqlWords: nothing a client sent is in it.
func requireOnlySQLOf(t *testing.T, sql string) {
	t.Helper()
	for rest := sql; rest != ""; {
		m := sqlToken.FindString(rest)
		require.NotEmpty(t, m, "unexpected SQL at %q in %q", rest, sql)
		if c := m[0]; c == '_' || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') {
			require.True(t, sqlWords[m], "unexpected word %q in %q", m, sql)
		}
		rest = rest[len(m):]
	}
}

// FuzzParse checks Table.Parse on any list options (as JSON) for both
// dialects, with and without nested groups. It never panics. A refusal is
// an *Error (errors.Is ErrInvalid) whose message names the option
// ("options.…"). An accepted query has a page of 1 to MaxTake items from a
// skip of 0 or more; its condition and order hold only columns, operators
// and one placeholder per argument (every value is bound, none is written
// into the SQL); no argument holds a NUL; a regex is never asked of SQLite;
// and the query runs on SQLite without error, returning at most a page.
func FuzzParse(f *testing.F) {
	db := testenv.SQLiteDB(f)
	pg := bun.NewDB(db.DB, pgdialect.New()) // formats statements only
	_, err := db.ExecContext(f.Context(), `CREATE TABLE fuzz_row (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL,
		created_at TIMESTAMP, active BOOLEAN, kind TEXT, code TEXT, secret TEXT)`)
	require.NoError(f, err)
	_, err = db.ExecContext(f.Context(), `INSERT INTO fuzz_row VALUES (1, 'Apple', 1.5, '2026-01-01 00:00:00', 1, 's', 'a', 'x'),
		(2, 'b%_\', NULL, NULL, 0, 'l', NULL, NULL), (3, 'x''y', -3, '2026-02-01 00:00:00', NULL, 'xs', 'c', 'z')`)
	require.NoError(f, err)

	for _, seed := range []string{
		`{}`, `{"Skip":0,"Take":0}`, `{"Skip":-1}`, `{"Take":51}`, `{"Take":-1}`, `{"Skip":9223372036854775807,"Take":50}`,
		`{"Sort":[{"Field":"name","Desc":true},{"Field":"id"}]}`, `{"Sort":[{"Field":"active"}]}`, `{"Sort":[{"Field":"secret"}]}`,
		`{"Filter":{"name":{"eq":"Apple","contains":" PP ","notIn":[]}}}`,
		`{"Filter":{"name":{"contains":"%_\\"},"price":{"between":{"start":1,"end":-1}}},"FilterOperator":"OR"}`,
		`{"Filter":{"createdAt":{"before":"2026-01-01T00:00:00Z","between":{"start":"2026-01-01T00:00:00+02:00","end":"0001-01-01T00:00:00Z"}}}}`,
		`{"Filter":{"id":{"in":["1","x","-9223372036854775809"],"notEq":"y"},"kind":{"notIn":["SMALL"],"eq":"LARGE"}}}`,
		`{"Filter":{"kind":{"eq":"MEDIUM"}}}`, `{"Filter":{"kind":{"contains":"S"}}}`, `{"Filter":{"code":{"notEq":"a"}}}`,
		`{"Filter":{"secret":{"eq":"x"}}}`, `{"Filter":{"nope":{"eq":"x"}}}`, `{"Filter":{"price#0":{"eq":"1"}}}`,
		`{"Filter":{"name":{"regex":"^A"}}}`, `{"Filter":{"name":{"eq":"a\u0000"}}}`, `{"Filter":{"name":{"in":["a\u0000"]}}}`,
		`{"Filter":{"name":null,"active":{"eq":false,"isNull":true}}}`,
		`{"Filter":{"_and":[{"name":{"eq":"Apple"}},null,{"_or":[{"price":{"gt":1}},{"active":{"eq":true}}]}],"_or":[]}}`,
		`{"Filter":{"_and":[{"_and":[{"_and":[{"_and":[{"_and":[{"_and":[{"name":{"eq":"x"}}]}]}]}]}]}]}}`,
		`{"Filter":{"name":{"eq":"x' OR 1=1 --"},"code":{"in":["?", "$1", "')"]}}}`,
		`{"Filter":{"name":{"eq":"` + strings.Repeat("é", 256) + `"}}}`,
	} {
		f.Add([]byte(seed), false, false)
		f.Add([]byte(seed), true, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, postgres, flat bool) {
		table, d := fuzzNested, dialect.SQLite
		if flat {
			table = fuzzFlat
		}
		if postgres {
			d = dialect.PG
		}
		o, ok := toOptions(data, table)
		if !ok {
			return
		}
		q, err := table.Parse(o, d)
		if err != nil {
			require.Nil(t, q)
			require.ErrorIs(t, err, ErrInvalid)
			var e *Error
			require.True(t, errors.As(err, &e), "%T: %v", err, err)
			require.True(t, strings.HasPrefix(err.Error(), "options."), err.Error())
			return
		}

		require.GreaterOrEqual(t, q.Skip(), 0)
		require.GreaterOrEqual(t, q.Take(), 1)
		require.LessOrEqual(t, q.Take(), table.MaxTake)
		if o.Skip != nil {
			require.Equal(t, *o.Skip, q.Skip())
		}
		if o.Take != nil && *o.Take > 0 {
			require.Equal(t, *o.Take, q.Take())
		}
		requireOnlySQLOf(t, q.where)
		requireOnlySQLOf(t, q.order)
		require.Equal(t, strings.Count(q.where, "?"), len(q.args), "one placeholder per argument: %s", q.where)
		for _, a := range q.args {
			switch a := a.(type) {
			case string:
				require.NotContains(t, a, "\x00")
			case bun.ListValues, int64, float64, bool, time.Time:
			default:
				t.Fatalf("argument of type %T", a)
			}
		}
		if !postgres {
			require.NotContains(t, q.where, "~*", "no regex on SQLite")
			var ids []int64
			err := q.Apply(db.NewSelect().TableExpr("fuzz_row AS r").Column("r.id")).Scan(t.Context(), &ids)
			require.NoError(t, err, "%s ORDER BY %s %v", q.where, q.order, q.args)
			require.LessOrEqual(t, len(ids), q.Take())
		} else {
			sql := q.Apply(pg.NewSelect().TableExpr("fuzz_row AS r").Column("r.id")).String()
			require.True(t, strings.HasPrefix(sql, `SELECT "r"."id" FROM fuzz_row AS r`), sql)
		}
	})
}
