package persisted_test

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/persisted"
)

const (
	meDoc     = `query Me { me { id identifier } }`
	activeDoc = "query activeOrder { activeOrder { ...ActiveOrder } }\n\nfragment ActiveOrder on Order { id code }"
)

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func manifest(t *testing.T, m any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

// GraphQL Codegen's client preset manifest: each document under its id,
// SHA-256 or SHA-1, and under its SHA-256 too.
func TestParseCodegenManifest(t *testing.T) {
	t.Parallel()
	for _, ids := range []func(string) string{persisted.Hash, sha1Hex, func(d string) string { return "sha256:" + persisted.Hash(d) }} {
		d, err := persisted.Parse("persisted-documents.json", manifest(t, map[string]string{ids(meDoc): meDoc, ids(activeDoc): activeDoc}))
		require.NoError(t, err)
		require.Equal(t, 2, d.Len())
		for _, text := range []string{meDoc, activeDoc} {
			for _, id := range []string{ids(text), persisted.Hash(text), "sha256:" + persisted.Hash(text)} {
				got, ok := d.Lookup(id)
				require.True(t, ok, id)
				require.Equal(t, text, got)
			}
		}
		_, ok := d.Lookup(persisted.Hash("{ other }"))
		require.False(t, ok)
	}

	d, err := persisted.Parse("m.json", manifest(t, map[string]string{"me-v1": meDoc}))
	require.NoError(t, err)
	got, ok := d.Lookup("me-v1")
	require.True(t, ok, "a plain id is taken as it is")
	require.Equal(t, meDoc, got)
}

func TestParseApolloManifest(t *testing.T) {
	t.Parallel()
	d, err := persisted.Parse("persisted-query-manifest.json", manifest(t, map[string]any{
		"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": []map[string]string{{"id": persisted.Hash(meDoc), "name": "Me", "type": "query", "body": meDoc}},
	}))
	require.NoError(t, err)
	require.Equal(t, []persisted.Document{{ID: persisted.Hash(meDoc), Name: "Me", Text: meDoc}}, d.All())
}

// A manifest that does not hold what it says is refused, naming the entry.
func TestParseManifestRefusals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"changed document", manifest(t, map[string]string{persisted.Hash(meDoc): meDoc + " "}), "is not the SHA-256 of its document"},
		{"changed sha1", manifest(t, map[string]string{sha1Hex(meDoc): meDoc + " "}), "is not the SHA-1 of its document"},
		{"odd id", manifest(t, map[string]string{"a b": meDoc}), `the id "a b" is neither`},
		{"empty", manifest(t, map[string]string{persisted.Hash(""): ""}), "is empty"},
		{"not strings", []byte(`{"x": 1}`), `the value of "x" is not a string`},
		{"not an object", []byte(`[1]`), "not a JSON object"},
		{"nothing", []byte(`{}`), "no documents"},
		{"apollo version", manifest(t, map[string]any{"format": "apollo-persisted-query-manifest", "version": 2}), "version 2"},
	} {
		_, err := persisted.Parse("m.json", c.data)
		require.ErrorContains(t, err, c.want, c.name)
		require.ErrorContains(t, err, "m.json: ", c.name)
	}
	_, err := persisted.Parse("m.yaml", nil)
	require.ErrorContains(t, err, `unknown format ".yaml"`)
	_, err = persisted.Load(filepath.Join(t.TempDir(), "missing.json"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// A .graphql file: each operation with the fragments it uses, in the
// file's order, as written; braces in arguments and comments between
// definitions do not cut a definition.
func TestParseGraphQLFile(t *testing.T) {
	t.Parallel()
	src := `# Storefront documents
query activeOrder { activeOrder { ...ActiveOrder } }

# the cart
fragment Line on OrderLine { id quantity }
fragment ActiveOrder on Order { id code lines { ...Line } }

mutation addItemToOrder($productVariantId: ID!, $quantity: Int!) {
  addItemToOrder(productVariantId: $productVariantId, quantity: $quantity) { ...ActiveOrder }
}
query search($input: SearchInput = {term: "é{", take: 3}) { search(input: $input) { totalItems } }
{ me { id } }
`
	path := filepath.Join(t.TempDir(), "documents.graphql")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
	d, err := persisted.Load(path)
	require.NoError(t, err)
	frags := "fragment Line on OrderLine { id quantity }\n\nfragment ActiveOrder on Order { id code lines { ...Line } }"
	want := []persisted.Document{
		{Name: "activeOrder", Text: "query activeOrder { activeOrder { ...ActiveOrder } }\n\n" + frags},
		{Name: "addItemToOrder", Text: "mutation addItemToOrder($productVariantId: ID!, $quantity: Int!) {\n  addItemToOrder(productVariantId: $productVariantId, quantity: $quantity) { ...ActiveOrder }\n}\n\n" + frags},
		{Name: "search", Text: `query search($input: SearchInput = {term: "é{", take: 3}) { search(input: $input) { totalItems } }`},
		{Name: "the anonymous operation #4", Text: "{ me { id } }"},
	}
	for i := range want {
		want[i].ID = persisted.Hash(want[i].Text)
	}
	require.Equal(t, want, d.All())
	got, ok := d.Lookup(persisted.Hash("{ me { id } }"))
	require.True(t, ok)
	require.Equal(t, "{ me { id } }", got)

	for _, c := range []struct{ src, want string }{
		{"query { ...Missing }", "uses the fragment Missing"},
		{"query {", "documents.graphql"},
		{"fragment F on Query { me { id } }", "no documents"},
		{"fragment F on Query { a }\nfragment F on Query { b }\nquery { ...F }", "a second fragment named F"},
	} {
		_, err := persisted.Parse("documents.graphql", []byte(c.src))
		require.ErrorContains(t, err, c.want, c.src)
	}
}
