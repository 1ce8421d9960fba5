// Package entity holds the bun models, one file per aggregate. Migrations in
// package migrations own the schema; these structs only map it.
package entity

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
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
		return errors.New("ID must be a string or an integer")
	}
	if err != nil || n <= 0 {
		return fmt.Errorf("%s is not a valid ID", echoID(v))
	}
	*id = ID(n)
	return nil
}

// echoID shows a refused ID in its message: short printable text as it
// came, anything else (long, NUL, invalid UTF-8) as "the value".
func echoID(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 24 || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "the value"
	}
	return s
}

// SameID reports whether a and b name the same ID, or are both nil.
func SameID(a, b *ID) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
