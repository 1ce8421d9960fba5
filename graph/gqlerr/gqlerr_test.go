package gqlerr_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/graph/gqlerr"
)

// Write sets the media type the Accept header asks for, then the status,
// then the envelope with "data": null.
func TestWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ accept, contentType string }{
		{"", "application/json"},
		{"*/*", "application/json"},
		{"application/json", "application/json"},
		{"application/graphql-response+json, application/json;q=0.9", "application/graphql-response+json"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/shop-api", nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		w := httptest.NewRecorder()
		gqlerr.Write(w, r, http.StatusServiceUnavailable, gqlerr.New(gqlerr.CodeInternal, gqlerr.MsgInternal))
		require.Equal(t, http.StatusServiceUnavailable, w.Code)
		require.Equal(t, tc.contentType, w.Header().Get("Content-Type"), "Accept: %q", tc.accept)
		require.JSONEq(t, `{"errors":[{"message":"Internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`, w.Body.String())
	}
}

// An error encoding/json cannot encode still gets a GraphQL answer: the
// generic internal error, with a 500.
func TestWriteUnencodable(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	bad := &gqlerror.Error{Message: "x", Extensions: map[string]any{"code": "X", "f": func() {}}}
	gqlerr.Write(w, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusBadRequest, bad)
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.Equal(t, "application/json", w.Header().Get("Content-Type"))
	require.JSONEq(t, `{"errors":[{"message":"Internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`, w.Body.String())
}

func TestCode(t *testing.T) {
	t.Parallel()
	require.Equal(t, "FORBIDDEN", gqlerr.Code(gqlerr.New(gqlerr.CodeForbidden, gqlerr.MsgForbidden)))
	require.Empty(t, gqlerr.Code(nil))
	require.Empty(t, gqlerr.Code(&gqlerror.Error{Message: "no code"}))
	require.Empty(t, gqlerr.Code(&gqlerror.Error{Extensions: map[string]any{"code": 5}}))
}
