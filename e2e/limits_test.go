package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// fragmentBomb is a 1.6 KB document: fragment F0 on Query
// { me { id } }, F_n spreading F_(n-1) twice, 40 levels, `{ ...F39 }`.
// Before the limits it never finished (the complexity limit walked all 2^39
// expansions).
func fragmentBomb() string {
	var b strings.Builder
	b.WriteString("{ ...F39 } fragment F0 on Query { me { id } }")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&b, " fragment F%d on Query { ...F%d ...F%d }", i, i-1, i-1)
	}
	return b.String()
}

// rawGraphQL sends one GraphQL request (POST with a JSON body, or GET with
// the query in the URL) and returns the status and the decoded body.
func rawGraphQL(t *testing.T, method, endpoint, query string, header map[string]string) (int, http.Header, testenv.Response) {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(method, endpoint+"?query="+url.QueryEscape(query), nil)
	} else {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, err = http.NewRequest(method, endpoint, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
	}
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out testenv.Response
	require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	return resp.StatusCode, resp.Header, out
}

// Each limit is refused before validation and execution, on POST and GET,
// with its own code and the status of a validation error.
func TestQueryLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	shop := e.srv.URL + "/shop-api"
	aliases := "{" + strings.Repeat(" x: activeChannel { id }", 31) + " }"
	for _, tc := range []struct {
		name, query, code, message string
	}{
		{"fragment bomb", fragmentBomb(), "FIELD_LIMIT_EXCEEDED", "The query selects 1099511627776 fields; the limit is 1000"},
		{"10,000 repeated fields", "{ activeChannel { " + strings.Repeat("id ", 10000) + "} }", "FIELD_LIMIT_EXCEEDED", "The query selects 10001 fields; the limit is 1000"},
		{"20,000 repeated fields", "{ activeChannel { " + strings.Repeat("id ", 20000) + "} }", "TOKEN_LIMIT_EXCEEDED", "The query has more than 15000 tokens; the limit is 15000"},
		{"depth", "{ " + strings.Repeat("me { ", 15) + "id" + strings.Repeat(" }", 15) + " }", "DEPTH_LIMIT_EXCEEDED", "The query nests fields 16 levels deep; the limit is 15"},
		{"aliases", aliases, "ALIAS_LIMIT_EXCEEDED", "The query uses 31 aliases; the limit is 30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				if method == http.MethodGet && len(tc.query) > 20000 {
					continue // beyond what a URL may carry
				}
				status, _, r := rawGraphQL(t, method, shop, tc.query, nil)
				require.Equal(t, http.StatusUnprocessableEntity, status, method)
				require.Len(t, r.Errors, 1)
				require.Equal(t, tc.code, r.ErrorCode(), method)
				require.Equal(t, tc.message, r.Errors[0].Message)
				require.Equal(t, "null", string(r.Data))
			}
			// Clients of the GraphQL-over-HTTP media type get a 400, as for
			// validation errors.
			status, _, r := rawGraphQL(t, http.MethodPost, shop, tc.query, map[string]string{"Accept": "application/graphql-response+json"})
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, tc.code, r.ErrorCode())
		})
	}

	// The same document again: the cached verdict, the same answer.
	for range 2 {
		status, _, r := rawGraphQL(t, http.MethodPost, shop, fragmentBomb(), nil)
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Equal(t, "FIELD_LIMIT_EXCEEDED", r.ErrorCode())
		require.Nil(t, r.Errors[0].Path)
	}
	// 1,000 fields, at the limit: served.
	status, _, r := rawGraphQL(t, http.MethodPost, shop, "{ activeChannel { "+strings.Repeat("id ", 999)+"} }", nil)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"activeChannel":{"id":"1"}}`, string(r.Data))
}

// 400 aliased logins in one request, with the right password: refused as a
// whole, and no login is attempted (no session, no token, nothing cached).
func TestOneLoginPerRequest(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		var doc strings.Builder
		doc.WriteString("mutation {")
		for i := range 400 {
			fmt.Fprintf(&doc, ` a%d: login(username: "superadmin", password: "superadmin") { __typename }`, i)
		}
		doc.WriteString(" }")
		e.takeCalls()
		before := e.spy.Held()

		for _, c := range []*testenv.Client{e.shop(testenv.Bearer), e.admin(testenv.Cookie)} {
			r := c.Do(doc.String(), nil)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status)
			require.Equal(t, "LOGIN_LIMIT_EXCEEDED", r.ErrorCode())
			require.Equal(t, "The query selects login, authenticate or another password or token mutation 400 times; the limit is 1 per request", r.Errors[0].Message)
			_, present := r.TokenHeader()
			require.False(t, present)
			require.Nil(t, r.SessionCookie("session"))
		}
		n, err := e.db.NewSelect().Model((*entity.Session)(nil)).Count(context.Background())
		require.NoError(t, err)
		require.Zero(t, n, "no login ran")
		require.Zero(t, e.takeCalls().Sets)
		require.Equal(t, before, e.spy.Held())

		// login and authenticate together, or through a fragment, count too.
		r := e.shop(testenv.Bearer).Do(`mutation L { ...Twice } fragment Twice on Mutation {
			login(username: "superadmin", password: "superadmin") { __typename }
			authenticate(input: { native: { username: "superadmin", password: "superadmin" } }) { __typename } }`, nil)
		require.Equal(t, "LOGIN_LIMIT_EXCEEDED", r.ErrorCode())

		// One login is fine.
		r = e.admin(testenv.Bearer).Do(loginMutation, creds("superadmin", "superadmin"))
		require.Empty(t, r.Errors)
		require.Equal(t, "CurrentUser", decodeLogin(t, r).Login.Typename)
	})
}

// Every limit is a setting: a server configured tighter refuses what the
// defaults allow, fragments included.
func TestQueryLimitsAreSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0], func(c *config.Config) {
		c.MaxQueryFragments, c.MaxQueryFields, c.MaxQueryDepth, c.MaxQueryAliases = 2, 5, 2, 1
	})
	shop := e.srv.URL + "/shop-api"
	for _, tc := range []struct{ query, code string }{
		{"{ ...A } fragment A on Query { ...B } fragment B on Query { ...C } fragment C on Query { activeChannel { id } }", "FRAGMENT_LIMIT_EXCEEDED"},
		{"{ activeChannel { id code token id code token } }", "FIELD_LIMIT_EXCEEDED"},
		{"{ me { channels { id } } }", "DEPTH_LIMIT_EXCEEDED"},
		{"{ a: activeChannel { id } b: activeChannel { id } }", "ALIAS_LIMIT_EXCEEDED"},
	} {
		status, _, r := rawGraphQL(t, http.MethodPost, shop, tc.query, nil)
		require.Equal(t, http.StatusUnprocessableEntity, status, tc.code)
		require.Equal(t, tc.code, r.ErrorCode())
	}
	status, _, r := rawGraphQL(t, http.MethodPost, shop, "{ ...A } fragment A on Query { ...B } fragment B on Query { activeChannel { id } }", nil)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"activeChannel":{"id":"1"}}`, string(r.Data))
}
