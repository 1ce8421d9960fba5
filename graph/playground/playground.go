// Package playground serves GraphiQL from the server itself: pinned builds of
// GraphiQL and React (dist/, fetched and verified by update-assets.sh, with
// their LICENSE files), a small boot script of our own (static/), and one
// page per API, under a strict Content-Security-Policy. Nothing is loaded
// from another host, so the playground works on a machine without internet.
//
// The page references each asset by a URL that carries a hash of its bytes,
// with the same bytes' subresource-integrity hash in its integrity
// attribute; assets are therefore cached for a year and never revalidated,
// and a new build gets new URLs.
package playground

import (
	"crypto/rand"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/shopsession/sessionserver/auth"
)

// AssetsPath is where Assets is mounted. The page refers to it relative to
// itself ("playground/assets/…" from /shop-api), so the playground also
// works behind a proxy that mounts the server under a path prefix.
const AssetsPath = "/playground/assets/"

var (
	//go:embed dist static
	files embed.FS

	// ShopDocument is the first tab of the Shop API playground.
	//go:embed shop.graphql
	ShopDocument string
	// AdminDocument is the first tab of the Admin API playground.
	//go:embed admin.graphql
	AdminDocument string
)

// asset is one served file.
type asset struct {
	Name        string // file name, as in the manifest
	URL         string // relative to the page: playground/assets/<hash>/<name>
	Integrity   string // sha384-<base64>, for the integrity attribute
	ContentType string
	body        []byte
}

// assets are every served file by name, and byPath the same by request path.
var assets, byPath = mustLoadAssets()

// vendored lists dist/'s served files, in the order the page loads them
// (React before GraphiQL, which needs window.React and window.ReactDOM).
var vendored = []string{
	"graphiql/graphiql.min.css",
	"react/react.production.min.js",
	"react-dom/react-dom.production.min.js",
	"graphiql/graphiql.min.js",
}

// own are our files in static/.
var own = []string{"static/playground.css", "static/playground.js"}

// mustLoadAssets hashes every embedded asset once. It panics only if the
// embedded tree is not what this file lists, which go test catches.
func mustLoadAssets() (map[string]*asset, map[string]*asset) {
	byName, byPath := map[string]*asset{}, map[string]*asset{}
	for _, p := range append(append([]string{}, vendored...), own...) {
		body, err := fs.ReadFile(files, pathIn(p))
		if err != nil {
			panic(fmt.Sprintf("playground: embedded asset: %v", err))
		}
		sum := sha512.Sum384(body)
		name := path.Base(p)
		a := &asset{
			Name:        name,
			URL:         strings.TrimPrefix(AssetsPath, "/") + hex.EncodeToString(sum[:8]) + "/" + name,
			Integrity:   "sha384-" + base64.StdEncoding.EncodeToString(sum[:]),
			ContentType: contentType(name),
			body:        body,
		}
		byName[name] = a
		byPath["/"+a.URL] = a
	}
	return byName, byPath
}

// pathIn maps a vendored name ("react/x.js") to its place under dist/.
func pathIn(p string) string {
	if strings.HasPrefix(p, "static/") {
		return p
	}
	return "dist/" + p
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return "application/octet-stream"
}

// Assets serves the files the pages refer to, mounted at AssetsPath.
// A URL names the hash of the bytes it serves, so a response may be cached
// for a year; any other path under AssetsPath is a 404.
func Assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := byPath[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ContentType)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", fmt.Sprint(len(a.body)))
		_, _ = w.Write(a.body)
	})
}

// Config is one API's playground page.
type Config struct {
	// Title is the page title, e.g. "Shop API".
	Title string
	// Namespace prefixes this page's keys in the browser's localStorage
	// (tabs, headers, the captured token), so each API keeps its own
	// editor state on the one origin they share. Required.
	Namespace string
	// Document opens the first tab when the browser has no saved tabs for
	// this Namespace: ShopDocument or AdminDocument.
	Document string
	// AuthTokenHeader is the response header in which the server sends a
	// new session token in bearer mode (AUTH_TOKEN_HEADER_KEY); the page
	// captures it and sends it back as Authorization: Bearer. Defaults to
	// auth.DefaultAuthTokenHeaderKey.
	AuthTokenHeader string
}

// pageConfig is what the boot script reads from the page (a JSON data
// block, which the CSP does not treat as a script).
type pageConfig struct {
	Namespace       string `json:"namespace"`
	Document        string `json:"document"`
	AuthTokenHeader string `json:"authTokenHeader"`
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · GraphiQL</title>
<link rel="icon" href="data:,">
{{- range .Styles}}
<link rel="stylesheet" href="{{.URL}}" integrity="{{.Integrity}}">
{{- end}}
</head>
<body>
<div id="graphiql"><div class="playground-loading">Loading…</div></div>
<noscript>The playground needs JavaScript.</noscript>
<script type="application/json" id="playground-config">{{.Config}}</script>
{{- range .Scripts}}
<script src="{{.URL}}" integrity="{{.Integrity}}" nonce="{{$.Nonce}}"></script>
{{- end}}
</body>
</html>
`))

// Page returns the playground page of one API. Its CSP allows scripts and
// stylesheets from this origin only (each also pinned by its integrity
// attribute), requests to this origin only, fonts and images inline in
// GraphiQL's stylesheet (data: URLs), and no inline script at all. The one
// inline style it allows carries the response's nonce: GraphiQL's dialogs
// (Radix UI) lock page scrolling with a <style> element, whose nonce the
// boot script hands them (see static/playground.js).
func Page(cfg Config) http.Handler {
	if cfg.Namespace == "" {
		panic("playground: Config.Namespace is required")
	}
	if cfg.AuthTokenHeader == "" {
		cfg.AuthTokenHeader = auth.DefaultAuthTokenHeaderKey
	}
	// The default document explains the default header name; a server
	// configured with another one says that one.
	doc := strings.ReplaceAll(cfg.Document, auth.DefaultAuthTokenHeaderKey, cfg.AuthTokenHeader)
	data := struct {
		Title   string
		Config  pageConfig
		Styles  []*asset
		Scripts []*asset
		Nonce   string
	}{
		Title:  cfg.Title,
		Config: pageConfig{Namespace: cfg.Namespace, Document: doc, AuthTokenHeader: strings.ToLower(cfg.AuthTokenHeader)},
	}
	for _, p := range append(append([]string{}, vendored...), own...) {
		a := assets[path.Base(p)]
		if path.Ext(p) == ".css" {
			data.Styles = append(data.Styles, a)
		} else {
			data.Scripts = append(data.Scripts, a)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		d := data
		d.Nonce = newNonce()
		var b strings.Builder
		if err := page.Execute(&b, d); err != nil {
			http.Error(w, "playground: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", CSP(d.Nonce))
		// A nonce is good for one response only: no cache, shared or
		// the browser's, keeps the page.
		h.Set("Cache-Control", "private, no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		_, _ = w.Write([]byte(b.String()))
	})
}

// CSP is the page's Content-Security-Policy for a response's nonce.
func CSP(nonce string) string {
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' 'nonce-" + nonce + "'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

// newNonce returns 128 random bits, base64: a CSP nonce.
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	// URL-safe base64 (allowed by CSP's nonce grammar) has no "/": a
	// standard one could hold "//", which reads like a protocol-relative
	// URL to anyone checking that the page names no other host.
	return base64.RawURLEncoding.EncodeToString(b)
}
