package listquery_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/listquery"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.PostgreSQL) }

// item is the rows of the tests' own table.
type item struct {
	bun.BaseModel `bun:"table:lq_item,alias:i"`

	ID        int64     `bun:"id,pk"`
	Name      string    `bun:"name,notnull"`
	Note      *string   `bun:"note"`
	Price     int64     `bun:"price,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	Active    bool      `bun:"active,notnull"`
	OwnerID   *int64    `bun:"owner_id"`
	Kind      string    `bun:"kind,notnull"`
}

// items is a table with a field of every type and an enum.
var items = listquery.MustTable(listquery.Table{
	Noun: "items",
	Fields: []listquery.Field{
		{Name: "id", Type: listquery.ID, Column: "i.id", Sort: true},
		{Name: "name", Type: listquery.String, Column: "i.name", Sort: true},
		{Name: "note", Type: listquery.String, Column: "i.note"},
		{Name: "price", Type: listquery.Number, Column: "i.price", Sort: true},
		{Name: "createdAt", Type: listquery.Date, Column: "i.created_at", Sort: true},
		{Name: "active", Type: listquery.Boolean, Column: "i.active"},
		{Name: "ownerId", Type: listquery.ID, Column: "i.owner_id"},
		{Name: "kind", Type: listquery.String, Column: "i.kind", Ops: []listquery.Op{listquery.Eq, listquery.NotEq, listquery.In, listquery.NotIn},
			Values: []listquery.Value{{Name: "SMALL", Stored: []string{"s", "xs"}}, {Name: "LARGE", Stored: []string{"l"}}}, ValuesName: "ItemKind"},
	},
	MaxTake:     3,
	DefaultSort: []listquery.Sort{{Field: "id"}},
	TieBreak:    "i.id",
	Nested:      true,
})

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func str(s string) *string   { return &s }
func num(f float64) *float64 { return &f }
func yes(b bool) *bool       { return &b }
func at(t time.Time) *time.Time {
	return &t
}
func intp(n int) *int { return &n }

func filter(fields ...listquery.FieldFilter) *listquery.Filter {
	return &listquery.Filter{Fields: fields}
}

func by(name string, ops listquery.Operators) listquery.FieldFilter {
	return listquery.FieldFilter{Field: name, Ops: ops}
}

// newItems makes the table and its rows:
//
//	id name          note   price created_at  active owner kind
//	1  Apple         "red"  100   t0          true   7     s
//	2  banana split  nil    250   t0+1h       false  nil   xs
//	3  Cherry 50%    "a_b"  250   t0+2h       true   7     l
//	4  date\path     "x'y"  400   t0+3h       false  8     l
//	5  Elder?        nil    0     t0+4h       true   nil   s
func newItems(t *testing.T, db *bun.DB) {
	t.Helper()
	ctx := t.Context()
	_, err := db.NewCreateTable().Model((*item)(nil)).Exec(ctx)
	require.NoError(t, err)
	owner := func(n int64) *int64 { return &n }
	rows := []item{
		{ID: 1, Name: "Apple", Note: str("red"), Price: 100, CreatedAt: t0, Active: true, OwnerID: owner(7), Kind: "s"},
		{ID: 2, Name: "banana split", Price: 250, CreatedAt: t0.Add(time.Hour), Kind: "xs"},
		{ID: 3, Name: "Cherry 50%", Note: str("a_b"), Price: 250, CreatedAt: t0.Add(2 * time.Hour), Active: true, OwnerID: owner(7), Kind: "l"},
		{ID: 4, Name: `date\path`, Note: str("x'y"), Price: 400, CreatedAt: t0.Add(3 * time.Hour), OwnerID: owner(8), Kind: "l"},
		{ID: 5, Name: "Elder?", Price: 0, CreatedAt: t0.Add(4 * time.Hour), Active: true, Kind: "s"},
	}
	_, err = db.NewInsert().Model(&rows).Exec(ctx)
	require.NoError(t, err)
}

// list runs o on the table and returns the ids of the page and the total.
func list(t *testing.T, db *bun.DB, o listquery.Options) ([]int64, int) {
	t.Helper()
	q, err := items.Parse(o, db.Dialect().Name())
	require.NoError(t, err)
	var rows []item
	total, err := q.Apply(db.NewSelect().Model(&rows)).ScanAndCount(t.Context())
	require.NoError(t, listquery.QueryError(err))
	ids := []int64{}
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids, int(total)
}

func TestFilters(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		newItems(t, db)
		all := intp(3) // MaxTake; the totals show every match
		cases := []struct {
			name   string
			filter *listquery.Filter
			op     listquery.LogicalOperator
			want   []int64
			total  int
		}{
			{"no filter", nil, "", []int64{1, 2, 3}, 5},
			{"string eq", filter(by("name", &listquery.StringOperators{Eq: str("Apple")})), "", []int64{1}, 1},
			{"string eq is exact", filter(by("name", &listquery.StringOperators{Eq: str("apple")})), "", []int64{}, 0},
			{"notEq leaves out nulls", filter(by("note", &listquery.StringOperators{NotEq: str("red")})), "", []int64{3, 4}, 2},
			{"contains ignores case, trims", filter(by("name", &listquery.StringOperators{Contains: str(" BANANA ")})), "", []int64{2}, 1},
			{"contains % is literal", filter(by("name", &listquery.StringOperators{Contains: str("50%")})), "", []int64{3}, 1},
			{"contains _ is literal", filter(by("note", &listquery.StringOperators{Contains: str("_")})), "", []int64{3}, 1},
			{"contains backslash", filter(by("name", &listquery.StringOperators{Contains: str(`e\p`)})), "", []int64{4}, 1},
			{"contains quote", filter(by("note", &listquery.StringOperators{Contains: str("'")})), "", []int64{4}, 1},
			{"contains question mark", filter(by("name", &listquery.StringOperators{Contains: str("?")})), "", []int64{5}, 1},
			{"notContains", filter(by("name", &listquery.StringOperators{NotContains: str("a")})), "", []int64{3, 5}, 2},
			{"in", filter(by("name", &listquery.StringOperators{In: []string{"Apple", "Elder?", "none"}})), "", []int64{1, 5}, 2},
			{"in nothing", filter(by("name", &listquery.StringOperators{In: []string{}})), "", []int64{}, 0},
			{"notIn", filter(by("name", &listquery.StringOperators{NotIn: []string{"Apple", "Elder?"}})), "", []int64{2, 3, 4}, 3},
			{"notIn nothing", filter(by("name", &listquery.StringOperators{NotIn: []string{}})), "", []int64{1, 2, 3}, 5},
			{"isNull", filter(by("note", &listquery.StringOperators{IsNull: yes(true)})), "", []int64{2, 5}, 2},
			{"isNull false", filter(by("note", &listquery.StringOperators{IsNull: yes(false)})), "", []int64{1, 3, 4}, 3},
			{"operators of a field combine with AND", filter(by("name", &listquery.StringOperators{Contains: str("e"), NotEq: str("Apple")})), "", []int64{3, 4, 5}, 3},
			{"number eq", filter(by("price", &listquery.NumberOperators{Eq: num(250)})), "", []int64{2, 3}, 2},
			{"number lt", filter(by("price", &listquery.NumberOperators{Lt: num(250)})), "", []int64{1, 5}, 2},
			{"number lte", filter(by("price", &listquery.NumberOperators{Lte: num(250)})), "", []int64{1, 2, 3}, 4},
			{"number gt", filter(by("price", &listquery.NumberOperators{Gt: num(250)})), "", []int64{4}, 1},
			{"number gte fraction", filter(by("price", &listquery.NumberOperators{Gte: num(99.5)})), "", []int64{1, 2, 3}, 4},
			{"number between includes ends", filter(by("price", &listquery.NumberOperators{Between: &listquery.NumberRange{Start: 100, End: 250}})), "", []int64{1, 2, 3}, 3},
			{"date eq", filter(by("createdAt", &listquery.DateOperators{Eq: at(t0.Add(time.Hour))})), "", []int64{2}, 1},
			{"date eq in another zone", filter(by("createdAt", &listquery.DateOperators{Eq: at(t0.Add(time.Hour).In(time.FixedZone("X", 5*3600)))})), "", []int64{2}, 1},
			{"date before", filter(by("createdAt", &listquery.DateOperators{Before: at(t0.Add(2 * time.Hour))})), "", []int64{1, 2}, 2},
			{"date after", filter(by("createdAt", &listquery.DateOperators{After: at(t0.Add(2 * time.Hour))})), "", []int64{4, 5}, 2},
			{"date between", filter(by("createdAt", &listquery.DateOperators{Between: &listquery.DateRange{Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour)}})), "", []int64{2, 3, 4}, 3},
			{"boolean", filter(by("active", &listquery.BooleanOperators{Eq: yes(false)})), "", []int64{2, 4}, 2},
			{"id eq", filter(by("id", &listquery.IDOperators{Eq: str("3")})), "", []int64{3}, 1},
			{"id eq not a number", filter(by("id", &listquery.IDOperators{Eq: str("x")})), "", []int64{}, 0},
			{"id notEq not a number", filter(by("ownerId", &listquery.IDOperators{NotEq: str("x")})), "", []int64{1, 3, 4}, 3},
			{"id in", filter(by("id", &listquery.IDOperators{In: []string{"2", "x", "4"}})), "", []int64{2, 4}, 2},
			{"id notIn", filter(by("ownerId", &listquery.IDOperators{NotIn: []string{"7"}})), "", []int64{4}, 1},
			{"id notIn of no number", filter(by("id", &listquery.IDOperators{NotIn: []string{"x"}})), "", []int64{1, 2, 3}, 5},
			{"id isNull", filter(by("ownerId", &listquery.IDOperators{IsNull: yes(true)})), "", []int64{2, 5}, 2},
			{"enum eq stands for its stored values", filter(by("kind", &listquery.StringOperators{Eq: str("SMALL")})), "", []int64{1, 2, 5}, 3},
			{"enum notIn", filter(by("kind", &listquery.StringOperators{NotIn: []string{"SMALL"}})), "", []int64{3, 4}, 2},
			{"fields combine with AND", filter(by("price", &listquery.NumberOperators{Eq: num(250)}), by("active", &listquery.BooleanOperators{Eq: yes(true)})), "", []int64{3}, 1},
			{"fields combine with OR", filter(by("price", &listquery.NumberOperators{Eq: num(0)}), by("name", &listquery.StringOperators{Eq: str("Apple")})), listquery.Or, []int64{1, 5}, 2},
			{"_or group AND a field", &listquery.Filter{
				Fields: []listquery.FieldFilter{by("active", &listquery.BooleanOperators{Eq: yes(true)})},
				Or:     []*listquery.Filter{filter(by("id", &listquery.IDOperators{Eq: str("1")})), filter(by("id", &listquery.IDOperators{Eq: str("2")}))},
			}, "", []int64{1}, 1},
			{"_and group of ORs", &listquery.Filter{And: []*listquery.Filter{
				{Or: []*listquery.Filter{filter(by("price", &listquery.NumberOperators{Eq: num(250)})), filter(by("price", &listquery.NumberOperators{Eq: num(0)}))}},
				filter(by("active", &listquery.BooleanOperators{Eq: yes(true)})),
			}}, "", []int64{3, 5}, 2},
			{"a group member's fields combine with AND", &listquery.Filter{Or: []*listquery.Filter{
				filter(by("price", &listquery.NumberOperators{Eq: num(250)}), by("active", &listquery.BooleanOperators{Eq: yes(false)})),
				filter(by("id", &listquery.IDOperators{Eq: str("5")})),
			}}, listquery.Or, []int64{2, 5}, 2},
			{"empty groups and operators are no condition", &listquery.Filter{
				Fields: []listquery.FieldFilter{by("name", &listquery.StringOperators{})}, And: []*listquery.Filter{}, Or: []*listquery.Filter{{}},
			}, "", []int64{1, 2, 3}, 5},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ids, total := list(t, db, listquery.Options{Take: all, Filter: c.filter, FilterOperator: c.op})
				require.Equal(t, c.want, ids)
				require.Equal(t, c.total, total)
			})
		}
	})
}

func TestSortAndPage(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		newItems(t, db)
		page := func(o listquery.Options) []int64 {
			ids, total := list(t, db, o)
			require.Equal(t, 5, total)
			return ids
		}
		require.Equal(t, []int64{1, 2, 3}, page(listquery.Options{}), "the default sort, a page of MaxTake")
		require.Equal(t, []int64{1, 2, 3}, page(listquery.Options{Take: intp(0)}), "take 0 is the default page")
		require.Equal(t, []int64{3, 4}, page(listquery.Options{Skip: intp(2), Take: intp(2)}))
		require.Equal(t, []int64{}, page(listquery.Options{Skip: intp(5)}))
		require.Equal(t, []int64{4, 3, 2}, page(listquery.Options{Sort: []listquery.Sort{{Field: "price", Desc: true}}}),
			"equal prices by id, in the direction of the last key")
		require.Equal(t, []int64{5, 1, 2}, page(listquery.Options{Sort: []listquery.Sort{{Field: "price"}}}))
		require.Equal(t, []int64{3, 2, 1}, page(listquery.Options{Sort: []listquery.Sort{{Field: "price", Desc: true}, {Field: "createdAt", Desc: true}}, Skip: intp(1)}))
		require.Equal(t, []int64{5, 4, 3}, page(listquery.Options{Sort: []listquery.Sort{{Field: "createdAt", Desc: true}}}))
	})
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	type opts = listquery.Options
	cases := []struct {
		o    opts
		d    dialect.Name
		want string
	}{
		{opts{Skip: intp(-1)}, dialect.SQLite, "options.skip must not be negative, got -1"},
		{opts{Take: intp(-1)}, dialect.SQLite, "options.take must be between 0 and 3 (the maximum number of items that may be returned by a query), got -1"},
		{opts{Take: intp(4)}, dialect.SQLite, "options.take must be between 0 and 3 (the maximum number of items that may be returned by a query), got 4: Cannot take more than 3 results from a list query"},
		{opts{Sort: []listquery.Sort{{Field: "note"}}}, dialect.SQLite, "options.sort.note is not supported: items can be sorted by id, name, price and createdAt"},
		{opts{Sort: []listquery.Sort{{Field: "nope"}}}, dialect.SQLite, "options.sort.nope is not supported: items can be sorted by id, name, price and createdAt"},
		{opts{Filter: filter(by("nope", &listquery.StringOperators{Eq: str("x")}))}, dialect.SQLite,
			"options.filter.nope is not supported: items can be filtered by id (eq, notEq, in, notIn, isNull), name and note (eq, notEq, contains, notContains, in, notIn, regex, isNull), " +
				"price (eq, lt, lte, gt, gte, between, isNull), createdAt (eq, before, after, between, isNull), active (eq, isNull), ownerId (eq, notEq, in, notIn, isNull) and kind (eq, notEq, in, notIn)"},
		{opts{Filter: filter(by("kind", &listquery.StringOperators{Contains: str("S")}))}, dialect.SQLite, "options.filter.kind.contains is not supported: items can be filtered by"},
		{opts{Filter: filter(by("kind", &listquery.StringOperators{IsNull: yes(true)}))}, dialect.SQLite, "options.filter.kind.isNull is not supported"},
		{opts{Filter: filter(by("kind", &listquery.StringOperators{In: []string{"SMALL", "small"}}))}, dialect.SQLite, `options.filter.kind: "small" is not a ItemKind (SMALL, LARGE)`},
		{opts{Filter: filter(by("price", &listquery.StringOperators{Eq: str("1")}))}, dialect.SQLite, "options.filter.price takes NumberOperators, not StringOperators"},
		{opts{Filter: filter(by("name", &listquery.StringOperators{Regex: str("^A")}))}, dialect.SQLite, "options.filter.name.regex is not available on this server's database (SQLite has no regular expressions)"},
		{opts{Filter: filter(by("name", &listquery.StringOperators{Regex: str(strings.Repeat("a", 101))}))}, dialect.PG, "options.filter.name.regex must be at most 100 characters long"},
		{opts{Filter: filter(by("name", &listquery.StringOperators{Eq: str(strings.Repeat("é", 256))}))}, dialect.SQLite, "options.filter.name.eq must be at most 255 characters long"},
		{opts{Filter: filter(by("name", &listquery.StringOperators{Contains: str(strings.Repeat("a", 256))}))}, dialect.SQLite, "options.filter.name.contains must be at most 255 characters long"},
		{opts{Filter: filter(by("name", &listquery.StringOperators{NotContains: str("a\x00")}))}, dialect.SQLite, "options.filter.name.notContains must not contain a NUL character"},
		{opts{Filter: filter(by("name", &listquery.StringOperators{Regex: str("a\x00")}))}, dialect.PG, "options.filter.name.regex must not contain a NUL character"},
		{opts{Filter: filter(by("name", &listquery.StringOperators{In: []string{"a", "\x00"}}))}, dialect.SQLite, "options.filter.name.in: no value may contain a NUL character"},
		{opts{Filter: filter(by("id", &listquery.IDOperators{Eq: str("\x00")}))}, dialect.SQLite, "options.filter.id.eq must not contain a NUL character"},
		{opts{Filter: filter(by("name", &listquery.StringOperators{In: make([]string, 1001)}))}, dialect.SQLite, "options.filter.name.in may hold at most 1000 values, got 1001"},
		{opts{Filter: filter(by("id", &listquery.IDOperators{NotIn: []string{strings.Repeat("1", 256)}}))}, dialect.SQLite, "options.filter.id.notIn: each value must be at most 255 characters long"},
		{opts{Filter: &listquery.Filter{Or: []*listquery.Filter{{}, filter(by("nope", &listquery.BooleanOperators{Eq: yes(true)}))}}}, dialect.SQLite,
			"options.filter._or[1].nope is not supported"},
		{opts{Filter: nested(6)}, dialect.SQLite, "options.filter._and[0]._and[0]._and[0]._and[0]._and[0]._and[0]: filters nest at most 5 _and and _or groups deep"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			t.Parallel()
			_, err := items.Parse(c.o, c.d)
			require.ErrorIs(t, err, listquery.ErrInvalid)
			var lqErr *listquery.Error
			require.ErrorAs(t, err, &lqErr)
			require.True(t, strings.HasPrefix(err.Error(), c.want), "message %q", err.Error())
		})
	}
	_, err := items.Parse(opts{Filter: nested(5)}, dialect.SQLite)
	require.NoError(t, err, "five groups deep is allowed")
}

func isContains(o listquery.Operators) bool {
	s, ok := o.(*listquery.StringOperators)
	return ok && s.Contains != nil
}

// nested is a filter of depth _and groups, one inside the other.
func nested(depth int) *listquery.Filter {
	f := filter(by("id", &listquery.IDOperators{Eq: str("1")}))
	for range depth {
		f = &listquery.Filter{And: []*listquery.Filter{f}}
	}
	return f
}

// A table without nesting refuses _and and _or; its Check sees the
// options after the other checks.
func TestTableShape(t *testing.T) {
	t.Parallel()
	flat := listquery.MustTable(listquery.Table{
		Noun:     "things",
		Fields:   []listquery.Field{{Name: "a", Type: listquery.String, Column: "a", Ops: []listquery.Op{listquery.Eq}}, {Name: "b", Type: listquery.String, Column: "b", Ops: []listquery.Op{listquery.Eq}}},
		MaxTake:  10,
		TieBreak: "id",
		Check: func(o listquery.Options) error {
			if o.FilterOperator == listquery.Or {
				return listquery.Errorf("no OR here")
			}
			return nil
		},
	})
	_, err := flat.Parse(listquery.Options{Filter: &listquery.Filter{And: []*listquery.Filter{}}}, dialect.SQLite)
	require.EqualError(t, err, "options.filter._and is not supported: things can be filtered by a and b (eq)")
	_, err = flat.Parse(listquery.Options{Filter: filter(by("a", &listquery.StringOperators{Eq: str("x")})), FilterOperator: listquery.Or}, dialect.SQLite)
	require.EqualError(t, err, "no OR here")
	_, err = flat.Parse(listquery.Options{Filter: filter(by("c", &listquery.StringOperators{Eq: str("x")})), FilterOperator: listquery.Or}, dialect.SQLite)
	require.EqualError(t, err, "options.filter.c is not supported: things can be filtered by a and b (eq)", "the field checks come first")
	q, err := flat.Parse(listquery.Options{}, dialect.SQLite)
	require.NoError(t, err)
	require.Equal(t, 10, q.Take())
	require.Equal(t, 0, q.Skip())
}

func TestMustTableRefusesMistakes(t *testing.T) {
	t.Parallel()
	base := func(f listquery.Field) listquery.Table {
		return listquery.Table{Noun: "x", MaxTake: 1, TieBreak: "id", Fields: []listquery.Field{f}}
	}
	for name, tbl := range map[string]listquery.Table{
		"placeholder in a column":   base(listquery.Field{Name: "a", Type: listquery.String, Column: "a = ?"}),
		"operator of another type":  base(listquery.Field{Name: "a", Type: listquery.Boolean, Column: "a", Ops: []listquery.Op{listquery.Contains}}),
		"no type":                   base(listquery.Field{Name: "a", Column: "a"}),
		"reserved name":             base(listquery.Field{Name: "_or", Type: listquery.ID, Column: "a"}),
		"enum without its ops":      base(listquery.Field{Name: "a", Type: listquery.String, Column: "a", Values: []listquery.Value{{Name: "A"}}, ValuesName: "A"}),
		"enum with contains":        base(listquery.Field{Name: "a", Type: listquery.String, Column: "a", Ops: []listquery.Op{listquery.Contains}, Values: []listquery.Value{{Name: "A"}}, ValuesName: "A"}),
		"unsortable default sort":   {Noun: "x", MaxTake: 1, TieBreak: "id", Fields: []listquery.Field{{Name: "a", Type: listquery.ID, Column: "a"}}, DefaultSort: []listquery.Sort{{Field: "a"}}},
		"no page size":              {Noun: "x", TieBreak: "id"},
		"placeholder in tie-break":  {Noun: "x", MaxTake: 1, TieBreak: "?"},
		"two fields of one name":    {Noun: "x", MaxTake: 1, TieBreak: "id", Fields: []listquery.Field{{Name: "a", Type: listquery.ID, Column: "a"}, {Name: "a", Type: listquery.ID, Column: "b"}}},
		"a field without a column":  base(listquery.Field{Name: "a", Type: listquery.ID}),
		"values on a number field":  base(listquery.Field{Name: "a", Type: listquery.Number, Column: "a", Ops: []listquery.Op{listquery.Eq}, Values: []listquery.Value{{Name: "A"}}, ValuesName: "A"}),
		"values without their name": base(listquery.Field{Name: "a", Type: listquery.String, Column: "a", Ops: []listquery.Op{listquery.Eq}, Values: []listquery.Value{{Name: "A"}}}),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Panics(t, func() { listquery.MustTable(tbl) })
		})
	}
}

// Field names reach the SQL only through the table, and values only as
// bound arguments: a name or a value written to break out of its place
// is refused or matched as text, and the table is untouched.
func TestInjectionIsImpossible(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		newItems(t, db)
		attacks := []string{
			`x'; DROP TABLE lq_item; --`,
			`x' OR '1'='1`,
			`x" OR "1"="1`,
			`1 OR 1=1`,
			`?`, `?0`, `?name`,
			`\'; DELETE FROM lq_item; --`,
			`%' OR name LIKE '%`,
		}
		for _, a := range attacks {
			// As a value of every string and ID operator: each matches as
			// text (nothing) and the rows stay.
			for _, f := range []*listquery.Filter{
				filter(by("name", &listquery.StringOperators{Eq: str(a)})),
				filter(by("name", &listquery.StringOperators{Contains: str(a)})),
				filter(by("name", &listquery.StringOperators{In: []string{a, a}})),
				filter(by("note", &listquery.StringOperators{NotEq: str(a)}), by("note", &listquery.StringOperators{NotIn: []string{a}})),
				filter(by("id", &listquery.IDOperators{Eq: str(a)})),
				filter(by("id", &listquery.IDOperators{In: []string{a}})),
			} {
				ids, _ := list(t, db, listquery.Options{Filter: f})
				want := []int64{}
				switch {
				case f.Fields[0].Field == "note":
					want = []int64{1, 3, 4}
				case a == "?" && isContains(f.Fields[0].Ops):
					want = []int64{5} // "Elder?": the question mark is text
				}
				require.Equal(t, want, ids, "%q", a)
			}
			// As a field name, in a filter, a group or a sort: refused,
			// naming it, and never written into a statement.
			for _, o := range []listquery.Options{
				{Filter: filter(by(a, &listquery.StringOperators{Eq: str("x")}))},
				{Filter: &listquery.Filter{And: []*listquery.Filter{filter(by(a, &listquery.IDOperators{Eq: str("1")}))}}},
				{Sort: []listquery.Sort{{Field: a}}},
			} {
				_, err := items.Parse(o, db.Dialect().Name())
				require.ErrorIs(t, err, listquery.ErrInvalid)
				require.Contains(t, err.Error(), a+" is not supported")
			}
		}
		n, err := db.NewSelect().Model((*item)(nil)).Count(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 5, n)

		// The statement holds the table's columns and bound values only.
		q, err := items.Parse(listquery.Options{Filter: filter(by("name", &listquery.StringOperators{Eq: str(`x'; DROP TABLE lq_item; --`)}))}, db.Dialect().Name())
		require.NoError(t, err)
		sql := q.Apply(db.NewSelect().Model((*item)(nil))).String()
		require.Contains(t, sql, `i.name = 'x''; DROP TABLE lq_item; --'`)
	})
}

// A regex is PostgreSQL's ~*, case-insensitive; a pattern PostgreSQL
// refuses is the client's error.
func TestRegex(t *testing.T) {
	t.Parallel()
	db := testenv.PostgresDB(t)
	newItems(t, db)
	ids, total := list(t, db, listquery.Options{Filter: filter(by("name", &listquery.StringOperators{Regex: str("^(apple|CHERRY)")}))})
	require.Equal(t, []int64{1, 3}, ids)
	require.Equal(t, 2, total)

	q, err := items.Parse(listquery.Options{Filter: filter(by("name", &listquery.StringOperators{Regex: str("(unclosed")}))}, dialect.PG)
	require.NoError(t, err)
	_, err = q.Apply(db.NewSelect().Model(&[]item{})).ScanAndCount(context.Background())
	err = listquery.QueryError(err)
	require.ErrorIs(t, err, listquery.ErrInvalid)
	require.Contains(t, err.Error(), "options.filter: a regex is not a valid regular expression")
}
