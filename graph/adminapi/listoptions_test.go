package adminapi

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/catalog"
	"github.com/shopsession/sessionserver/service/session"
)

func TestListOptionsConversion(t *testing.T) {
	t.Parallel()
	desc, asc := model.SortOrderDesc, model.SortOrderAsc
	or := model.LogicalOperatorOr
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	in := &model.SessionListOptions{
		Skip: ptr(3), Take: ptr(4),
		Sort: &model.SessionSortParameter{Expires: &asc, CreatedAt: &desc},
		Filter: &model.SessionFilterParameter{
			Type:      &listquery.StringOperators{Eq: ptr("ANONYMOUS")},
			CreatedAt: &listquery.DateOperators{After: &day},
			Or: []*model.SessionFilterParameter{
				{UserID: &listquery.IDOperators{In: []string{"1", "2"}}},
				nil,
				{And: []*model.SessionFilterParameter{}},
			},
		},
		FilterOperator: &or,
	}
	require.Equal(t, listquery.Options{
		Skip: ptr(3), Take: ptr(4),
		// The input type's order, not the document's.
		Sort: []listquery.Sort{{Field: "createdAt", Desc: true}, {Field: "expires"}},
		Filter: &listquery.Filter{
			Fields: []listquery.FieldFilter{
				{Field: "type", Ops: &listquery.StringOperators{Eq: ptr("ANONYMOUS")}},
				{Field: "createdAt", Ops: &listquery.DateOperators{After: &day}},
			},
			Or: []*listquery.Filter{
				{Fields: []listquery.FieldFilter{{Field: "userId", Ops: &listquery.IDOperators{In: []string{"1", "2"}}}}},
				{And: []*listquery.Filter{}},
			},
		},
		FilterOperator: listquery.Or,
	}, listOptions(in))
	require.Equal(t, listquery.Options{}, listOptions((*model.SessionListOptions)(nil)))
	require.Equal(t, listquery.Options{}, listOptions(nil))
}

// Each list's table names only fields its GraphQL inputs have, with the
// operators input of the field's type, so a request can reach every
// field the table serves; the sessions list serves every field its inputs
// name.
func TestListTablesMatchTheSchema(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		table        *listquery.Table
		filter, sort any
		servesAll    bool
	}{
		{jobs.ListTable, model.JobFilterParameter{}, model.JobSortParameter{}, false},
		{catalog.VariantTable, model.ProductVariantFilterParameter{}, model.ProductVariantSortParameter{}, false},
		{session.ListTable, model.SessionFilterParameter{}, model.SessionSortParameter{}, true},
		{access.ChannelListTable, model.ChannelFilterParameter{}, model.ChannelSortParameter{}, true},
		{access.RoleListTable, model.RoleFilterParameter{}, model.RoleSortParameter{}, true},
		{audit.ListTable, model.AuditEntryFilterParameter{}, model.AuditEntrySortParameter{}, true},
	} {
		t.Run(c.table.Noun, func(t *testing.T) {
			t.Parallel()
			filters := inputFields(c.filter)
			sorts := inputFields(c.sort)
			served := map[string]bool{}
			sortable := map[string]bool{}
			for _, f := range c.table.Fields {
				if f.Sort {
					require.Contains(t, sorts, f.Name, "sort field")
					sortable[f.Name] = true
				}
				if f.NoFilter {
					continue
				}
				typ, ok := filters[f.Name]
				require.True(t, ok, "filter field %s", f.Name)
				ops, ok := reflect.New(typ.Elem()).Interface().(listquery.Operators)
				require.True(t, ok, "%s is an operators input", f.Name)
				require.Equal(t, f.Type, ops.Type(), "%s's operators", f.Name)
				served[f.Name] = true
			}
			if c.servesAll {
				for name := range filters {
					if name != "_and" && name != "_or" {
						require.True(t, served[name], "the table serves filter %s", name)
					}
				}
				for name := range sorts {
					require.True(t, sortable[name], "the table sorts by %s", name)
				}
			}
		})
	}
}

// inputFields maps a generated input struct's GraphQL field names to their
// Go types.
func inputFields(v any) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	typ := reflect.TypeOf(v)
	for i := range typ.NumField() {
		out[gqlName(typ.Field(i))] = typ.Field(i).Type
	}
	return out
}
