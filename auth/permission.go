// Package auth holds the Permission type that both GraphQL APIs bind to,
// and the rules that decide whether a set of granted permissions satisfies
// a required list.
package auth

import (
	"fmt"
	"io"
	"strconv"
)

// Permission is one of Vendure's permission names. The GraphQL enum
// Permission in both APIs is bound to this type.
type Permission string

// Internal permissions: Owner and Public are never assignable.
const (
	Authenticated Permission = "Authenticated"
	SuperAdmin    Permission = "SuperAdmin"
	Owner         Permission = "Owner"
	Public        Permission = "Public"

	UpdateGlobalSettings Permission = "UpdateGlobalSettings"
)

// crudSubjects are the subjects that get Create, Read, Update and Delete
// permissions, in Vendure's declaration order (it decides the enum order).
var crudSubjects = []string{
	"Catalog", "Settings", "Administrator", "Asset", "Channel", "Collection",
	"Country", "Customer", "CustomerGroup", "Facet", "Order", "PaymentMethod",
	"Product", "Promotion", "ShippingMethod", "Tag", "TaxCategory", "TaxRate",
	"Seller", "StockLocation", "System", "Zone",
}

// all is every permission in declaration order; assignable excludes Owner and Public.
var (
	all        []Permission
	assignable []Permission
	known      map[Permission]struct{}
	byName     map[string]Permission
	index      map[Permission]int
)

func init() { //nolint:gochecknoinits // builds immutable tables once
	all = []Permission{Authenticated, SuperAdmin, Owner, Public, UpdateGlobalSettings}
	for _, s := range crudSubjects {
		for _, op := range []string{"Create", "Read", "Update", "Delete"} {
			all = append(all, Permission(op+s))
		}
	}
	known = make(map[Permission]struct{}, len(all))
	byName = make(map[string]Permission, len(all))
	index = make(map[Permission]int, len(all))
	for i, p := range all {
		known[p] = struct{}{}
		byName[string(p)] = p
		index[p] = i
		if p != Owner && p != Public {
			assignable = append(assignable, p)
		}
	}
}

// All returns every permission in declaration order. The slice is a copy.
func All() []Permission { return append([]Permission(nil), all...) }

// Assignable returns every permission that a role may hold: all except Owner
// and Public. The SuperAdmin role holds exactly these.
func Assignable() []Permission { return append([]Permission(nil), assignable...) }

// IsValid reports whether p is a known permission name.
func (p Permission) IsValid() bool {
	_, ok := known[p]
	return ok
}

func (p Permission) String() string { return string(p) }

// Index returns the position of p in All(), for compact encodings.
func Index(p Permission) (int, bool) {
	i, ok := index[p]
	return i, ok
}

// Intern returns the Permission named by b. A known name returns the shared
// constant without allocating; an unknown one is converted as is.
func Intern(b []byte) Permission {
	if p, ok := byName[string(b)]; ok {
		return p
	}
	return Permission(b)
}

// UnmarshalGQL implements graphql.Unmarshaler.
func (p *Permission) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("Permission must be a string, got %T", v)
	}
	if !Permission(s).IsValid() {
		return fmt.Errorf("%q is not a valid Permission", s)
	}
	*p = Permission(s)
	return nil
}

// MarshalGQL implements graphql.Marshaler. Permission names are plain
// letters, so the common case skips strconv.Quote (it is on the hot path of
// `me`, which lists every permission of every channel).
func (p Permission) MarshalGQL(w io.Writer) {
	if !isLetters(string(p)) {
		_, _ = io.WriteString(w, strconv.Quote(string(p)))
		return
	}
	_, _ = io.WriteString(w, `"`)
	_, _ = io.WriteString(w, string(p))
	_, _ = io.WriteString(w, `"`)
}

func isLetters(s string) bool {
	if s == "" || len(s) > 62 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// PermissionList marshals a whole [Permission!]! list at once. The
// generated marshaler of that list returns it (see internal/cmd/permlist),
// which spares gqlgen's per-element goroutines and allocations.
type PermissionList []Permission

// MarshalGQL implements graphql.Marshaler. The list is built in one buffer
// and written with one call.
func (l PermissionList) MarshalGQL(w io.Writer) {
	n := 2
	for _, p := range l {
		n += len(p) + 3
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '[')
	for i, p := range l {
		if i > 0 {
			buf = append(buf, ',')
		}
		if isLetters(string(p)) {
			buf = append(append(append(buf, '"'), p...), '"')
		} else {
			buf = strconv.AppendQuote(buf, string(p))
		}
	}
	buf = append(buf, ']')
	_, _ = w.Write(buf)
}
