package entity

import (
	"database/sql/driver"
	"fmt"
	"strings"
)

// StringList is a list of strings stored as one comma-separated text column,
// like TypeORM's simple-array that Vendure uses for role permissions and
// channel currency/language lists. Items must not contain commas.
type StringList []string

// Value implements driver.Valuer.
func (l StringList) Value() (driver.Value, error) { return strings.Join(l, ","), nil }

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("StringList: cannot scan %T", src)
	}
	if s == "" {
		*l = StringList{}
		return nil
	}
	*l = strings.Split(s, ",")
	return nil
}
