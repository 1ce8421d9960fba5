package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
)

// A real browser against the real handler, over TLS: what the header
// assertions of cors_test.go cannot show, because only a browser applies
// SameSite, its third-party cookie rules and CORS.
//
// Chromium resolves every *.test name to 127.0.0.1, so
// https://shop.storefront.test:P (a storefront) and
// https://api.sessions.test:Q (the API) are two sites (their registrable
// domains, storefront.test and sessions.test, differ) on one machine. The
// certificates are httptest's, hence --ignore-certificate-errors; the pages
// are still secure contexts, so Secure cookies behave as in production.
//
// The browser keeps its defaults. Chromium 156 (Debian's, headless or not)
// blocks third-party cookies in a fresh profile: a cross-site response's
// SameSite=None cookie is refused with the reason "UserPreferences", unless
// it is Partitioned (CHIPS), which is why COOKIE_SAMESITE=none cookies are.

// storefrontPage is the page every *.test host serves. Its functions report
// what the page itself could read, or the error the browser gave it.
const storefrontPage = `<!doctype html>
<meta charset="utf-8">
<title>storefront</title>
<script>
// gql posts a GraphQL document with the browser's cookies, as a cookie-mode
// storefront does (a JSON POST: the browser sends a preflight first).
async function gql(url, query, variables) {
  try {
    const res = await fetch(url, {
      method: 'POST', credentials: 'include',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({query, variables}),
    });
    return {status: res.status, body: await res.json()};
  } catch (e) {
    return {error: String(e)};
  }
}
// gqlGet sends a query as a GET: a simple request, sent without a preflight
// and with the cookies, so only CORS keeps its answer from the page.
async function gqlGet(url, query) {
  try {
    const res = await fetch(url + '?query=' + encodeURIComponent(query), {credentials: 'include'});
    return {status: res.status, body: await res.json()};
  } catch (e) {
    return {error: String(e)};
  }
}
// gqlOpaque is the same GET in no-cors mode: the fetch succeeds, but the
// response is opaque, with nothing to read.
async function gqlOpaque(url, query) {
  const res = await fetch(url + '?query=' + encodeURIComponent(query), {credentials: 'include', mode: 'no-cors'});
  return {type: res.type, status: res.status, text: await res.text()};
}
// postSimple is what a foreign page can send without a preflight: a no-cors
// POST with the cookies and a text/plain body holding a GraphQL document.
async function postSimple(url, query) {
  const res = await fetch(url, {
    method: 'POST', credentials: 'include', mode: 'no-cors',
    headers: {'content-type': 'text/plain'}, body: JSON.stringify({query}),
  });
  return {type: res.type, status: res.status};
}
// formPost submits an HTML form, as a foreign page would, into a frame: a
// text/plain form whose one field makes the body the JSON of a GraphQL
// document. It resolves when the answer has loaded in the frame.
function formPost(url, query) {
  return new Promise((resolve) => {
    const frame = document.createElement('iframe');
    frame.name = 'target' + Math.random().toString(36).slice(2);
    document.body.appendChild(frame);
    frame.addEventListener('load', () => resolve({type: 'loaded'}), {once: true});
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = url;
    form.enctype = 'text/plain';
    form.target = frame.name;
    const field = document.createElement('input');
    field.type = 'hidden';
    field.name = JSON.stringify({query}).slice(0, -1) + ',"padding":"';
    field.value = '"}';
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
  });
}
</script>
<h1>storefront</h1>
`

// pageResult is what a page function returns.
type pageResult struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
	Type   string `json:"type"`
	Text   string `json:"text"`
	Body   struct {
		Data struct {
			Login *struct {
				Typename   string `json:"__typename"`
				Identifier string `json:"identifier"`
			} `json:"login"`
			Me *struct {
				Identifier string `json:"identifier"`
			} `json:"me"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"body"`
}

// chromiumPath finds a Chromium or Chrome binary. The test skips only when
// there is none, and fails instead under CI (CI=true), whose .ci/run
// installs Debian's chromium.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium binary on PATH under CI: .ci/run installs Debian's chromium")
	}
	t.Skip("no chromium binary on PATH (apt-get install chromium)")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile that resolves
// *.test to 127.0.0.1 and accepts httptest's certificates, and returns a
// tab. The flags keep it off the network (this machine has none: without
// them Chromium tries updates, sync and QUIC, and logs refused connections).
// extra options come last, so they can replace a flag (host-resolver-rules).
func newBrowser(t *testing.T, execPath string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	profile := t.TempDir() // removed after the browser has exited: cleanups run last in, first out
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP *.test 127.0.0.1"),
		chromedp.IgnoreCertErrors,
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc) // waits for the process to exit
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "start %s", execPath)
	return ctx
}

// tlsServer starts h over TLS on 127.0.0.1 and returns its port.
func tlsServer(t *testing.T, h http.Handler) int {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

// apiRequest is one request that the API received from the browser.
type apiRequest struct {
	method, origin string
	cookie         bool // it carried the session cookie
}

// apiAnswer is one request the API received and the status it answered.
type apiAnswer struct {
	apiRequest
	status int
}

// sites are storefront pages and the API, each on its own TLS server.
type sites struct {
	pagePort  int    // serves storefrontPage on every *.test host
	otherPort int    // the same, on another port (another origin)
	api       string // https://<apiHost>:Q/admin-api

	env *env

	mu       sync.Mutex
	seen     []apiRequest
	answered []apiAnswer
}

// origin is the origin of the page on host.
func (s *sites) origin(host string) string { return fmt.Sprintf("https://%s:%d", host, s.pagePort) }

// requests returns what the API received since the last call.
func (s *sites) requests() []apiRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.seen
	s.seen = nil
	return out
}

// answers returns what the API received and answered since the last call.
func (s *sites) answers() []apiAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.answered
	s.answered = nil
	return out
}

// statusRecorder keeps the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// newSites starts the page servers, then the API on apiHost in cookie mode
// with Secure cookies and COOKIE_SAMESITE=sameSite, whose CORS_ORIGINS lists
// only https://<storefrontHost>:P.
func newSites(t *testing.T, sameSite, storefrontHost, apiHost string) *sites {
	t.Helper()
	s := &sites{}
	page := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(storefrontPage))
	})
	s.pagePort, s.otherPort = tlsServer(t, page), tlsServer(t, page)
	e := newEnv(t, backends()[0],
		withTokenMethods("cookie"),
		withCookie(sameSite, "true", ""),
		withCORSOrigins(s.origin(storefrontHost)),
	)
	s.env = e
	h := e.app.Handler()
	apiPort := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := r.Cookie("session")
		req := apiRequest{method: r.Method, origin: r.Header.Get("Origin"), cookie: err == nil}
		s.mu.Lock()
		s.seen = append(s.seen, req)
		s.mu.Unlock()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		s.mu.Lock()
		s.answered = append(s.answered, apiAnswer{req, rec.status})
		s.mu.Unlock()
	}))
	s.api = fmt.Sprintf("https://%s:%d%s", apiHost, apiPort, app.AdminPath)
	return s
}

// call runs a page function (gql, gqlGet, gqlOpaque) with its arguments and
// waits for its promise.
func call(t *testing.T, ctx context.Context, fn string, args ...any) pageResult {
	t.Helper()
	js := make([]string, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		require.NoError(t, err)
		js[i] = string(b)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](fn+"("+strings.Join(js, ", ")+")", chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	var out pageResult
	require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	return out
}

// apiCookies returns the session cookies the browser holds for the API,
// partitioned ones included.
func apiCookies(t *testing.T, ctx context.Context, api string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{api}})
	require.NoError(t, err)
	var out []*network.Cookie
	for _, c := range res.Cookies {
		if c.Name == "session" {
			out = append(out, c)
		}
	}
	return out
}

const (
	browserLogin = `mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { __typename ... on CurrentUser { identifier } }
}`
	browserMe = `{ me { identifier } }`
)

// open navigates the tab to the page of origin.
func open(t *testing.T, ctx context.Context, origin string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(origin+"/")))
}

// logInAndStay logs in as superadmin from the current page and checks that
// the next request, authenticated by the cookie alone, is superadmin's.
func logInAndStay(t *testing.T, ctx context.Context, s *sites, origin string) {
	t.Helper()
	login := call(t, ctx, "gql", s.api, browserLogin, creds("superadmin", "superadmin"))
	require.Empty(t, login.Error)
	require.NotNil(t, login.Body.Data.Login, "%+v", login)
	require.Equal(t, "CurrentUser", login.Body.Data.Login.Typename)

	me := call(t, ctx, "gql", s.api, browserMe, nil)
	require.Empty(t, me.Error)
	require.NotNil(t, me.Body.Data.Me, "%+v", me)
	require.Equal(t, "superadmin", me.Body.Data.Me.Identifier)

	var posts []apiRequest
	for _, r := range s.requests() {
		if r.method == http.MethodOptions {
			require.False(t, r.cookie, "a preflight never carries cookies")
			continue
		}
		posts = append(posts, r)
	}
	require.Equal(t, []apiRequest{
		{http.MethodPost, origin, false}, // login
		{http.MethodPost, origin, true},  // me: the cookie the login set, and nothing else
	}, posts)
}

// cannotRead checks that the page on origin, in a browser holding a
// superadmin session, reads nothing of the API: its JSON POST is stopped at
// the preflight, and its simple GET goes out (with the cookie when
// withCookie) and is answered, but the page cannot read the answer.
func cannotRead(t *testing.T, ctx context.Context, s *sites, origin string, withCookie bool) {
	t.Helper()
	open(t, ctx, origin)
	r := call(t, ctx, "gql", s.api, browserMe, nil)
	require.Equal(t, "TypeError: Failed to fetch", r.Error, "%s: the preflight is refused", origin)
	require.Equal(t, []apiRequest{{http.MethodOptions, origin, false}}, s.requests(), "%s: the POST itself is never sent", origin)

	r = call(t, ctx, "gqlGet", s.api, browserMe)
	require.Equal(t, "TypeError: Failed to fetch", r.Error, "%s: the answer is not readable", origin)
	require.Equal(t, []apiRequest{{http.MethodGet, origin, withCookie}}, s.requests(), "%s: the GET went out", origin)

	r = call(t, ctx, "gqlOpaque", s.api, browserMe)
	require.Empty(t, r.Error)
	require.Equal(t, "opaque", r.Type)
	require.Equal(t, 0, r.Status)
	require.Empty(t, r.Text, "%s: a no-cors response has no readable body", origin)
	s.requests()
}

// Cookie mode in a real browser. A storefront on another site stays logged
// in with COOKIE_SAMESITE=none and is silently anonymous with lax (finding
// 8); a storefront on the API's own site stays logged in with lax; and no
// page on an unlisted origin — same-site sibling, other port or other
// site — can read a credentialed response (finding 7).
func TestBrowserStorefront(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)

	t.Run("cross-site, samesite none: logged in across requests", func(t *testing.T) {
		t.Parallel()
		s := newSites(t, "none", "shop.storefront.test", "api.sessions.test")
		ctx := newBrowser(t, chromium)
		shop := s.origin("shop.storefront.test")
		open(t, ctx, shop)
		logInAndStay(t, ctx, s, shop)

		jar := apiCookies(t, ctx, s.api)
		require.Len(t, jar, 1)
		require.Equal(t, network.CookieSameSiteNone, jar[0].SameSite)
		require.True(t, jar[0].Secure)
		require.True(t, jar[0].HTTPOnly)
		require.Equal(t, "api.sessions.test", jar[0].Domain, "host-only: COOKIE_DOMAIN is empty")
		require.NotNil(t, jar[0].PartitionKey, "kept as a partitioned cookie: third-party cookies are blocked")
		require.Equal(t, "https://storefront.test", jar[0].PartitionKey.TopLevelSite)

		// The same browser, holding that session, on unlisted origins. The
		// storefront's sibling and its other port share its site, so its
		// cookie partition: the cookie goes out and only CORS hides the
		// answer. A page of a third site has no cookie in its partition.
		cannotRead(t, ctx, s, s.origin("evil.storefront.test"), true)
		cannotRead(t, ctx, s, fmt.Sprintf("https://shop.storefront.test:%d", s.otherPort), true)
		cannotRead(t, ctx, s, s.origin("evil.attacker.test"), false)

		// Back on the storefront, the session is intact.
		open(t, ctx, shop)
		me := call(t, ctx, "gql", s.api, browserMe, nil)
		require.NotNil(t, me.Body.Data.Me, "%+v", me)
		require.Equal(t, "superadmin", me.Body.Data.Me.Identifier)
	})

	t.Run("cross-site, samesite lax: anonymous on the second request", func(t *testing.T) {
		t.Parallel()
		s := newSites(t, "lax", "shop.storefront.test", "api.sessions.test")
		ctx := newBrowser(t, chromium)
		open(t, ctx, s.origin("shop.storefront.test"))

		login := call(t, ctx, "gql", s.api, browserLogin, creds("superadmin", "superadmin"))
		require.Empty(t, login.Error)
		require.NotNil(t, login.Body.Data.Login, "%+v", login)
		require.Equal(t, "CurrentUser", login.Body.Data.Login.Typename, "the login itself succeeds")
		require.Empty(t, apiCookies(t, ctx, s.api), "the browser refuses a Lax cookie from a cross-site response")

		me := call(t, ctx, "gql", s.api, browserMe, nil)
		require.Empty(t, me.Error)
		require.Nil(t, me.Body.Data.Me, "%+v", me)
		require.Len(t, me.Body.Errors, 1)
		require.Equal(t, "You are not currently authorized to perform this action", me.Body.Errors[0].Message, "the next request is anonymous")
		for _, r := range s.requests() {
			require.False(t, r.cookie, "no request carried a cookie: %+v", r)
		}
	})

	t.Run("same-site API, samesite lax: logged in; a sibling cannot read", func(t *testing.T) {
		t.Parallel()
		s := newSites(t, "lax", "shop.example-store.test", "api.example-store.test")
		ctx := newBrowser(t, chromium)
		shop := s.origin("shop.example-store.test")
		open(t, ctx, shop)
		logInAndStay(t, ctx, s, shop)

		jar := apiCookies(t, ctx, s.api)
		require.Len(t, jar, 1)
		require.Equal(t, network.CookieSameSiteLax, jar[0].SameSite)
		require.Nil(t, jar[0].PartitionKey, "a first-party cookie")

		// A sibling subdomain of the same site sends the Lax cookie: before
		// CORS_ORIGINS, it could read me (finding 7).
		cannotRead(t, ctx, s, s.origin("blog.example-store.test"), true)
	})
}

// The attack in a real browser: a page on an unlisted origin that shares
// the storefront's site (a sibling subdomain), so the browser sends the
// victim's session cookie with its requests, makes the browser send a
// logout, or a login, that needs no preflight: an HTML form post and a
// no-cors fetch with credentials. The API refuses each before any work
// (HTTP 403: without the origin check they would stop at the transport's
// Content-Type check, 415), and afterwards the victim's session is intact
// and no session was added. The storefront on its listed origin logs in
// and stays logged in.
func TestBrowserCrossOriginCookie(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	for _, tc := range []struct {
		name, sameSite, storefront, api, attacker string
	}{
		// Lax cookies go with same-site requests, POSTs included.
		{"same-site API, lax", "lax", "shop.example-store.test", "api.example-store.test", "blog.example-store.test"},
		// The storefront's partition holds the cookie, and a sibling of
		// the storefront is in that partition.
		{"cross-site API, none", "none", "shop.storefront.test", "api.sessions.test", "evil.storefront.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSites(t, tc.sameSite, tc.storefront, tc.api)
			ctx := newBrowser(t, chromium)
			shop := s.origin(tc.storefront)
			open(t, ctx, shop)
			logInAndStay(t, ctx, s, shop)
			s.answers()
			rows := allSessionRows(t, s.env)

			evil := s.origin(tc.attacker)
			open(t, ctx, evil)
			for _, doc := range []string{
				logoutMutation,
				`mutation { login(username: "superadmin", password: "superadmin") { __typename } }`,
			} {
				r := call(t, ctx, "formPost", s.api, doc)
				require.Equal(t, "loaded", r.Type, "the answer loaded in the frame")
				require.Equal(t, []apiAnswer{{apiRequest{http.MethodPost, evil, true}, http.StatusForbidden}}, s.answers(),
					"form post of %s: sent with the cookie, refused", doc)

				r = call(t, ctx, "postSimple", s.api, doc)
				require.Empty(t, r.Error)
				require.Equal(t, "opaque", r.Type)
				require.Equal(t, []apiAnswer{{apiRequest{http.MethodPost, evil, true}, http.StatusForbidden}}, s.answers(),
					"no-cors fetch of %s: sent with the cookie, refused", doc)
			}
			require.Equal(t, rows, allSessionRows(t, s.env), "no login ran")

			// Back on the storefront: still logged in, logout did not run.
			open(t, ctx, shop)
			me := call(t, ctx, "gql", s.api, browserMe, nil)
			require.NotNil(t, me.Body.Data.Me, "%+v", me)
			require.Equal(t, "superadmin", me.Body.Data.Me.Identifier)
			require.Len(t, apiCookies(t, ctx, s.api), 1)
		})
	}
}
