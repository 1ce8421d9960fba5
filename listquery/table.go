package listquery

import (
	"fmt"
	"slices"
	"strings"
)

// Type is the type of a list field, which decides the operators it can be
// filtered with (Vendure's generated FilterParameter types give each field
// the operators input of its type).
type Type int

// The field types.
const (
	String Type = iota + 1
	Number
	Date
	Boolean
	ID
)

// typeOps are the operators of each type, in the order of Vendure's input
// types.
var typeOps = map[Type][]Op{
	String:  {Eq, NotEq, Contains, NotContains, In, NotIn, Regex, IsNull},
	Number:  {Eq, Lt, Lte, Gt, Gte, Between, IsNull},
	Date:    {Eq, Before, After, Between, IsNull},
	Boolean: {Eq, IsNull},
	ID:      {Eq, NotEq, In, NotIn, IsNull},
}

// Ops returns the operators of type t, in Vendure's order.
func (t Type) Ops() []Op { return slices.Clone(typeOps[t]) }

func (t Type) String() string {
	switch t {
	case String:
		return "StringOperators"
	case Number:
		return "NumberOperators"
	case Date:
		return "DateOperators"
	case Boolean:
		return "BooleanOperators"
	case ID:
		return "IDOperators"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Field is one field of a list as the API names it, and the SQL it reads.
type Field struct {
	// Name is the field's name in the API's sort and filter inputs.
	Name string
	// Type decides the operators and how values are bound.
	Type Type
	// Column is the SQL the field reads: a column ("s.created_at") or an
	// expression ("state IN ('completed', 'cancelled')"). It is written
	// into the statement as it is, so it is always a constant of the code:
	// input never reaches it (values are bound as arguments).
	Column string
	// Ops are the operators the field may be filtered with; nil is every
	// operator of its type. NoFilter makes the field sort-only.
	Ops      []Op
	NoFilter bool
	// Sort is whether the list may be sorted by the field.
	Sort bool
	// Values, when set, are the only values a String field's eq, notEq, in
	// and notIn take, each standing for one or more stored values (an
	// enum whose API names differ from its column's). ValuesName names
	// them in refusals ("JobState").
	Values     []Value
	ValuesName string
}

// Value is one value of an enum field and what it is stored as.
type Value struct {
	Name   string
	Stored []string
}

// Sort is one key of an order: a field and its direction.
type Sort struct {
	Field string
	Desc  bool
}

// Table is what one list serves: its fields, page size, order and the
// shape of filters it takes. Declare it once per list, with MustTable.
type Table struct {
	// Noun names the list's items in refusals ("jobs can be sorted by
	// createdAt").
	Noun string
	// Fields are the list's fields, in the order refusals name them.
	Fields []Field
	// MaxTake is the largest page; a request without take (or take 0)
	// gets a page of this size.
	MaxTake int
	// DefaultSort is the order when the request gives none.
	DefaultSort []Sort
	// TieBreak is a unique column that ends every order (unless the order
	// already ends with it), in the direction of the last key, so that
	// pages neither overlap nor skip rows.
	TieBreak string
	// Nested allows the _and and _or groups in filters.
	Nested bool
	// Check, when set, refuses what the list does not serve beyond its
	// fields' operators: it sees the options once every other check has
	// passed, and returns an *Error.
	Check func(Options) error
}

// MustTable checks a table's declaration and returns it; a mistake in it
// is a programming error, so it panics (call it in a package variable's
// initialiser, where every test run meets it).
func MustTable(t Table) *Table {
	if err := t.validate(); err != nil {
		panic("listquery: table " + t.Noun + ": " + err.Error())
	}
	return &t
}

// WithMaxTake returns a copy of the table whose pages hold at most n
// items (a list whose bound is configured).
func (t *Table) WithMaxTake(n int) *Table {
	c := *t
	c.MaxTake = n
	return MustTable(c)
}

func (t *Table) validate() error {
	if t.Noun == "" || t.MaxTake <= 0 || t.TieBreak == "" {
		return fmt.Errorf("noun, MaxTake and TieBreak are required")
	}
	if strings.ContainsRune(t.TieBreak, '?') {
		return fmt.Errorf("the tie-break column holds a placeholder")
	}
	seen := map[string]bool{}
	for _, f := range t.Fields {
		switch {
		case f.Name == "" || f.Column == "":
			return fmt.Errorf("field %q: name and column are required", f.Name)
		case f.Name == "_and" || f.Name == "_or" || seen[f.Name]:
			return fmt.Errorf("field %q: the name is reserved or taken", f.Name)
		case typeOps[f.Type] == nil:
			return fmt.Errorf("field %q: no type", f.Name)
		case strings.ContainsRune(f.Column, '?'):
			// bun would read it as a placeholder.
			return fmt.Errorf("field %q: the column holds a placeholder", f.Name)
		case f.Values != nil && (f.Type != String || f.ValuesName == ""):
			return fmt.Errorf("field %q: values need a String field and a name", f.Name)
		}
		for _, op := range f.Ops {
			if !slices.Contains(typeOps[f.Type], op) {
				return fmt.Errorf("field %q: %s is not an operator of %s", f.Name, op, f.Type)
			}
			if f.Values != nil && !slices.Contains([]Op{Eq, NotEq, In, NotIn, IsNull}, op) {
				return fmt.Errorf("field %q: %s does not take an enum's values", f.Name, op)
			}
		}
		if f.Values != nil && f.Ops == nil {
			return fmt.Errorf("field %q: an enum field lists its operators", f.Name)
		}
		seen[f.Name] = true
	}
	for _, s := range t.DefaultSort {
		if f := t.field(s.Field); f == nil || !f.Sort {
			return fmt.Errorf("default sort %q is not a sortable field", s.Field)
		}
	}
	return nil
}

// field returns the field named name, or nil.
func (t *Table) field(name string) *Field {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return &t.Fields[i]
		}
	}
	return nil
}

// ops returns the operators field f may be filtered with.
func (f *Field) ops() []Op {
	if f.NoFilter {
		return nil
	}
	if f.Ops != nil {
		return f.Ops
	}
	return typeOps[f.Type]
}

// filterSummary names the filters the list serves, for refusals:
// "id (eq, in), sku and name (eq, contains, in)". Neighbouring fields with
// the same operators are named together, except enum fields, whose
// values set them apart.
func (t *Table) filterSummary() string {
	var parts []string
	var names []string
	var ops []Op
	var enum bool
	flush := func() {
		if len(names) > 0 {
			parts = append(parts, joinAnd(names)+" ("+joinOps(ops)+")")
		}
	}
	for i := range t.Fields {
		f := &t.Fields[i]
		fops := f.ops()
		if len(fops) == 0 {
			continue
		}
		isEnum := f.Values != nil
		if len(names) > 0 && !enum && !isEnum && slices.Equal(ops, fops) {
			names = append(names, f.Name)
			continue
		}
		flush()
		names, ops, enum = []string{f.Name}, fops, isEnum
	}
	flush()
	if len(parts) == 0 {
		return "nothing"
	}
	if len(names) > 1 {
		// The last part has its own "and": "id (eq, in), sku and name (…)".
		return strings.Join(parts, ", ")
	}
	return joinAnd(parts)
}

// sortSummary names the fields the list can be sorted by.
func (t *Table) sortSummary() string {
	var names []string
	for _, f := range t.Fields {
		if f.Sort {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return "nothing"
	}
	return joinAnd(names)
}

func joinOps(ops []Op) string {
	s := make([]string, len(ops))
	for i, op := range ops {
		s[i] = string(op)
	}
	return strings.Join(s, ", ")
}

// joinAnd joins "a", "b", "c" as "a, b and c".
func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// valueNames lists an enum's values for a refusal.
func (f *Field) valueNames() string {
	names := make([]string, len(f.Values))
	for i, v := range f.Values {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}
