package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Case names, in the order they run.
const (
	caseMe          = "me"
	caseActiveOrder = "active-order"
	caseAddItem     = "add-item"
	caseMiss        = "miss"
	caseLogin       = "login"
	caseGuest       = "guest"
)

// The server's paths and seeded credentials (config's defaults).
const (
	shopPath      = "/shop-api"
	adminPath     = "/admin-api"
	superadmin    = "superadmin"
	superPassword = "superadmin"
	tokenHeader   = "Vendure-Auth-Token"
)

// The customer the me and login cases use.
const (
	customerEmail    = "loadtest.customer@example.com"
	customerPassword = "loadtest-password"
)

// The documents the cases send. meDocument is internal/bench/me-tokens.lua's,
// so that the wrk run of the me case sends the same request.
const (
	meDocument          = `{ me { id identifier } }`
	activeOrderDocument = `{ activeOrder { id code totalQuantity subTotalWithTax lines { id quantity linePriceWithTax productVariant { id name sku } } } }`
	addItemDocument     = `mutation { addItemToOrder(productVariantId: "1", quantity: 1) { ... on Order { id totalQuantity } ... on ErrorResult { errorCode } } }`
	guestDocument       = `{ activeCustomer { id } }`
	loginDocument       = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { ... on CurrentUser { id } ... on ErrorResult { errorCode message } } }`
)

// caseDef is one kind of request to load the server with.
type caseDef struct {
	name string
	// prepare makes what the case needs on the server behind f (once per
	// server) and returns the target to load.
	prepare func(ctx context.Context, f *fixtures) (*target, error)
}

// cases are every case, in the order they run: the guest case last, since
// the guest sessions it creates fill the session cache.
var cases = []caseDef{
	{caseMe, prepareMe},
	{caseActiveOrder, prepareActiveOrder},
	{caseAddItem, prepareAddItem},
	{caseMiss, prepareMiss},
	{caseLogin, prepareLogin},
	{caseGuest, prepareGuest},
}

func caseNames() []string {
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.name
	}
	return names
}

// parseCases returns the cases named in a comma-separated list, in their
// running order, each once.
func parseCases(list string) ([]caseDef, error) {
	want := map[string]bool{}
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		known := false
		for _, c := range cases {
			known = known || c.name == name
		}
		if !known {
			return nil, fmt.Errorf("-cases: unknown case %q (cases: %s)", name, strings.Join(caseNames(), ", "))
		}
		want[name] = true
	}
	var out []caseDef
	for _, c := range cases {
		if want[c.name] {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("-cases: no case given")
	}
	return out, nil
}

// request is one request a worker sends: a GraphQL body, and a bearer token
// ("" for none).
type request struct {
	body  []byte
	token string
}

// target is a prepared case.
type target struct {
	url string
	// source returns worker w's request maker (called once per worker, so
	// that it may keep state without locks); conns is the worker count.
	source func(w, conns int) func() request
	// ok reports whether an answer is the case's expected one.
	ok func(status int, header http.Header, body []byte) bool
	// token is the bearer token of a case that repeats one (me), for wrk.
	token string
}

// fixed returns a source that sends the same request every time.
func fixed(r request) func(w, conns int) func() request {
	return func(int, int) func() request { return func() request { return r } }
}

// graphQLBody is the JSON body of a GraphQL request (without variables when
// vars is nil, as the wrk scripts send it).
func graphQLBody(query string, vars map[string]any) []byte {
	m := map[string]any{"query": query}
	if vars != nil {
		m["variables"] = vars
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // strings and numbers only
	}
	return b
}

// dataOK returns an answer check: HTTP 200, no GraphQL errors, and data
// starting with prefix (e.g. `{"data":{"me":{"id":`).
func dataOK(prefix string) func(int, http.Header, []byte) bool {
	p := []byte(prefix)
	return func(status int, _ http.Header, body []byte) bool {
		return status == http.StatusOK && bytes.HasPrefix(body, p) && !bytes.Contains(body, []byte(`"errors"`))
	}
}

// fixtures are what the cases prepare on one server, made once each.
type fixtures struct {
	base   string // http://127.0.0.1:port
	carts  int
	conns  int
	client *http.Client

	mu            sync.Mutex
	customerToken string
	cartTokens    []string
}

func newFixtures(base string, carts, conns int) *fixtures {
	return &fixtures{base: base, carts: carts, conns: conns, client: &http.Client{Timeout: time.Minute}}
}

// answer is a GraphQL response as the fixtures read it.
type answer struct {
	status int
	token  string // the auth token header
	body   []byte
}

// post sends one GraphQL request to path with token ("" for none).
func (f *fixtures) post(ctx context.Context, path, token, query string, vars map[string]any) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.base+path, bytes.NewReader(graphQLBody(query, vars)))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, token: resp.Header.Get(tokenHeader), body: body}, nil
}

// mustData posts and fails unless the answer is a 200 without errors whose
// data starts with prefix.
func (f *fixtures) mustData(ctx context.Context, what, path, token, query string, vars map[string]any, prefix string) (answer, error) {
	a, err := f.post(ctx, path, token, query, vars)
	if err != nil {
		return a, fmt.Errorf("%s: %w", what, err)
	}
	if !dataOK(prefix)(a.status, nil, a.body) {
		return a, fmt.Errorf("%s: HTTP %d %s", what, a.status, truncate(a.body, 300))
	}
	return a, nil
}

// customer creates the load test's customer (through the Admin API, with a
// password, so verified) and logs it in on the Shop API once; it returns
// the customer's bearer token.
func (f *fixtures) customer(ctx context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.customerToken != "" {
		return f.customerToken, nil
	}
	admin, err := f.mustData(ctx, "superadmin login", adminPath, "", loginDocument,
		map[string]any{"u": superadmin, "p": superPassword}, `{"data":{"login":{"id":`)
	if err != nil {
		return "", err
	}
	const create = `mutation($input: CreateCustomerInput!, $password: String) {
		createCustomer(input: $input, password: $password) { ... on Customer { id } ... on ErrorResult { errorCode message } } }`
	if _, err := f.mustData(ctx, "createCustomer", adminPath, admin.token, create, map[string]any{
		"input":    map[string]any{"firstName": "Load", "lastName": "Test", "emailAddress": customerEmail},
		"password": customerPassword,
	}, `{"data":{"createCustomer":{"id":`); err != nil {
		return "", err
	}
	login, err := f.mustData(ctx, "customer login", shopPath, "", loginDocument,
		map[string]any{"u": customerEmail, "p": customerPassword}, `{"data":{"login":{"id":`)
	if err != nil {
		return "", err
	}
	if login.token == "" {
		return "", errors.New("customer login: no vendure-auth-token header (TOKEN_METHOD must include bearer)")
	}
	f.customerToken = login.token
	return f.customerToken, nil
}

// newCart makes a guest session whose cart holds one line per variant id.
func (f *fixtures) newCart(ctx context.Context, variants ...string) (string, error) {
	const add = `mutation($v: ID!) { addItemToOrder(productVariantId: $v, quantity: 1) { ... on Order { id } ... on ErrorResult { errorCode message } } }`
	token := ""
	for _, v := range variants {
		a, err := f.mustData(ctx, "addItemToOrder", shopPath, token, add, map[string]any{"v": v}, `{"data":{"addItemToOrder":{"id":`)
		if err != nil {
			return "", err
		}
		if token == "" {
			token = a.token
		}
		if token == "" {
			return "", errors.New("addItemToOrder without a token: no vendure-auth-token header")
		}
	}
	return token, nil
}

func prepareMe(ctx context.Context, f *fixtures) (*target, error) {
	token, err := f.customer(ctx)
	if err != nil {
		return nil, err
	}
	return &target{
		url:    f.base + shopPath,
		source: fixed(request{graphQLBody(meDocument, nil), token}),
		ok:     dataOK(`{"data":{"me":{"id":`),
		token:  token,
	}, nil
}

func prepareActiveOrder(ctx context.Context, f *fixtures) (*target, error) {
	token, err := f.newCart(ctx, "1", "2", "3")
	if err != nil {
		return nil, err
	}
	check := dataOK(`{"data":{"activeOrder":{"id":`)
	return &target{
		url:    f.base + shopPath,
		source: fixed(request{graphQLBody(activeOrderDocument, nil), token}),
		ok: func(status int, h http.Header, body []byte) bool {
			return check(status, h, body) && bytes.Count(body, []byte(`"productVariant"`)) == 3
		},
	}, nil
}

// prepareAddItem makes f.carts guest carts (one line each). Worker w cycles
// through the carts w, w+conns, w+2·conns…, so that no two requests in
// flight wait for one order's row lock (they would with fewer carts than
// connections). Each request adds one item to the cart's line; a cart
// takes 999 before the server refuses (Vendure's orderItemsLimit), so
// -carts must be large enough for the run's requests.
func prepareAddItem(ctx context.Context, f *fixtures) (*target, error) {
	f.mu.Lock()
	have := len(f.cartTokens)
	f.mu.Unlock()
	if have < f.carts {
		tokens := make([]string, f.carts-have)
		errs := make([]error, len(tokens))
		var wg sync.WaitGroup
		workers := min(8, len(tokens))
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(tokens); i += workers {
					if tokens[i], errs[i] = f.newCart(ctx, "1"); errs[i] != nil {
						return
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.cartTokens = append(f.cartTokens, tokens...)
		f.mu.Unlock()
	}
	tokens := f.cartTokens
	body := graphQLBody(addItemDocument, nil)
	return &target{
		url: f.base + shopPath,
		source: func(w, conns int) func() request {
			var own []string
			for i := w % len(tokens); i < len(tokens); i += conns {
				own = append(own, tokens[i])
			}
			i := 0
			return func() request {
				i = (i + 1) % len(own)
				return request{body, own[i]}
			}
		},
		ok: dataOK(`{"data":{"addItemToOrder":{"id":`),
	}, nil
}

// prepareMiss: each request a new random token of the real tokens' shape
// (32 random bytes in hex), so each is a cache miss and a database read
// (the negative cache never sees a token twice). The expected answer is
// me null with FORBIDDEN, Vendure's answer to an unknown token.
func prepareMiss(_ context.Context, f *fixtures) (*target, error) {
	body := graphQLBody(meDocument, nil)
	return &target{
		url: f.base + shopPath,
		source: func(w, _ int) func() request {
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			var raw [32]byte
			return func() request {
				for i := 0; i < len(raw); i += 8 {
					v := rng.Uint64()
					for j := range 8 {
						raw[i+j] = byte(v >> (8 * j))
					}
				}
				return request{body, hex.EncodeToString(raw[:])}
			}
		},
		ok: func(status int, _ http.Header, body []byte) bool {
			return status == http.StatusOK && bytes.Contains(body, []byte(`"me":null`)) &&
				bytes.Contains(body, []byte(`"FORBIDDEN"`))
		},
	}, nil
}

func prepareLogin(ctx context.Context, f *fixtures) (*target, error) {
	if _, err := f.customer(ctx); err != nil {
		return nil, err
	}
	return &target{
		url:    f.base + shopPath,
		source: fixed(request{graphQLBody(loginDocument, map[string]any{"u": customerEmail, "p": customerPassword}), ""}),
		ok:     dataOK(`{"data":{"login":{"id":`),
	}, nil
}

// prepareGuest: no token is ever sent, so each request makes a new guest
// session; the answer must carry its token.
func prepareGuest(_ context.Context, f *fixtures) (*target, error) {
	want := []byte(`{"data":{"activeCustomer":null}}`)
	return &target{
		url:    f.base + shopPath,
		source: fixed(request{graphQLBody(guestDocument, nil), ""}),
		ok: func(status int, h http.Header, body []byte) bool {
			return status == http.StatusOK && h.Get(tokenHeader) != "" && bytes.Equal(body, want)
		},
	}, nil
}

// truncate returns b as a string of at most n bytes.
func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
