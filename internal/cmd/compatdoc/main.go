// Command compatdoc writes docs/vendure-compatibility.md: for every type of
// Vendure's Shop and Admin SDL that vendure/*.graphql holds, the fields
// (union members, enum values) Vendure has and the served schema lacks, the
// ones only the served schema has, and the ones whose type or arguments
// differ. The served schemas are the ones the server runs
// (shopapi.NewSchema, adminapi.NewSchema), so the document follows every
// schema change; `go generate` runs it and CI fails when the committed
// document is not current:
//
//	go run ./internal/cmd/compatdoc -o docs/vendure-compatibility.md
//
// vendure/*.graphql holds what the project's Vendure reference quotes of
// Vendure's SDL: the auth and session surface, not the whole API. A type
// marked @partial there is quoted in part, so fields only ours has are not
// reported for it; a field typed Untyped is named without its type, so only
// its presence is compared.
package main

import (
	"bytes"
	"embed"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/shopsession/sessionserver/graph/adminapi"
	"github.com/shopsession/sessionserver/graph/shopapi"
)

//go:embed vendure/*.graphql
var vendureSDL embed.FS

func main() {
	out := flag.String("o", "docs/vendure-compatibility.md", "the file to write")
	flag.Parse()
	doc, err := render([]api{
		{name: "Shop", files: []string{"common.graphql", "shop.graphql"}, ours: shopapi.NewSchema(nil).Schema()},
		{name: "Admin", files: []string{"common.graphql", "admin.graphql"}, ours: adminapi.NewSchema(nil).Schema()},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "compatdoc:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, doc, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "compatdoc:", err)
		os.Exit(1)
	}
}

// api is one of Vendure's APIs: the SDL files that make it, and our schema.
type api struct {
	name  string
	files []string
	ours  *ast.Schema
}

// Row statuses, as the document prints them.
const (
	same      = "same"
	weLack    = "**missing here**"
	onlyOurs  = "only here"
	different = "**differs**"
	present   = "present"
)

// notQuoted stands for the type of a field the reference names without it.
const notQuoted = "(type not quoted)"

// row is one field, union member or enum value of a type.
type row struct {
	name, vendure, ours, status string
}

// comparison is one Vendure type against ours.
type comparison struct {
	name, kind string
	partial    bool
	missing    bool // we have no type of that name
	rows       []row
}

func (c comparison) count(status string) int {
	n := 0
	for _, r := range c.rows {
		if r.status == status {
			n++
		}
	}
	return n
}

// load parses an API's Vendure SDL files into one document.
func load(files []string) (*ast.SchemaDocument, error) {
	var all ast.SchemaDocument
	for _, name := range files {
		src, err := vendureSDL.ReadFile("vendure/" + name)
		if err != nil {
			return nil, err
		}
		doc, err := parser.ParseSchema(&ast.Source{Name: name, Input: string(src)})
		if err != nil {
			return nil, fmt.Errorf("vendure/%s: %w", name, err)
		}
		all.Merge(doc)
	}
	return &all, nil
}

// compare lists every Vendure type of the document against ours.
func compare(vendure *ast.SchemaDocument, ours *ast.Schema) []comparison {
	var out []comparison
	for _, def := range vendure.Definitions {
		c := comparison{
			name:    def.Name,
			kind:    kindName(def.Kind),
			partial: def.Directives.ForName("partial") != nil,
		}
		mine := ours.Types[def.Name]
		if mine == nil {
			c.missing = true
			out = append(out, c)
			continue
		}
		switch def.Kind {
		case ast.Union:
			c.rows = compareNames(def.Types, mine.Types, c.partial)
		case ast.Enum:
			c.rows = compareNames(enumValues(def.EnumValues), enumValues(mine.EnumValues), c.partial)
		default:
			c.rows = compareFields(def.Fields, mine.Fields, c.partial)
		}
		if mine.Kind != def.Kind {
			c.rows = append([]row{{name: "(kind)", vendure: kindName(def.Kind), ours: kindName(mine.Kind), status: different}}, c.rows...)
		}
		out = append(out, c)
	}
	return out
}

func compareFields(vendure, ours ast.FieldList, partial bool) []row {
	var rows []row
	for _, f := range vendure {
		r := row{name: f.Name, vendure: signature(f)}
		if f.Type.Name() == "Untyped" {
			r.vendure = notQuoted
		}
		mine := ours.ForName(f.Name)
		switch {
		case mine == nil:
			r.status = weLack
		case r.vendure == notQuoted:
			r.ours, r.status = signature(mine), present
		default:
			r.ours = signature(mine)
			r.status = same
			if r.ours != r.vendure {
				r.status = different
			}
		}
		rows = append(rows, r)
	}
	if !partial {
		for _, f := range ours {
			if strings.HasPrefix(f.Name, "__") || vendure.ForName(f.Name) != nil {
				continue
			}
			rows = append(rows, row{name: f.Name, ours: signature(f), status: onlyOurs})
		}
	}
	return rows
}

func compareNames(vendure, ours []string, partial bool) []row {
	var rows []row
	for _, n := range vendure {
		r := row{name: n, vendure: "yes", ours: "yes", status: same}
		if !slices.Contains(ours, n) {
			r.ours, r.status = "", weLack
		}
		rows = append(rows, r)
	}
	if !partial {
		for _, n := range ours {
			if !slices.Contains(vendure, n) {
				rows = append(rows, row{name: n, ours: "yes", status: onlyOurs})
			}
		}
	}
	return rows
}

func enumValues(list ast.EnumValueList) []string {
	names := make([]string, len(list))
	for i, v := range list {
		names[i] = v.Name
	}
	return names
}

// signature is a field as SDL writes it, without its description and
// directives: `(arg: Type = default, …): Type`.
func signature(f *ast.FieldDefinition) string {
	var b strings.Builder
	if len(f.Arguments) > 0 {
		b.WriteString("(")
		for i, a := range f.Arguments {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: %s", a.Name, a.Type.String())
			if a.DefaultValue != nil {
				fmt.Fprintf(&b, " = %s", a.DefaultValue.String())
			}
		}
		b.WriteString("): ")
	}
	b.WriteString(f.Type.String())
	return b.String()
}

func kindName(k ast.DefinitionKind) string {
	switch k {
	case ast.Object:
		return "type"
	case ast.InputObject:
		return "input"
	default:
		return strings.ToLower(string(k))
	}
}

// render writes the document for both APIs.
func render(apis []api) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<!-- Code generated by internal/cmd/compatdoc (go generate ./...). DO NOT EDIT. -->

# Vendure compatibility, field by field

What Vendure's Shop and Admin types have and ours lack, what only ours have,
and where a field's type or arguments differ. Generated by
` + "`internal/cmd/compatdoc`" + ` from the schemas this server serves and Vendure's SDL;
` + "`go generate ./...`" + ` rewrites it and CI fails when it is not current.

**What it compares against.** Vendure's SDL here is what the project's Vendure
reference quotes (Vendure 3.5.4): the auth and session surface
(` + "`internal/cmd/compatdoc/vendure/*.graphql`" + `), not Vendure's whole API. Types of
Vendure's that the reference does not quote (` + "`Order`, `Customer`, `Administrator`,\n`ProductVariant`, `Job`" + `, …) are not compared here. Where the reference quotes only
some of a type's fields (the root types, the Admin ` + "`ErrorCode`" + `), marked *partial*,
fields only ours has are not listed; ` + "`Channel`" + `'s fields are quoted by name only,
so only their presence is compared. How behaviour differs is in the README's
[Differences from Vendure](../README.md#differences-from-vendure).

`)
	type result struct {
		api  api
		comp []comparison
	}
	var results []result
	for _, a := range apis {
		doc, err := load(a.files)
		if err != nil {
			return nil, err
		}
		results = append(results, result{a, compare(doc, a.ours)})
	}

	b.WriteString("## Summary\n\n| API | Vendure types compared | types missing here | fields, members or values missing here | differing | only here |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range results {
		var types, lack, diff, extra int
		for _, c := range r.comp {
			if c.missing {
				types++
			}
			lack += c.count(weLack)
			diff += c.count(different)
			extra += c.count(onlyOurs)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", r.api.name, len(r.comp), types, lack, diff, extra)
	}
	b.WriteString("\n")

	for _, r := range results {
		fmt.Fprintf(&b, "## %s API\n\n", r.api.name)
		for _, c := range r.comp {
			title := fmt.Sprintf("### %s `%s`", c.kind, c.name)
			if c.partial {
				title += " (partial)"
			}
			b.WriteString(title + "\n\n")
			if c.missing {
				fmt.Fprintf(&b, "**Missing here**: the %s API has no type `%s`.\n\n", r.api.name, c.name)
				continue
			}
			what := "field"
			switch c.kind {
			case "union":
				what = "member"
			case "enum":
				what = "value"
			}
			fmt.Fprintf(&b, "| %s | Vendure | here | |\n| --- | --- | --- | --- |\n", what)
			for _, row := range c.rows {
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", row.name, code(row.vendure), code(row.ours), row.status)
			}
			b.WriteString("\n")
		}
	}
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n'), nil
}

// code formats a cell: a signature as code, an empty cell as a dash, and
// "yes" as it is.
func code(s string) string {
	switch s {
	case "":
		return "—"
	case "yes", notQuoted:
		return s
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}
