package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/persisted"
)

// What a storefront uploads per request for its real documents, whole and
// by hash (APQ) or documentId, as POST bodies and GET URLs; each request
// measured is sent and must run. `go test -run TestPersistedQueryBytes -v
// ./e2e/` prints the table docs/persisted-documents.md shows.
func TestPersistedQueryBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	v := seedVariants(t, e, 1)
	endpoint := e.srv.URL + app.ShopPath
	shop := e.shop(testenv.Bearer)
	shop.Do(activeOrderQuery, nil) // a guest session, so that the cart documents run
	auth := map[string]string{"Authorization": "Bearer " + shop.Token}

	var table strings.Builder
	fmt.Fprintf(&table, "| document | POST query | POST hash (APQ) | POST documentId | GET query (URL) | GET hash (URL) |\n|---|---|---|---|---|---|\n")
	for _, c := range []struct {
		name, op, doc string
		vars          map[string]any
		method        string // of the hash request: GET for queries, as Apollo's useGETForHashedQueries
	}{
		{"activeOrder", "activeOrder", activeOrderQuery, nil, http.MethodGet},
		{"addItemToOrder", "addItemToOrder", addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}, http.MethodPost},
		{"me", "Me", meQuery, nil, http.MethodGet},
		{"login", "Login", loginMutation, map[string]any{"username": "nobody@example.com", "password": "not-the-password"}, http.MethodPost},
	} {
		whole := pqRequest{OperationName: c.op, Query: c.doc, Variables: c.vars, Header: auth}
		register := whole
		register.Hash = persisted.Hash(c.doc)
		byHash := pqRequest{OperationName: c.op, Hash: persisted.Hash(c.doc), Variables: c.vars, Header: auth}
		byID := pqRequest{DocumentID: persisted.Hash(c.doc), Variables: c.vars, Header: auth}

		status, r := register.send(t, http.MethodPost, endpoint)
		require.Equal(t, http.StatusOK, status, "%+v", r.Errors)
		status, r = byHash.send(t, c.method, endpoint)
		require.Equal(t, http.StatusOK, status, "%+v", r.Errors)
		require.NotEqual(t, "PERSISTED_QUERY_NOT_FOUND", r.ErrorCode())

		path := len(app.ShopPath)
		getWhole, getHash := "-", "-"
		if c.method == http.MethodGet {
			getWhole = fmt.Sprint(len(whole.url(t, app.ShopPath)) - path)
			getHash = fmt.Sprint(len(byHash.url(t, app.ShopPath)) - path)
		}
		fmt.Fprintf(&table, "| %s (%d B document) | %d | %d | %d | %s | %s |\n", c.name, len(c.doc),
			len(whole.body(t)), len(byHash.body(t)), len(byID.body(t)), getWhole, getHash)
	}
	t.Logf("request bytes (POST: the JSON body; GET: the URL's query string, after %s):\n%s", app.ShopPath, table.String())
}
