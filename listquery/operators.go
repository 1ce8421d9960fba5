package listquery

import "time"

// Op is one filter operator, named as in Vendure's GraphQL input types.
type Op string

// Vendure's filter operators.
const (
	Eq          Op = "eq"
	NotEq       Op = "notEq"
	Contains    Op = "contains"
	NotContains Op = "notContains"
	In          Op = "in"
	NotIn       Op = "notIn"
	Regex       Op = "regex"
	IsNull      Op = "isNull"
	Lt          Op = "lt"
	Lte         Op = "lte"
	Gt          Op = "gt"
	Gte         Op = "gte"
	Between     Op = "between"
	Before      Op = "before"
	After       Op = "after"
)

// Operators is the filter of one field: one of StringOperators,
// NumberOperators, DateOperators, BooleanOperators and IDOperators (as
// pointers, the shape the GraphQL layer hands over).
type Operators interface {
	// Type is the field type the operators belong to.
	Type() Type
	// operands returns the operators that are set with their values, in
	// the order of the input type's fields.
	operands() []operand
}

// operand is one operator that is set and its value: a string, []string,
// float64, [2]float64, time.Time, [2]time.Time or bool.
type operand struct {
	op    Op
	value any
}

// StringOperators is Vendure's StringOperators input.
type StringOperators struct {
	Eq          *string  `json:"eq,omitempty"`
	NotEq       *string  `json:"notEq,omitempty"`
	Contains    *string  `json:"contains,omitempty"`
	NotContains *string  `json:"notContains,omitempty"`
	In          []string `json:"in,omitempty"`
	NotIn       []string `json:"notIn,omitempty"`
	Regex       *string  `json:"regex,omitempty"`
	IsNull      *bool    `json:"isNull,omitempty"`
}

// Type implements Operators.
func (*StringOperators) Type() Type { return String }

func (o *StringOperators) operands() []operand {
	var out []operand
	out = appendPtr(out, Eq, o.Eq)
	out = appendPtr(out, NotEq, o.NotEq)
	out = appendPtr(out, Contains, o.Contains)
	out = appendPtr(out, NotContains, o.NotContains)
	out = appendList(out, In, o.In)
	out = appendList(out, NotIn, o.NotIn)
	out = appendPtr(out, Regex, o.Regex)
	return appendPtr(out, IsNull, o.IsNull)
}

// IDOperators is Vendure's IDOperators input (its values are strings, as in
// Vendure).
type IDOperators struct {
	Eq     *string  `json:"eq,omitempty"`
	NotEq  *string  `json:"notEq,omitempty"`
	In     []string `json:"in,omitempty"`
	NotIn  []string `json:"notIn,omitempty"`
	IsNull *bool    `json:"isNull,omitempty"`
}

// Type implements Operators.
func (*IDOperators) Type() Type { return ID }

func (o *IDOperators) operands() []operand {
	var out []operand
	out = appendPtr(out, Eq, o.Eq)
	out = appendPtr(out, NotEq, o.NotEq)
	out = appendList(out, In, o.In)
	out = appendList(out, NotIn, o.NotIn)
	return appendPtr(out, IsNull, o.IsNull)
}

// BooleanOperators is Vendure's BooleanOperators input.
type BooleanOperators struct {
	Eq     *bool `json:"eq,omitempty"`
	IsNull *bool `json:"isNull,omitempty"`
}

// Type implements Operators.
func (*BooleanOperators) Type() Type { return Boolean }

func (o *BooleanOperators) operands() []operand {
	var out []operand
	out = appendPtr(out, Eq, o.Eq)
	return appendPtr(out, IsNull, o.IsNull)
}

// NumberRange is Vendure's NumberRange input: both ends included.
type NumberRange struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// NumberOperators is Vendure's NumberOperators input.
type NumberOperators struct {
	Eq      *float64     `json:"eq,omitempty"`
	Lt      *float64     `json:"lt,omitempty"`
	Lte     *float64     `json:"lte,omitempty"`
	Gt      *float64     `json:"gt,omitempty"`
	Gte     *float64     `json:"gte,omitempty"`
	Between *NumberRange `json:"between,omitempty"`
	IsNull  *bool        `json:"isNull,omitempty"`
}

// Type implements Operators.
func (*NumberOperators) Type() Type { return Number }

func (o *NumberOperators) operands() []operand {
	var out []operand
	out = appendPtr(out, Eq, o.Eq)
	out = appendPtr(out, Lt, o.Lt)
	out = appendPtr(out, Lte, o.Lte)
	out = appendPtr(out, Gt, o.Gt)
	out = appendPtr(out, Gte, o.Gte)
	if o.Between != nil {
		out = append(out, operand{Between, [2]float64{o.Between.Start, o.Between.End}})
	}
	return appendPtr(out, IsNull, o.IsNull)
}

// DateRange is Vendure's DateRange input: both ends included.
type DateRange struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// DateOperators is Vendure's DateOperators input.
type DateOperators struct {
	Eq      *time.Time `json:"eq,omitempty"`
	Before  *time.Time `json:"before,omitempty"`
	After   *time.Time `json:"after,omitempty"`
	Between *DateRange `json:"between,omitempty"`
	IsNull  *bool      `json:"isNull,omitempty"`
}

// Type implements Operators.
func (*DateOperators) Type() Type { return Date }

func (o *DateOperators) operands() []operand {
	var out []operand
	out = appendPtr(out, Eq, o.Eq)
	out = appendPtr(out, Before, o.Before)
	out = appendPtr(out, After, o.After)
	if o.Between != nil {
		out = append(out, operand{Between, [2]time.Time{o.Between.Start, o.Between.End}})
	}
	return appendPtr(out, IsNull, o.IsNull)
}

func appendPtr[T any](out []operand, op Op, p *T) []operand {
	if p == nil {
		return out
	}
	return append(out, operand{op, *p})
}

// appendList keeps an empty list that was given (an "in" of nothing
// matches nothing) apart from one that was not (nil).
func appendList(out []operand, op Op, l []string) []operand {
	if l == nil {
		return out
	}
	return append(out, operand{op, l})
}
