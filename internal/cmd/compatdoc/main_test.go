package main

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestCompare holds the three things the document reports: what Vendure
// has and we lack, what only we have (not for a partial type), and a type
// or argument that differs.
func TestCompare(t *testing.T) {
	t.Parallel()
	vendure, err := parser.ParseSchema(&ast.Source{Name: "vendure", Input: `
type Query @partial { me: User, order(id: ID!): String, nextOrderStates: [String!]! }
type User { id: ID!, name: String, seller: Untyped, code: Untyped }
union Result = User | NotVerifiedError
enum Code { A B }
`})
	if err != nil {
		t.Fatal(err)
	}
	ours := gqlparser.MustLoadSchema(&ast.Source{Name: "ours", Input: `
type Query { me: User, order(id: String!): String, extra: Int, r: Result, c: Code }
type User { id: ID!, name: String!, code: String!, email: String }
type Other { x: Int }
union Result = User | Other
enum Code { A C }
`})
	got := map[string]map[string]string{}
	for _, c := range compare(vendure, ours) {
		got[c.name] = map[string]string{}
		for _, r := range c.rows {
			got[c.name][r.name] = r.status
		}
	}
	want := map[string]map[string]string{
		"Query":  {"me": same, "order": different, "nextOrderStates": weLack},
		"User":   {"id": same, "name": different, "seller": weLack, "code": present, "email": onlyOurs},
		"Result": {"User": same, "NotVerifiedError": weLack, "Other": onlyOurs},
		"Code":   {"A": same, "B": weLack, "C": onlyOurs},
	}
	for typ, fields := range want {
		if len(got[typ]) != len(fields) {
			t.Errorf("%s: rows %v, want %v", typ, got[typ], fields)
			continue
		}
		for f, status := range fields {
			if got[typ][f] != status {
				t.Errorf("%s.%s: %q, want %q", typ, f, got[typ][f], status)
			}
		}
	}
}

// TestVendureSDLParses keeps the embedded Vendure SDL loadable.
func TestVendureSDLParses(t *testing.T) {
	t.Parallel()
	for _, files := range [][]string{{"common.graphql", "shop.graphql"}, {"common.graphql", "admin.graphql"}} {
		if _, err := load(files); err != nil {
			t.Error(err)
		}
	}
}
