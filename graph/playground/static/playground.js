// playground.js starts GraphiQL on the page of one API (package playground).
// It is a served file, not an inline script, so the page's CSP can allow
// scripts from this origin only; it reads its settings from the page's
// #playground-config JSON block.
//
// What it adds to a plain GraphiQL:
//   - the editor state (tabs, headers, the captured token) lives in
//     localStorage under the API's own namespace, so the Shop and Admin
//     playgrounds, which share an origin, do not share tabs;
//   - the fetcher captures the session token that the server sends in its
//     auth-token response header (bearer mode) and writes it into the
//     Headers pane as "Authorization: Bearer <token>", from where every
//     later request sends it. What the Headers pane shows is exactly what is
//     sent; deleting the header makes the next request anonymous. New tabs
//     start with the last captured token.
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('playground-config').textContent);

  // GraphiQL's dialogs (Radix UI's scroll lock) add a <style> element and
  // give it this global's value as its nonce; the page's CSP allows inline
  // styles with the page's nonce only.
  window.__webpack_nonce__ = document.currentScript.nonce;

  var h = React.createElement;
  var storage = GraphiQL.createLocalStorage({ namespace: config.namespace });
  var tokenKey = 'auth-token'; // stored as "<namespace>:auth-token"
  // The page is served at the API's own URL.
  var endpoint = window.location.pathname;

  // authorizationOf returns the Authorization header of headers, whatever
  // its case.
  function authorizationOf(headers) {
    for (var k in headers) {
      if (k.toLowerCase() === 'authorization') return headers[k];
    }
    return undefined;
  }

  // withToken returns headers with its Authorization header replaced by the
  // bearer token.
  function withToken(headers, token) {
    var out = {};
    for (var k in headers) {
      if (k.toLowerCase() !== 'authorization') out[k] = headers[k];
    }
    out.Authorization = 'Bearer ' + token;
    return out;
  }

  function pretty(headers) {
    return JSON.stringify(headers, null, 2);
  }

  function Playground() {
    var stored = storage.getItem(tokenKey);
    var tokenState = React.useState(stored);
    var headersState = React.useState(undefined);
    var setToken = tokenState[1];
    var setHeaders = headersState[1];

    var fetcher = React.useMemo(function () {
      return async function (params, opts) {
        var sent = Object.assign({}, opts && opts.headers);
        var res = await fetch(endpoint, {
          method: 'POST',
          credentials: 'same-origin',
          headers: Object.assign({ 'content-type': 'application/json', accept: 'application/json' }, sent),
          body: JSON.stringify(params),
        });
        var token = res.headers.get(config.authTokenHeader);
        if (token && authorizationOf(sent) !== 'Bearer ' + token) {
          storage.setItem(tokenKey, token);
          setToken(token);
          // GraphiQL replaces the Headers pane's text whenever this prop
          // changes, and saves it with the active tab.
          setHeaders(pretty(withToken(sent, token)));
        }
        var text = await res.text();
        try {
          return JSON.parse(text);
        } catch (e) {
          return { errors: [{ message: 'HTTP ' + res.status + ': ' + text }] };
        }
      };
    }, []);

    var token = tokenState[0];
    return h(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
      defaultQuery: config.document,
      headers: headersState[0],
      defaultHeaders: token ? pretty(withToken({}, token)) : undefined,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(document.getElementById('graphiql')).render(h(Playground));
})();
