package requestctx_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/requestctx"
)

// cookieValues returns the values of the cookies named name in a Cookie
// header, as RFC 6265 pairs read: parts separated by ";", a name, "=",
// a value that may be quoted.
func cookieValues(header, name string) []string {
	var values []string
	for part := range strings.SplitSeq(header, ";") {
		n, v, _ := strings.Cut(strings.Trim(part, " \t\r\n"), "=")
		if strings.Trim(n, " \t\r\n") != name {
			continue
		}
		if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		values = append(values, v)
	}
	return values
}

// isCookieOctet reports whether b may appear in a cookie value: printable
// ASCII other than '"', ';' and '\' (space included, as net/http reads
// values).
func isCookieOctet(b byte) bool {
	return 0x20 <= b && b < 0x7f && b != '"' && b != ';' && b != '\\'
}

// FuzzSessionToken sends any Cookie, Authorization and vendure-auth-token
// request headers (raw: no validation of their bytes) through the
// middleware in each TOKEN_METHOD, with one known session token, "good".
// It never panics and always answers 200 with the request's context. The
// token it reads, if any, is handed to the session lookup exactly once and
// comes only from where the mode allows: the value of a `session` cookie
// (cookie mode; then it holds no control character, quote, semicolon or
// backslash) or what follows a case-insensitive "Bearer " scheme in the
// Authorization header, trimmed and not empty (bearer mode; the cookie wins
// when both are on). The vendure-auth-token request header is never read.
// Only the exact known token gives a session; any other token is refused
// and the response clears it on the client (an empty vendure-auth-token
// header, an expired cookie), whatever its length or bytes.
func FuzzSessionToken(f *testing.F) {
	for _, s := range []struct{ cookie, authorization, authToken string }{
		{"session=good", "", ""},
		{"", "Bearer good", ""},
		{"session=good", "Bearer other", ""},
		{"session=", "bEARER   good  ", ""},
		{`session="good"`, "", ""},
		{"session= good", "Bearer\tgood", ""},
		{"other=1; session=bad; session=good", "Bearer", ""},
		{"session=go\x00od; session=good", "Bearer go\x00od", ""},
		{"session=good\r\nX-Injected: 1", "Bearer good\r\nX-Injected: 1", ""},
		{"session=\xff\xfe", "Bearer \xff\xfe", "good"},
		{"session=" + strings.Repeat("a", 600), "Bearer " + strings.Repeat("b", 600), ""},
		{strings.Repeat(";", 4000) + "session=good", "Basic dXNlcjpwYXNz", ""},
		{"session", "Bearergood", ""},
		{"SESSION=good; session =good", "bearer\u00a0good", ""},
		{"", "", "good"},
	} {
		for mode := range uint8(3) {
			f.Add(s.cookie, s.authorization, s.authToken, mode)
		}
	}
	f.Fuzz(func(t *testing.T, cookie, authorization, authToken string, mode uint8) {
		useCookie, useBearer := mode%3 != 1, mode%3 != 0
		b := newBundle(func(c *requestctx.Config) { c.UseCookie, c.UseBearer = useCookie, useBearer })
		req := httptest.NewRequest(http.MethodPost, "/shop-api", nil)
		for k, v := range map[string]string{"Cookie": cookie, "Authorization": authorization, "Vendure-Auth-Token": authToken} {
			if v != "" {
				req.Header[k] = []string{v}
			}
		}
		rec := b.serve(req, nil)
		require.Equal(t, http.StatusOK, rec.Code)
		require.NotNil(t, b.seen, "the request goes on")

		token := b.seen.Token()
		if token == "" {
			require.Empty(t, b.sessions.lookups, "no token, no lookup")
			require.Nil(t, b.seen.Session())
			require.Empty(t, rec.Header().Values("vendure-auth-token"), "nothing to clear")
			require.Empty(t, rec.Result().Cookies(), "nothing to clear")
			return
		}
		require.Equal(t, []string{token}, b.sessions.lookups, "one lookup, of the token read")

		fromCookie := useCookie && len(req.CookiesNamed("session")) > 0 && req.CookiesNamed("session")[0].Value != ""
		if fromCookie {
			require.Contains(t, cookieValues(cookie, "session"), token, "the value of a session cookie")
			for i := range len(token) {
				require.True(t, isCookieOctet(token[i]), "byte %#x of a cookie token", token[i])
			}
		} else {
			require.True(t, useBearer, "a token in cookie mode comes from the cookie")
			h := strings.TrimSpace(authorization)
			require.True(t, len(h) > 7 && strings.EqualFold(h[:7], "bearer "), "a bearer token follows the scheme: %q", authorization)
			require.Equal(t, strings.TrimSpace(h[7:]), token)
			require.Equal(t, strings.TrimSpace(token), token, "trimmed")
		}

		if token == "good" {
			require.NotNil(t, b.seen.Session(), "the known token's session")
			require.Empty(t, rec.Header().Values("vendure-auth-token"), "nothing to send back")
			require.Empty(t, rec.Result().Cookies(), "nothing to send back")
			return
		}
		require.Nil(t, b.seen.Session(), "only the exact known token gives a session: %q", token)
		if useBearer {
			require.Equal(t, []string{""}, rec.Header().Values("vendure-auth-token"), "cleared")
		}
		if useCookie {
			c := rec.Result().Cookies()
			require.Len(t, c, 1)
			require.Equal(t, "session", c[0].Name)
			require.Empty(t, c[0].Value)
			require.Equal(t, -1, c[0].MaxAge, "expired")
		}
	})
}

// FuzzChannelToken sends any URL query and vendure-token header (raw)
// through the middleware, with the default channel, a second one, and a
// currencyCode the default channel lacks. It never panics. The channel
// service is asked exactly once, for the query parameter's value if it is
// not empty, else the header's. A known token's channel becomes the
// request's (unless the query names a currency it does not offer: 200 and
// USER_INPUT_ERROR, GraphQL does not run); any other token is refused with
// 200 and CHANNEL_NOT_FOUND naming it, in a JSON body, before GraphQL runs.
func FuzzChannelToken(f *testing.F) {
	for _, s := range []struct{ query, header string }{
		{"", ""},
		{"vendure-token=second-token", ""},
		{"", "second-token"},
		{"vendure-token=default-token", "second-token"},
		{"vendure-token=", "second-token"},
		{"vendure-token=nope", ""},
		{"vendure-token=second-token&vendure-token=default-token", ""},
		{"vendure-token=%zz&vendure-token=second-token", "x"},
		{"vendure-token=second%2Dtoken", ""},
		{"vendure-token=second-token;x=1", ""},
		{"vendure-token=%00%ff", "\xff"},
		{"vendure-token=second-token&currencyCode=EUR", ""},
		{"currencyCode=JPY", ""},
		{"currencyCode=USD&currencyCode=JPY", "second-token"},
		{"currencyCode=%22%0A", ""},
		{"vendure-token=" + strings.Repeat("%41", 2000), ""},
		{"Vendure-Token=second-token", "\"quoted\""},
	} {
		f.Add(s.query, s.header)
	}
	f.Fuzz(func(t *testing.T, query, header string) {
		b := newBundle(nil)
		req := httptest.NewRequest(http.MethodPost, "/shop-api", nil)
		req.URL.RawQuery = query
		if header != "" {
			req.Header["Vendure-Token"] = []string{header}
		}
		rec := b.serve(req, nil)

		values := req.URL.Query()
		want := values.Get("vendure-token")
		if want == "" {
			want = header
		}
		require.Equal(t, []string{want}, b.channels.asked, "asked once, for the query's token, else the header's")

		ch := b.channels.byToken[want]
		var body struct {
			Errors []struct {
				Message    string `json:"message"`
				Extensions struct {
					Code string `json:"code"`
				} `json:"extensions"`
			} `json:"errors"`
		}
		require.Equal(t, http.StatusOK, rec.Code)
		switch {
		case ch == nil:
			require.Nil(t, b.seen, "GraphQL does not run")
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "a JSON body: %q", rec.Body.String())
			require.Len(t, body.Errors, 1)
			require.Equal(t, "CHANNEL_NOT_FOUND", body.Errors[0].Extensions.Code)
			require.Equal(t, fmt.Sprintf("No Channel with the token %q could be found", want), body.Errors[0].Message)
		case values.Get("currencyCode") != "" && !slices.Contains(ch.AvailableCurrencyCodes, entity.CurrencyCode(values.Get("currencyCode"))):
			require.Nil(t, b.seen, "GraphQL does not run")
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "a JSON body: %q", rec.Body.String())
			require.Len(t, body.Errors, 1)
			require.Equal(t, "USER_INPUT_ERROR", body.Errors[0].Extensions.Code)
		default:
			require.NotNil(t, b.seen)
			require.Same(t, ch, b.seen.Channel())
		}
	})
}
