// Package graph_test keeps the SDL of both APIs under golden files, so a
// change to the wire schema shows up in review, and checks rules that span
// the schema and the Go code.
package graph_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/adminapi"
	"github.com/shopsession/sessionserver/graph/shopapi"
)

var update = flag.Bool("update", false, "rewrite the golden SDL files")

func schemas() map[string]*ast.Schema {
	return map[string]*ast.Schema{
		"shop":  shopapi.NewSchema(nil).Schema(),
		"admin": adminapi.NewSchema(nil).Schema(),
	}
}

// TestSDLGolden compares each API's served schema with
// testdata/<api>.graphql. Built-in types and directives are left out, but
// the directives show: a directive of gqlparser's prelude that the served
// schema lacks (@defer) is listed at the top as `# not served: @defer`.
// Run `go test ./graph/ -update` after an intended schema change.
func TestSDLGolden(t *testing.T) {
	t.Parallel()
	for name, schema := range schemas() {
		var buf bytes.Buffer
		for _, d := range validator.PreludeDocument().Directives {
			if schema.Directives[d.Name] == nil {
				fmt.Fprintf(&buf, "# not served: @%s\n", d.Name)
			}
		}
		formatter.NewFormatter(&buf, formatter.WithIndent("  ")).FormatSchema(schema)
		path := filepath.Join("testdata", name+".graphql")
		if *update {
			require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./graph/ -update to create it")
		require.Equal(t, string(want), buf.String(), "%s API schema drifted from %s; if intended, run go test ./graph/ -update", name, path)
	}
}

// TestPermissionEnumMatchesGo: the GraphQL enum and auth.All() list the same
// permissions in the same order.
func TestPermissionEnumMatchesGo(t *testing.T) {
	t.Parallel()
	want := []string{}
	for _, p := range auth.All() {
		want = append(want, string(p))
	}
	for name, schema := range schemas() {
		got := []string{}
		for _, v := range schema.Types["Permission"].EnumValues {
			got = append(got, v.Name)
		}
		require.Equal(t, want, got, "%s API", name)
	}
}

// TestCodeEnumsMatchEntity: LanguageCode and CurrencyCode are Vendure's enums
// (schema/common/*-code.graphqls, copied from Vendure), and the Go types they
// bind to accept exactly their values, in their order.
func TestCodeEnumsMatchEntity(t *testing.T) {
	t.Parallel()
	for name, schema := range schemas() {
		require.Equal(t, asStrings(entity.AllLanguageCodes()), enumValues(schema, "LanguageCode"), "%s API", name)
		require.Equal(t, asStrings(entity.AllCurrencyCodes()), enumValues(schema, "CurrencyCode"), "%s API", name)
	}
}

func enumValues(schema *ast.Schema, enum string) []string {
	var out []string
	for _, v := range schema.Types[enum].EnumValues {
		out = append(out, v.Name)
	}
	return out
}

func asStrings[S ~string](l []S) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = string(s)
	}
	return out
}

// TestErrorCodeEnum: following Vendure's rule, ErrorCode lists UNKNOWN_ERROR
// plus the code of every type implementing ErrorResult in that API.
func TestErrorCodeEnum(t *testing.T) {
	t.Parallel()
	for name, schema := range schemas() {
		want := map[string]bool{"UNKNOWN_ERROR": true}
		for _, impl := range schema.GetPossibleTypes(schema.Types["ErrorResult"]) {
			want[upperSnake(impl.Name)] = true
		}
		got := map[string]bool{}
		for _, v := range schema.Types["ErrorCode"].EnumValues {
			got[v.Name] = true
		}
		require.Equal(t, want, got, "%s API", name)
	}
}

func upperSnake(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				out = append(out, '_')
			}
			out = append(out, c)
		} else {
			out = append(out, c-'a'+'A')
		}
	}
	return string(out)
}
