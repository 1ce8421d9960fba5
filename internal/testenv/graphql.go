package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopsession/sessionserver/auth"
)

// TokenMode says how a GraphQL Client sends its session token back.
type TokenMode int

// Token modes.
const (
	// Bearer stores the vendure-auth-token response header (even when empty,
	// as Vendure's test client does) and sends it as Authorization: Bearer.
	Bearer TokenMode = iota
	// Cookie keeps the session cookie as a browser does and sends it back.
	Cookie
)

// Client is a storefront-like GraphQL client for one endpoint that sees
// response headers and cookies (gqlgen's client package cannot).
type Client struct {
	t        testing.TB
	url      string
	mode     TokenMode
	http     *http.Client
	Token    string // bearer token held by the client
	Cookie   *http.Cookie
	Channel  string            // sent as the vendure-token header when not empty
	Header   map[string]string // extra request headers
	tokenKey string
}

// ClientTimeout bounds each request of a Client: a guard against a hung
// server, longer than the bounds the tests give a server (QueryTimeout).
const ClientTimeout = 2 * time.Minute

// NewClient returns a client for url (e.g. server.URL + "/shop-api").
func NewClient(t testing.TB, url string, mode TokenMode) *Client {
	return &Client{t: t, url: url, mode: mode, http: &http.Client{Timeout: ClientTimeout}, tokenKey: auth.DefaultAuthTokenHeaderKey}
}

// Response is one GraphQL response with its HTTP parts.
type Response struct {
	Status  int
	Header  http.Header
	Cookies []*http.Cookie
	Data    json.RawMessage
	Errors  []Error
}

// Error is a GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e Error) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// ErrorCode returns the code of the first error, or "".
func (r *Response) ErrorCode() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code()
}

// TokenHeader returns the vendure-auth-token response header and whether it
// was present.
func (r *Response) TokenHeader() (string, bool) {
	v, ok := r.Header[http.CanonicalHeaderKey(auth.DefaultAuthTokenHeaderKey)]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// SessionCookie returns the Set-Cookie of the named cookie, or nil.
func (r *Response) SessionCookie(name string) *http.Cookie {
	for _, c := range r.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Decode unmarshals data into v, failing the test on error.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// Do posts a GraphQL document with variables and updates the held token
// from the response, as a storefront does.
func (c *Client) Do(query string, vars map[string]any) *Response {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		c.t.Fatalf("encode request: %v", err)
	}
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Channel != "" {
		req.Header.Set(auth.DefaultChannelTokenKey, c.Channel)
	}
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	switch c.mode {
	case Bearer:
		if c.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
	case Cookie:
		if c.Cookie != nil {
			req.AddCookie(&http.Cookie{Name: c.Cookie.Name, Value: c.Cookie.Value})
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", c.url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Cookies: resp.Cookies()}
	var payload struct {
		Data   json.RawMessage `json:"data"`
		Errors []Error         `json:"errors"`
	}
	if err := json.Unmarshal(raw, &payload); err != nil {
		c.t.Fatalf("response is not GraphQL JSON (status %d): %s", resp.StatusCode, raw)
	}
	out.Data, out.Errors = payload.Data, payload.Errors
	if tok, ok := out.TokenHeader(); ok && c.mode == Bearer {
		c.Token = tok
	}
	if c.mode == Cookie {
		for _, ck := range out.Cookies {
			if ck.MaxAge < 0 || ck.Value == "" {
				c.Cookie = nil
			} else if strings.TrimSpace(ck.Value) != "" {
				c.Cookie = ck
			}
		}
	}
	return out
}
