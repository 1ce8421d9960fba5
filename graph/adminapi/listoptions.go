package adminapi

import (
	"reflect"
	"strings"

	"github.com/shopsession/sessionserver/listquery"
)

// listOptions converts one of the generated XListOptions inputs (a
// pointer, nil when the argument was not given) into listquery.Options,
// the one form every list parses. It reads the inputs by their GraphQL
// names (the json tags gqlgen writes): skip, take, sort (one key per set
// field, in the input type's order, DESC or ASC), filter (the operators of
// each set field, and the _and and _or groups) and filterOperator. Which
// of those a list serves is its table's business, not this function's.
func listOptions(in any) listquery.Options {
	var out listquery.Options
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return out
	}
	v = v.Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && f.IsNil() {
			continue
		}
		switch gqlName(v.Type().Field(i)) {
		case "skip":
			out.Skip = f.Interface().(*int)
		case "take":
			out.Take = f.Interface().(*int)
		case "sort":
			out.Sort = sortKeys(f.Elem())
		case "filter":
			out.Filter = filter(f.Elem())
		case "filterOperator":
			out.FilterOperator = listquery.LogicalOperator(f.Elem().String())
		}
	}
	return out
}

// sortKeys reads an XSortParameter: a *SortOrder per field.
func sortKeys(v reflect.Value) []listquery.Sort {
	var out []listquery.Sort
	for i := range v.NumField() {
		if f := v.Field(i); !f.IsNil() {
			out = append(out, listquery.Sort{Field: gqlName(v.Type().Field(i)), Desc: f.Elem().String() == "DESC"})
		}
	}
	return out
}

// filter reads an XFilterParameter: listquery's operators per field, and
// _and and _or as lists of the same type (kept apart from nil when given
// empty).
func filter(v reflect.Value) *listquery.Filter {
	out := &listquery.Filter{}
	for i := range v.NumField() {
		f := v.Field(i)
		switch name := gqlName(v.Type().Field(i)); name {
		case "_and", "_or":
			if f.IsNil() {
				continue
			}
			group := make([]*listquery.Filter, 0, f.Len())
			for j := range f.Len() {
				if m := f.Index(j); !m.IsNil() {
					group = append(group, filter(m.Elem()))
				}
			}
			if name == "_and" {
				out.And = group
			} else {
				out.Or = group
			}
		default:
			if !f.IsNil() {
				out.Fields = append(out.Fields, listquery.FieldFilter{Field: name, Ops: f.Interface().(listquery.Operators)})
			}
		}
	}
	return out
}

// gqlName is a generated input field's GraphQL name: its json tag.
func gqlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}
