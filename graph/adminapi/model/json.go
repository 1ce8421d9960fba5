package model

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// The JSON scalar (Vendure's, from graphql-type-json) carries any JSON
// value. gqlgen binds it, through these two functions, to
// json.RawMessage: jobs hold their data, result and error as raw JSON.

// MarshalJSON writes raw as it is; nothing, or anything that is not one
// valid JSON value, is written as null so that the response stays valid.
func MarshalJSON(raw json.RawMessage) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if len(raw) == 0 || !json.Valid(raw) {
			_, _ = io.WriteString(w, "null")
			return
		}
		_, _ = w.Write(raw)
	})
}

// UnmarshalJSON encodes an input value (already decoded from the request's
// JSON or a literal of the document) back into raw JSON.
func UnmarshalJSON(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	return raw, nil
}
