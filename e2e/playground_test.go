package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/playground"
)

// The playground in a real browser that can reach nothing but the server:
// every request to another host fails in the browser (Fetch interception)
// and no host name resolves (host-resolver-rules), as on a machine without
// internet. The pages run under their own Content-Security-Policy, so a
// violation of it shows up as a console error, which fails the test like
// any other console error, uncaught exception or blocked request.

// playgroundWatch records what the tab did that the test forbids.
type playgroundWatch struct {
	host string // host:port of the server: the one host allowed

	mu      sync.Mutex
	blocked []string // URLs of requests to another host
	console []string // console errors, exceptions and error log entries
	marks   chan string
}

// flush returns once the watcher has read every console message written
// so far: it writes a mark and waits for it to come through.
func (w *playgroundWatch) flush(t *testing.T, ctx context.Context) {
	t.Helper()
	evalJS[bool](t, ctx, fmt.Sprintf(`console.info(%q), true`, consoleMark))
	_, ok := <-w.marks
	require.True(t, ok, "the console subscription ended")
}

// consoleMark is the console message of flush.
const consoleMark = "playground-test-mark"

func (w *playgroundWatch) problems() (blocked, console []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.blocked...), append([]string(nil), w.console...)
}

func (w *playgroundWatch) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.blocked, w.console = nil, nil
}

// watchPlayground makes the tab fail every request whose host is not
// w.host, and records those requests and every console error.
func watchPlayground(t *testing.T, ctx context.Context, host string) *playgroundWatch {
	t.Helper()
	w := &playgroundWatch{host: host, marks: make(chan string, 1)}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	messages := chromedp.Console(ctx)
	_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{}) // every request pauses
	require.NoError(t, err)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			// Answer from another goroutine each: the browser holds the
			// request until it is answered.
			go func() {
				u, perr := url.Parse(ev.Request.URL)
				if perr == nil && (u.Scheme == "data" || u.Host == w.host) {
					_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
					return
				}
				w.mu.Lock()
				w.blocked = append(w.blocked, ev.Request.URL)
				w.mu.Unlock()
				_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
			}()
		}
	}()
	go func() {
		defer close(w.marks)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleInfo && m.Text == consoleMark {
				w.marks <- m.Text
				continue
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				w.mu.Lock()
				w.console = append(w.console, fmt.Sprintf("%s (%s %s:%d)", m, m.Source, m.URL, m.Line))
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// pageJS are the page helpers the test evaluates. Runtime.evaluate is not
// bound by the page's CSP, so they need no eval in the page (chromedp.Poll
// builds its predicate with new Function, which the CSP refuses).
const pageJS = `
window.pgt = {
  // cm returns the CodeMirror instance inside the element matching sel.
  cm(sel) {
    const el = document.querySelector(sel + ' .CodeMirror');
    return el && el.CodeMirror;
  },
  // until resolves with f()'s first truthy value, checking every 50 ms, and
  // rejects after 30 s (chromedp's own bound for its waits).
  until(what, f) {
    const end = Date.now() + 30000;
    return new Promise((resolve, reject) => {
      (function tick() {
        let v;
        try { v = f(); } catch (e) {}
        if (v) return resolve(v);
        if (Date.now() > end) return reject(new Error('timed out waiting for ' + what));
        setTimeout(tick, 50);
      })();
    });
  },
};
`

// evalJS evaluates expr (awaiting a promise) and decodes its value.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "%s", expr)
	return v
}

// openPlayground opens the playground of the API at u and waits until
// GraphiQL has rendered its editors and loaded the schema (introspection,
// through the page's fetcher).
func openPlayground(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	require.NoError(t, err)
	require.NotNil(t, resp, "no response for %s", u)
	require.Equal(t, int64(200), resp.Status)
	require.Contains(t, resp.MimeType, "text/html")
	evalJS[bool](t, ctx, pageJS+`pgt.until('the schema', () => pgt.cm('.graphiql-response') && pgt.cm('.graphiql-query-editor').options.hintOptions.schema)
		.then(() => true)`)
}

// queryText returns the text of the query editor.
func queryText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return evalJS[string](t, ctx, `pgt.cm('.graphiql-query-editor').getValue()`)
}

// headersText returns the text of the headers editor (the second editor of
// the variables/headers pane, whichever of the two is shown).
func headersText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return evalJS[string](t, ctx, `pgt.cm('.graphiql-editor-tool .graphiql-editor:nth-child(2)').getValue()`)
}

// runQuery puts doc into the query editor, clicks the run button, and
// returns the response pane's JSON.
func runQuery(t *testing.T, ctx context.Context, doc string) map[string]any {
	t.Helper()
	d, err := json.Marshal(doc)
	require.NoError(t, err)
	// GraphiQL reads the operations of the document a moment after an edit;
	// until then the run button may still offer the operations of the
	// previous (multi-operation) document as a menu.
	evalJS[bool](t, ctx, fmt.Sprintf(`(() => {
		const q = pgt.cm('.graphiql-query-editor');
		q.setValue(%s);
		pgt.cm('.graphiql-response').setValue('');
		return pgt.until('the operations of the document', () =>
			q.documentAST && q.documentAST.loc.source.body === q.getValue() && q.operations.length === 1 &&
			!document.querySelector('.graphiql-execute-button').hasAttribute('aria-haspopup'));
	})()`, d))
	_, err = chromedp.Run(ctx, chromedp.Click(chromedp.CSS(".graphiql-execute-button")))
	require.NoError(t, err)
	text := evalJS[string](t, ctx, `pgt.until('a response', () => pgt.cm('.graphiql-response').getValue())`)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &out), "%s", text)
	return out
}

// field walks a decoded JSON value along keys.
func field(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// The Shop and Admin playgrounds, in cookie and in bearer mode, load and run
// queries with nothing but the server reachable; each API keeps its own
// tabs; in bearer mode the token of a login is captured into the Headers
// pane and authenticates the next query; and GraphiQL's dialogs work under
// the page's CSP.
func TestPlaygroundOffline(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	// No host name resolves; the servers are on 127.0.0.1.
	browser := newBrowser(t, chromium, chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"))

	for _, mode := range []string{"cookie", "bearer"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, backends()[0], withTokenMethods(mode))
			base, err := url.Parse(e.srv.URL)
			require.NoError(t, err)
			ctx, cancel := chromedp.NewContext(browser) // a tab of its own
			t.Cleanup(cancel)
			w := watchPlayground(t, ctx, base.Host)
			t.Cleanup(func() {
				if t.Failed() { // what the page said may explain a failed wait
					blocked, console := w.problems()
					t.Logf("blocked requests: %q\nconsole: %q", blocked, console)
				}
			})

			// The blocker works: the CDN that gqlgen's playground loads
			// GraphiQL from is refused, and the attempt recorded.
			cdn := "https://cdn.jsdelivr.net/npm/graphiql@4.1.2/graphiql.min.js"
			_, err = chromedp.Run(ctx, chromedp.NavigateResponse(cdn))
			require.Error(t, err)
			blocked, _ := w.problems()
			require.Equal(t, []string{cdn}, blocked)
			w.reset()
			// Settle the tab on a page of its own before the next
			// navigation: the refused one's error page may still be
			// committing, and a navigation racing it reports no response.
			_, err = chromedp.Run(ctx, chromedp.Navigate("about:blank"))
			require.NoError(t, err)

			shop, admin := e.srv.URL+app.ShopPath, e.srv.URL+app.AdminPath
			openPlayground(t, ctx, shop)
			require.Equal(t, playground.ShopDocument, queryText(t, ctx), "a fresh browser opens the Shop document")
			res := runQuery(t, ctx, `{ activeChannel { code } }`)
			require.Equal(t, entity.DefaultChannelCode, field(res, "data", "activeChannel", "code"), "%v", res)

			openPlayground(t, ctx, admin)
			require.Equal(t, playground.AdminDocument, queryText(t, ctx), "the Admin playground has its own tabs")
			res = runQuery(t, ctx, `mutation { login(username: "superadmin", password: "superadmin") { __typename ... on CurrentUser { identifier } } }`)
			require.Equal(t, "CurrentUser", field(res, "data", "login", "__typename"), "%v", res)
			adminToken := evalJS[string](t, ctx, `localStorage.getItem('sessionserver/admin-api:auth-token') || ''`)
			if mode == "bearer" {
				// The login's token, from the vendure-auth-token header, is
				// in the Headers pane, and only this pane sends it (a
				// bearer-only server sets no cookie).
				require.NotEmpty(t, adminToken)
				require.JSONEq(t, fmt.Sprintf(`{"Authorization": "Bearer %s"}`, adminToken), headersText(t, ctx))
			} else {
				require.Empty(t, adminToken, "cookie mode sends no token header")
				require.Empty(t, headersText(t, ctx))
			}
			res = runQuery(t, ctx, `{ me { identifier } }`)
			require.Equal(t, "superadmin", field(res, "data", "me", "identifier"), "%v", res)

			// GraphiQL's dialogs lock scrolling with a <style> element:
			// it carries the page's nonce, so the CSP lets it apply.
			_, err = chromedp.Run(ctx, chromedp.Click(chromedp.CSS(`[aria-label="Open settings dialog"]`)))
			require.NoError(t, err)
			require.True(t, evalJS[bool](t, ctx, `pgt.until('the settings dialog', () => document.querySelector('[role=dialog]'))
				.then(() => [...document.querySelectorAll('style')].some(s => s.textContent.includes('with-scroll-bars-hidden') && s.sheet !== null))`))

			// Back on the Shop playground: its own last query, and not the
			// Admin token.
			openPlayground(t, ctx, shop)
			require.Equal(t, `{ activeChannel { code } }`, queryText(t, ctx))
			if mode == "bearer" {
				require.NotContains(t, headersText(t, ctx), adminToken)
				require.NotEqual(t, adminToken, evalJS[string](t, ctx, `localStorage.getItem('sessionserver/shop-api:auth-token') || ''`))
			}

			w.flush(t, ctx)
			blocked, console := w.problems()
			require.Empty(t, blocked, "requests to other hosts")
			require.Empty(t, console, "console errors, exceptions and CSP violations")
		})
	}
}
