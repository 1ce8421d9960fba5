package e2e_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// Cookie sessions as a browser storefront uses them: HttpOnly, SameSite=Lax,
// a browser-session cookie unless rememberMe, which lasts a year.
func TestCookieSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0], withTokenMethods("cookie"))
	admin := e.admin(testenv.Cookie)

	r := admin.Do(loginMutation, creds("superadmin", "superadmin"))
	_, present := r.TokenHeader()
	require.False(t, present, "cookie-only mode sends no token header")
	c := r.SessionCookie("session")
	require.NotNil(t, c)
	require.Regexp(t, `^[0-9a-f]{64}$`, c.Value)
	require.Equal(t, 0, c.MaxAge, "without rememberMe it is a browser-session cookie")
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.Equal(t, "/", c.Path)
	require.False(t, c.Secure)

	r = admin.Do(meQuery, nil)
	require.Empty(t, r.Errors)
	require.Equal(t, "superadmin", decodeMe(t, r).Me.Identifier)

	r = admin.Do(loginMutation, map[string]any{"username": "superadmin", "password": "superadmin", "rememberMe": true})
	require.Equal(t, 31557600, r.SessionCookie("session").MaxAge)

	// A bearer header is ignored in cookie-only mode.
	bearer := e.admin(testenv.Bearer)
	bearer.Token = admin.Cookie.Value
	require.Equal(t, "FORBIDDEN", bearer.Do(meQuery, nil).ErrorCode())

	r = admin.Do(logoutMutation, nil)
	require.JSONEq(t, `{"logout":{"success":true}}`, string(r.Data))
	c = r.SessionCookie("session")
	require.NotNil(t, c)
	require.Less(t, c.MaxAge, 0, "logout expires the cookie")
	require.Nil(t, admin.Cookie)
}

// With both methods on, the cookie wins over the bearer header.
func TestCookieBeforeBearer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	admin := e.admin(testenv.Bearer)
	admin.Do(loginMutation, creds("superadmin", "superadmin"))
	good := admin.Token

	both := e.admin(testenv.Bearer)
	both.Token = strings.Repeat("0", 64)
	both.Header = map[string]string{"Cookie": "session=" + good}
	r := both.Do(meQuery, nil)
	require.Empty(t, r.Errors)

	// Bearer-only mode ignores cookies and sets none.
	e2 := newEnv(t, backends()[0], withTokenMethods("bearer"))
	c := e2.admin(testenv.Bearer)
	r = c.Do(loginMutation, creds("superadmin", "superadmin"))
	require.Nil(t, r.SessionCookie("session"))
	require.NotEmpty(t, c.Token)
}

// logout without a token reports success: false (Vendure).
func TestLogoutWithoutToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	r := e.shop(testenv.Bearer).Do(logoutMutation, nil)
	require.JSONEq(t, `{"logout":{"success":false}}`, string(r.Data))
}

// Bad documents get GraphQL errors, never a panic or an internal message.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	shop := e.shop(testenv.Bearer)
	r := shop.Do(`{ nope }`, nil)
	require.Equal(t, "GRAPHQL_VALIDATION_FAILED", r.ErrorCode())
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	r = shop.Do(`{ activeChannel { `, nil)
	require.Equal(t, "GRAPHQL_PARSE_FAILED", r.ErrorCode())
	r = shop.Do(loginMutation, map[string]any{"username": 5})
	require.Equal(t, "GRAPHQL_VALIDATION_FAILED", r.ErrorCode(), "variables of the wrong type or missing")
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)

	resp, err := http.Post(e.srv.URL+"/shop-api", "application/json", strings.NewReader(`{not json`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, string(body), "json request body could not be decoded")

	resp, err = http.Post(e.srv.URL+"/shop-api", "application/json", strings.NewReader(`{"query":"`+strings.Repeat(" ", 2<<20)+`{ activeChannel { code } }"}`))
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Contains(t, string(body), "errors")

	// A token of absurd length is just an unknown token.
	shop.Token = strings.Repeat("x", 8000)
	r = shop.Do(activeChannel, nil)
	require.Empty(t, r.Errors)
	require.Empty(t, shop.Token)
}

// Browsers can read the token header (CORS exposes it) and send cookies.
func TestCORS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/shop-api", nil)
	req.Header.Set("Origin", "http://localhost:4200")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,authorization,vendure-token")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, "http://localhost:4200", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "authorization")

	shop := e.shop(testenv.Bearer)
	shop.Header = map[string]string{"Origin": "http://localhost:4200"}
	r := shop.Do(`{ activeCustomer { id } }`, nil)
	require.Equal(t, "vendure-auth-token, Retry-After, X-Request-Id", r.Header.Get("Access-Control-Expose-Headers"))
	require.Equal(t, "Origin, Cookie", r.Header.Get("Vary"))

	r = e.shop(testenv.Bearer).Do(activeChannel, nil)
	require.Equal(t, "Origin, Cookie", r.Header.Get("Vary"), "a response without CORS headers still varies on Origin")
	require.Empty(t, r.Header.Get("Access-Control-Allow-Origin"))
}

// GET from a browser serves a playground; GET with a query runs it;
// introspection works; /health answers.
func TestPlaygroundIntrospectionHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	for _, path := range []string{"/shop-api", "/admin-api"} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
		require.Contains(t, string(body), path)
	}

	resp, err := http.Get(e.srv.URL + "/shop-api?query=%7BactiveChannel%7Bcode%7D%7D")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.JSONEq(t, `{"data":{"activeChannel":{"code":"__default_channel__"}}}`, string(body))

	r := e.admin(testenv.Bearer).Do(`{ __schema { queryType { name } } __type(name: "Permission") { enumValues { name } } }`, nil)
	require.Empty(t, r.Errors)
	require.Contains(t, string(r.Data), `"SuperAdmin"`)

	resp, err = http.Get(e.srv.URL + "/health")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"status":"ok"}`, string(body))
}

// A POST whose body is not declared application/json is refused with a
// GraphQL error saying what to send (415, BAD_REQUEST), in the media type
// the Accept header asks for, instead of gqlgen's untyped "transport not
// supported"; a JSON type with parameters, GET and OPTIONS still work.
func TestPOSTContentType(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0])
	const refusal = `{"errors":[{"message":"Unsupported Content-Type: a POST request must send its body as application/json (the response is application/json, or application/graphql-response+json when the Accept header asks for it)","extensions":{"code":"BAD_REQUEST"}}],"data":null}`
	const query = `{"query":"{ activeChannel { code } }"}`
	const data = `{"data":{"activeChannel":{"code":"__default_channel__"}}}`
	do := func(method, target, contentType, accept, body string, upgrade ...string) (int, string, string) {
		t.Helper()
		req, err := http.NewRequest(method, e.srv.URL+target, strings.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		for _, u := range upgrade {
			req.Header.Set("Upgrade", u)
			req.Header.Set("Connection", "Upgrade")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)
	}

	for _, tc := range []struct{ contentType, accept, wantType string }{
		{"", "", "application/json"},
		{"text/plain", "", "application/json"},
		{"text/plain;charset=UTF-8", "", "application/json"},
		{"application/x-www-form-urlencoded", "", "application/json"},
		{"multipart/form-data; boundary=x", "", "application/json"},
		{"application/graphql", "", "application/json"},
		{"application/jsonx", "", "application/json"},
		{"not a media type;;", "", "application/json"},
		{"text/plain", "application/graphql-response+json", "application/graphql-response+json"},
	} {
		status, contentType, body := do(http.MethodPost, "/shop-api", tc.contentType, tc.accept, query)
		require.Equal(t, http.StatusUnsupportedMediaType, status, "Content-Type %q", tc.contentType)
		require.Equal(t, tc.wantType, contentType, "Content-Type %q", tc.contentType)
		require.JSONEq(t, refusal, body, "Content-Type %q", tc.contentType)
	}

	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
		status, contentType, body := do(http.MethodPost, "/shop-api", ct, "", query)
		require.Equal(t, http.StatusOK, status, ct)
		require.Equal(t, "application/json", contentType)
		require.JSONEq(t, data, body)
	}

	// An Upgrade header (curl --http2 sends "Upgrade: h2c") does not hide
	// a POST: there is nothing to upgrade to.
	status, contentType, body := do(http.MethodPost, "/shop-api", "application/json", "", query, "h2c")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, data, body)

	status, contentType, body = do(http.MethodGet, "/shop-api?query=%7BactiveChannel%7Bcode%7D%7D", "", "", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "application/json", contentType)
	require.JSONEq(t, data, body)

	req, err := http.NewRequest(http.MethodOptions, e.srv.URL+"/shop-api", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "OPTIONS, GET, POST", resp.Header.Get("Allow"))
}
