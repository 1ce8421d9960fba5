// Package entity holds the bun models, one file per aggregate. Migrations in
// package migrations own the schema; these structs only map it.
package entity

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// ID is a primary key. It is an integer in the database and a string on the
// GraphQL wire (the ID scalar), as in Vendure.
type ID int64

// String returns the decimal form of the ID.
func (id ID) String() string { return strconv.FormatInt(int64(id), 10) }

// MarshalGQL implements graphql.Marshaler: IDs are sent as strings.
func (id ID) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(id.String()))
}

// UnmarshalGQL implements graphql.Unmarshaler: a string or an integer.
func (id *ID) UnmarshalGQL(v any) error {
	var n int64
	var err error
	switch x := v.(type) {
	case string:
		n, err = strconv.ParseInt(x, 10, 64)
	case json.Number:
		n, err = x.Int64()
	case int:
		n = int64(x)
	case int64:
		n = x
	default:
		return fmt.Errorf("ID must be a string or an integer, got %T", v)
	}
	if err != nil || n <= 0 {
		return fmt.Errorf("%v is not a valid ID", v)
	}
	*id = ID(n)
	return nil
}
