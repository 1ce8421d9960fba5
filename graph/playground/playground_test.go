package playground

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/auth"
)

// manifest is dist/manifest.json, written by update-assets.sh.
type manifest struct {
	Files []struct {
		Name      string `json:"name"`
		Package   string `json:"package"`
		Version   string `json:"version"`
		Source    string `json:"source"`
		Integrity string `json:"integrity"`
	} `json:"files"`
}

func sri(b []byte) string {
	sum := sha512.Sum384(b)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

// servePage returns the Shop page's response.
func servePage(t *testing.T) *http.Response {
	t.Helper()
	h := Page(Config{Title: "Shop API", Namespace: "sessionserver/shop-api", Document: ShopDocument})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/shop-api", nil))
	return rec.Result()
}

// The vendored files are the ones update-assets.sh verified: each has the
// integrity the manifest recorded, which is the one the page names.
func TestManifestMatchesEmbeddedFiles(t *testing.T) {
	t.Parallel()
	b, err := files.ReadFile("dist/manifest.json")
	require.NoError(t, err)
	var m manifest
	require.NoError(t, json.Unmarshal(b, &m))
	require.Len(t, m.Files, len(vendored))
	for _, f := range m.Files {
		a, ok := assets[f.Name]
		require.True(t, ok, "%s is in the manifest but not served", f.Name)
		require.Equal(t, f.Integrity, sri(a.body), "%s@%s %s: the embedded bytes are not the verified ones", f.Package, f.Version, f.Source)
		require.Equal(t, f.Integrity, a.Integrity)
		_, err := files.ReadFile("dist/" + f.Package + "/LICENSE")
		require.NoError(t, err, "%s's licence is kept beside its files", f.Package)
	}
}

// Every asset the page names is served with its content type, a year of
// caching, and bytes whose hash is the page's integrity attribute.
func TestPageAssetsAreServedAndMatchTheirIntegrity(t *testing.T) {
	t.Parallel()
	res := servePage(t)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	page := string(body)

	refs := regexp.MustCompile(`(?:src|href)="([^"]+)" integrity="([^"]+)"`).FindAllStringSubmatch(page, -1)
	require.Len(t, refs, len(vendored)+len(own), "every script and stylesheet has an integrity attribute:\n%s", page)
	assetsHandler := Assets()
	for _, ref := range refs {
		// html/template writes + as &#43;, which the browser decodes.
		u, integrity := html.UnescapeString(ref[1]), html.UnescapeString(ref[2])
		require.True(t, strings.HasPrefix(u, "playground/assets/"), "%s: relative to the page, under AssetsPath", u)
		rec := httptest.NewRecorder()
		assetsHandler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/"+u, nil))
		require.Equal(t, http.StatusOK, rec.Code, u)
		want := "text/css; charset=utf-8"
		if strings.HasSuffix(u, ".js") {
			want = "text/javascript; charset=utf-8"
		}
		require.Equal(t, want, rec.Header().Get("Content-Type"), u)
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), u)
		require.Equal(t, "public, max-age=31536000, immutable", rec.Header().Get("Cache-Control"), u)
		require.Equal(t, integrity, sri(rec.Body.Bytes()), "%s: the browser would refuse it", u)
	}

	// A URL names its bytes: another hash, or no hash, is not found.
	for _, u := range []string{
		AssetsPath + "0000000000000000/graphiql.min.js",
		AssetsPath + "graphiql.min.js",
		AssetsPath + "manifest.json",
		AssetsPath,
	} {
		rec := httptest.NewRecorder()
		assetsHandler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
		require.Equal(t, http.StatusNotFound, rec.Code, u)
	}
}

// The page loads nothing from another host, runs no inline script, and
// says so in its CSP, with a fresh nonce for each response.
func TestPageIsSelfContained(t *testing.T) {
	t.Parallel()
	res := servePage(t)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	page := string(body)

	require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, "private, no-store", res.Header.Get("Cache-Control"))
	// No URL with a host (or scheme-relative) anywhere in the page.
	require.NotRegexp(t, `(?i)(https?:)?//[a-z0-9]`, page)
	require.NotContains(t, page, "cdn")

	// Every <script> either loads a file or is the JSON data block.
	scripts := regexp.MustCompile(`<script([^>]*)>([^<]*)</script>`).FindAllStringSubmatch(page, -1)
	require.Len(t, scripts, 5) // config, react, react-dom, graphiql, playground.js
	for _, s := range scripts {
		if strings.Contains(s[1], `type="application/json"`) {
			var cfg pageConfig
			require.NoError(t, json.Unmarshal([]byte(s[2]), &cfg), "%s", s[2])
			require.Equal(t, pageConfig{Namespace: "sessionserver/shop-api", Document: ShopDocument, AuthTokenHeader: "vendure-auth-token"}, cfg)
			continue
		}
		require.Contains(t, s[1], ` src="playground/assets/`)
		require.Empty(t, s[2], "no inline script")
	}

	csp := res.Header.Get("Content-Security-Policy")
	nonce := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, nonce)
	require.Equal(t, CSP(html.UnescapeString(nonce[1])), csp)
	require.Contains(t, csp, "default-src 'none'")
	require.Contains(t, csp, "script-src 'self';")
	require.Contains(t, csp, "connect-src 'self';")
	require.NotContains(t, csp, "unsafe")

	again := servePage(t).Header.Get("Content-Security-Policy")
	require.NotEqual(t, csp, again, "a nonce is used once")
}

// A server whose token header is not vendure-auth-token gets a page, and
// a first tab, that name its own header.
func TestPageNamesTheConfiguredTokenHeader(t *testing.T) {
	t.Parallel()
	h := Page(Config{Title: "Admin API", Namespace: "sessionserver/admin-api", Document: AdminDocument, AuthTokenHeader: "X-Session-Token"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin-api", nil))
	m := regexp.MustCompile(`<script type="application/json" id="playground-config">([^<]*)</script>`).FindStringSubmatch(rec.Body.String())
	require.NotNil(t, m)
	var cfg pageConfig
	require.NoError(t, json.Unmarshal([]byte(m[1]), &cfg))
	require.Equal(t, "x-session-token", cfg.AuthTokenHeader)
	require.Contains(t, cfg.Document, "`X-Session-Token` response header")
	require.NotContains(t, cfg.Document, auth.DefaultAuthTokenHeaderKey)
}

// A nonce never holds "/" (nor "+"), so no page can look as if it named
// another host ("//x"); a standard-base64 nonce did, about once in 200 pages.
func TestNonceIsURLSafe(t *testing.T) {
	t.Parallel()
	for range 2000 {
		n := newNonce()
		require.Regexp(t, `^[A-Za-z0-9_-]{22}$`, n)
	}
}
