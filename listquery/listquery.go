// Package listquery is the one implementation of Vendure's list options
// (skip, take, sort, filter and filterOperator) for every list the Admin
// API serves: a list declares a Table (its fields: API name, SQL column,
// type, operators, whether it sorts), Parse checks a request's Options
// against it, and the resulting Query adds the WHERE, ORDER BY, OFFSET and
// LIMIT to a bun select.
//
// Field names and operators reach the SQL only through the table: a name
// the table lacks is refused, never written into a statement, and the
// columns are the table's constants. Every value is a bound argument of
// bun's query builder. Anything the list does not serve is refused with an
// *Error naming it, never ignored: ignoring it would answer another
// question than the one asked.
//
// The operators are Vendure's (parse-filter-params.ts): eq, notEq, in,
// notIn, isNull on every type where Vendure has them; contains and
// notContains (case-insensitive substrings, the value trimmed), and regex
// (case-insensitive, PostgreSQL's ~*; refused on SQLite, which has no
// regular expressions, as Vendure's sqlite driver refuses it) on strings;
// lt, lte, gt, gte and between (both ends included) on numbers; before,
// after and between on dates; an "in" of nothing matches nothing and a
// "notIn" of nothing excludes nothing. Several operators of one field
// combine with AND; the fields of a filter combine with filterOperator
// (AND unless OR is asked) at the top and with AND inside an _and or _or
// group, whose members combine with AND or OR.
package listquery

import (
	"errors"
	"fmt"
)

// Bounds of a filter's values. No value the lists filter on is longer
// than MaxValueLength characters (their columns' limit); an in or notIn
// list holds at most MaxValues of them; a regex is at most MaxRegexLength
// characters (Vendure's bound), which with the statement timeout keeps a
// pattern's cost bounded; filters nest at most MaxDepth groups deep.
const (
	MaxValueLength = 255
	MaxValues      = 1000
	MaxRegexLength = 100
	MaxDepth       = 5
)

// LogicalOperator is Vendure's LogicalOperator: how the top-level fields of
// a filter combine.
type LogicalOperator string

// The logical operators; "" is AND.
const (
	And LogicalOperator = "AND"
	Or  LogicalOperator = "OR"
)

// Options are a request's list options, as Vendure's XListOptions inputs
// carry them. Nil Skip and Take were not given.
type Options struct {
	Skip, Take     *int
	Sort           []Sort
	Filter         *Filter
	FilterOperator LogicalOperator
}

// Filter is a FilterParameter input: one Operators per field it names,
// and the _and and _or groups (nil: not given; empty: given with no
// member).
type Filter struct {
	Fields []FieldFilter
	And    []*Filter
	Or     []*Filter
}

// FieldFilter is the operators given for one field.
type FieldFilter struct {
	Field string
	Ops   Operators
}

// ErrInvalid is what every refusal of list options matches with errors.Is.
var ErrInvalid = errors.New("invalid list options")

// Error is a refusal of list options, in words for the client (it names
// the option: "options.filter.price is not supported: …").
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// Is makes every *Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Errorf returns an *Error: a table's Check uses it for its own refusals.
func Errorf(format string, args ...any) *Error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}
