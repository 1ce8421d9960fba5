// Command codegencheck prints the introspection result of an API's served
// schema, as a typed client's code generator reads it from the running
// server (schema: 'http://localhost:3000/shop-api'), but without a server,
// database or configuration:
//
//	go run ./internal/codegencheck [-api shop|admin] > schema.json
//
// check.sh feeds it to GraphQL Code Generator and checks the TypeScript it
// generates; see that script for why.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/introspection"

	"github.com/shopsession/sessionserver/graph/adminapi"
	"github.com/shopsession/sessionserver/graph/shopapi"
)

func main() {
	api := flag.String("api", "shop", "the API to print: shop or admin")
	flag.Parse()
	schemas := map[string]graphql.ExecutableSchema{
		"shop":  shopapi.NewSchema(nil),
		"admin": adminapi.NewSchema(nil),
	}
	schema, ok := schemas[*api]
	if !ok {
		fail(fmt.Errorf("unknown API %q (shop or admin)", *api))
	}
	out, err := introspect(schema)
	if err != nil {
		fail(err)
	}
	_, _ = os.Stdout.Write(out)
}

// introspect runs the full introspection query through gqlgen's handler on
// the schema the server serves (NewSchema), so the result is what a client
// gets from the server: no resolver runs for it.
func introspect(schema graphql.ExecutableSchema) ([]byte, error) {
	srv := handler.New(schema)
	srv.AddTransport(transport.POST{})
	srv.Use(extension.Introspection{})
	body, err := json.Marshal(map[string]string{"query": introspection.Query})
	if err != nil {
		return nil, err
	}
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		return nil, fmt.Errorf("introspection answered %d: %w", rec.Code, err)
	}
	if rec.Code != http.StatusOK || len(resp.Errors) > 0 {
		return nil, fmt.Errorf("introspection failed (%d): %s", rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Bytes(), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "codegencheck:", err)
	os.Exit(1)
}
