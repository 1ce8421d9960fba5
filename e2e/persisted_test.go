package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/persisted"
)

// Persisted documents: automatic persisted queries (Apollo's protocol) and
// registered documents (an allow-list), as clients send them.

const activeChannelCode = `query activeChannel { activeChannel { code } }`

// pqRequest is one request of a persisted-documents client.
type pqRequest struct {
	OperationName string
	Query         string         // sent when not empty
	Hash          string         // extensions.persistedQuery.sha256Hash, when not empty
	DocumentID    string         // documentId, when not empty
	Variables     map[string]any // sent when not nil
	// Extensions, when not nil, are sent instead of Hash's.
	Extensions map[string]any
	// Header holds request headers (a session token).
	Header map[string]string
}

// fields are the request's parameters, as Apollo Client and GraphQL
// Codegen's clients name them.
func (r pqRequest) fields() map[string]any {
	f := map[string]any{}
	if r.OperationName != "" {
		f["operationName"] = r.OperationName
	}
	if r.Query != "" {
		f["query"] = r.Query
	}
	if r.Variables != nil {
		f["variables"] = r.Variables
	}
	if r.DocumentID != "" {
		f["documentId"] = r.DocumentID
	}
	switch {
	case r.Extensions != nil:
		f["extensions"] = r.Extensions
	case r.Hash != "":
		f["extensions"] = map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": r.Hash}}
	}
	return f
}

// body is the request's POST body.
func (r pqRequest) body(t testing.TB) []byte {
	t.Helper()
	b, err := json.Marshal(r.fields())
	require.NoError(t, err)
	return b
}

// url is the request's GET URL: each parameter in the query string, the
// objects as JSON, as Apollo's HTTP link writes them.
func (r pqRequest) url(t testing.TB, endpoint string) string {
	t.Helper()
	q := url.Values{}
	for k, v := range r.fields() {
		if s, ok := v.(string); ok {
			q.Set(k, s)
			continue
		}
		b, err := json.Marshal(v)
		require.NoError(t, err)
		q.Set(k, string(b))
	}
	return endpoint + "?" + q.Encode()
}

// send sends the request by POST (JSON body) or GET (URL) and returns the
// status and the decoded response.
func (r pqRequest) send(t testing.TB, method, endpoint string) (int, testenv.Response) {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(method, r.url(t, endpoint), nil)
	} else {
		req, err = http.NewRequest(method, endpoint, strings.NewReader(string(r.body(t))))
		req.Header.Set("Content-Type", "application/json")
	}
	require.NoError(t, err)
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: testenv.ClientTimeout}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out testenv.Response
	require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	return resp.StatusCode, out
}

// requireCode checks a refusal: its status, code and no data.
func requireCode(t testing.TB, status int, code string, gotStatus int, got testenv.Response) {
	t.Helper()
	require.Len(t, got.Errors, 1, "%+v", got.Errors)
	require.Equal(t, code, got.ErrorCode(), "%+v", got.Errors)
	require.Equal(t, status, gotStatus, "%+v", got.Errors)
}

// requireRuns checks an answer with data and no errors.
func requireRuns(t testing.TB, want string, status int, got testenv.Response) {
	t.Helper()
	require.Empty(t, got.Errors)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, want, string(got.Data))
}

// The Apollo round trip on every backend, by POST and by GET, on both
// APIs: the hash alone is not found (200, so that the client retries),
// the hash with the document runs and registers it, the hash alone then
// runs.
func TestAPQRoundTrip(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		for _, c := range []struct {
			method, path, doc, want string
		}{
			{http.MethodPost, app.ShopPath, activeChannelCode, `{"activeChannel":{"code":"__default_channel__"}}`},
			{http.MethodGet, app.ShopPath, `query activeChannel { activeChannel { code token } }`, `{"activeChannel":{"code":"__default_channel__","token":"e2e-default-channel"}}`},
			{http.MethodPost, app.AdminPath, `query typename { __typename }`, `{"__typename":"Query"}`},
		} {
			endpoint := e.srv.URL + c.path
			hashOnly := pqRequest{Hash: persisted.Hash(c.doc)}
			status, r := hashOnly.send(t, c.method, endpoint)
			requireCode(t, http.StatusOK, "PERSISTED_QUERY_NOT_FOUND", status, r)
			require.Equal(t, "PersistedQueryNotFound", r.Errors[0].Message, "Apollo clients match the message too")

			status, r = pqRequest{Query: c.doc, Hash: persisted.Hash(c.doc)}.send(t, c.method, endpoint)
			requireRuns(t, c.want, status, r)

			status, r = hashOnly.send(t, c.method, endpoint)
			requireRuns(t, c.want, status, r)
			status, r = pqRequest{Hash: strings.ToUpper(persisted.Hash(c.doc))}.send(t, c.method, endpoint)
			requireRuns(t, c.want, status, r)
		}
		if usesRedis(b.cache) {
			n, err := e.redis.Exists(context.Background(), e.redisPrefix+"apq:doc:"+persisted.Hash(activeChannelCode)).Result()
			require.NoError(t, err)
			require.EqualValues(t, 1, n, "registered in Redis")
		}

		// A mutation by hash over GET is refused, as any mutation over GET.
		const mutation = `mutation { logout { success } }`
		status, r := pqRequest{Query: mutation, Hash: persisted.Hash(mutation)}.send(t, http.MethodPost, e.srv.URL+app.ShopPath)
		requireRuns(t, `{"logout":{"success":false}}`, status, r)
		status, r = pqRequest{Hash: persisted.Hash(mutation)}.send(t, http.MethodGet, e.srv.URL+app.ShopPath)
		requireCode(t, http.StatusNotAcceptable, "BAD_REQUEST", status, r)
	})
}

// Two instances sharing Redis see each other's registered documents.
func TestAPQSharedBetweenInstances(t *testing.T) {
	t.Parallel()
	db := sharedDB(t)
	client, _ := testenv.Redis(t)
	prefix := testenv.RandomPrefix()
	a := newInstance(t, db, client, prefix)
	b := newInstance(t, db, client, prefix)
	t.Cleanup(func() { purgePrefix(t, client, prefix) })

	hashOnly := pqRequest{Hash: persisted.Hash(activeChannelCode)}
	status, r := hashOnly.send(t, http.MethodPost, b.shopURL)
	requireCode(t, http.StatusOK, "PERSISTED_QUERY_NOT_FOUND", status, r)
	status, r = pqRequest{Query: activeChannelCode, Hash: persisted.Hash(activeChannelCode)}.send(t, http.MethodPost, a.shopURL)
	requireRuns(t, `{"activeChannel":{"code":"__default_channel__"}}`, status, r)
	status, r = hashOnly.send(t, http.MethodGet, b.shopURL)
	requireRuns(t, `{"activeChannel":{"code":"__default_channel__"}}`, status, r)
	entries, _ := b.app.APQMemory.Stats()
	require.Zero(t, entries, "B found it in Redis")
}

// purgePrefix removes the keys under prefix (a real Redis keeps them).
func purgePrefix(t testing.TB, client redis.UniversalClient, prefix string) {
	t.Helper()
	ctx := context.Background()
	keys, err := client.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	if len(keys) > 0 {
		require.NoError(t, client.Del(ctx, keys...).Err())
	}
}

// APQ_* and the fallback: with Redis stopped, a registration goes to the
// instance's memory and the document runs by hash from there; no request
// fails because Redis is down.
func TestAPQRedisDown(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	e := newEnv(t, backends()[0], withMiniredis(mr.Addr()), withRedisTimeout(time.Second))
	endpoint := e.srv.URL + app.ShopPath
	status, r := pqRequest{Query: activeChannelCode, Hash: persisted.Hash(activeChannelCode)}.send(t, http.MethodPost, endpoint)
	requireRuns(t, `{"activeChannel":{"code":"__default_channel__"}}`, status, r)
	require.True(t, mr.Exists("apq:doc:"+persisted.Hash(activeChannelCode)), "registered in Redis")
	entries, _ := e.app.APQMemory.Stats()
	require.Zero(t, entries)

	mr.Close()
	const doc = `query activeChannelId { activeChannel { id } }`
	status, r = pqRequest{Hash: persisted.Hash(doc)}.send(t, http.MethodPost, endpoint)
	requireCode(t, http.StatusOK, "PERSISTED_QUERY_NOT_FOUND", status, r)
	status, r = pqRequest{Query: doc, Hash: persisted.Hash(doc)}.send(t, http.MethodPost, endpoint)
	requireRuns(t, `{"activeChannel":{"id":"1"}}`, status, r)
	status, r = pqRequest{Hash: persisted.Hash(doc)}.send(t, http.MethodGet, endpoint)
	requireRuns(t, `{"activeChannel":{"id":"1"}}`, status, r)
	entries, _ = e.app.APQMemory.Stats()
	require.Equal(t, 1, entries, "kept in this instance's memory")
}

// withRedisTimeout sets SESSION_CACHE_TIMEOUT, which bounds APQ's Redis
// calls too.
func withRedisTimeout(d time.Duration) envOption {
	return func(c *config.Config) { c.SessionCacheTimeout = d }
}

func withAPQCacheBytes(n int64) envOption {
	return func(c *config.Config) { c.APQCacheBytes = n }
}

// Hostile clients: a flood of distinct registrations stays within the
// store's bound (memory and Redis); a document over the limits, or one
// that does not validate, is refused and never stored; a malformed
// persistedQuery or documentId is refused with a clear code.
func TestAPQAttacks(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		const budget = 32 << 10
		e := newEnv(t, b, withAPQCacheBytes(budget), func(c *config.Config) { c.MaxQueryFields, c.MaxQueryTokens = 20, 200 })
		endpoint := e.srv.URL + app.ShopPath

		// 200 distinct valid documents of ~1 KB each: ~200 KB offered.
		for i := range 200 {
			doc := fmt.Sprintf("query flood%d { activeChannel { code } }", i)
			doc += strings.Repeat(" ", 1000-len(doc))
			status, r := pqRequest{Query: doc, Hash: persisted.Hash(doc)}.send(t, http.MethodPost, endpoint)
			requireRuns(t, `{"activeChannel":{"code":"__default_channel__"}}`, status, r)
		}
		_, memBytes := e.app.APQMemory.Stats()
		require.LessOrEqual(t, memBytes, int64(budget))
		if usesRedis(b.cache) {
			ctx := context.Background()
			keys, err := e.redis.Keys(ctx, e.redisPrefix+"apq:doc:*").Result()
			require.NoError(t, err)
			var total int64
			for _, k := range keys {
				n, err := e.redis.StrLen(ctx, k).Result()
				require.NoError(t, err)
				total += n
			}
			require.Positive(t, total)
			require.LessOrEqual(t, total, int64(budget), "the window's budget (the clock does not move)")
		}

		// Over the limits, or invalid: refused, then still not found.
		wide := "query wide { activeChannel { " + strings.Repeat("code ", 25) + "} }"
		long := "query long { " + strings.Repeat("__typename ", 300) + "}"
		invalid := `query bad { activeChannel { noSuchField } }`
		for _, c := range []struct{ doc, code string }{
			{wide, "FIELD_LIMIT_EXCEEDED"},
			{long, "TOKEN_LIMIT_EXCEEDED"},
			{invalid, "GRAPHQL_VALIDATION_FAILED"},
		} {
			status, r := pqRequest{Query: c.doc, Hash: persisted.Hash(c.doc)}.send(t, http.MethodPost, endpoint)
			require.Equal(t, c.code, r.ErrorCode(), "%+v", r.Errors)
			require.Equal(t, http.StatusUnprocessableEntity, status)
			status, r = pqRequest{Hash: persisted.Hash(c.doc)}.send(t, http.MethodPost, endpoint)
			requireCode(t, http.StatusOK, "PERSISTED_QUERY_NOT_FOUND", status, r)
		}

		// Malformed requests.
		for _, c := range []struct {
			name string
			req  pqRequest
			code string
		}{
			{"short hash", pqRequest{Hash: persisted.Hash("x")[:63]}, "PERSISTED_QUERY_INVALID"},
			{"long hash", pqRequest{Hash: persisted.Hash("x") + "0"}, "PERSISTED_QUERY_INVALID"},
			{"not hex", pqRequest{Hash: strings.Repeat("z", 64)}, "PERSISTED_QUERY_INVALID"},
			{"hash of a path", pqRequest{Hash: "../../" + strings.Repeat("a", 58)}, "PERSISTED_QUERY_INVALID"},
			{"number", pqRequest{Extensions: map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": 5}}}, "PERSISTED_QUERY_INVALID"},
			{"version 2", pqRequest{Extensions: map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": persisted.Hash("x")}}}, "PERSISTED_QUERY_INVALID"},
			{"not an object", pqRequest{Extensions: map[string]any{"persistedQuery": "yes"}}, "PERSISTED_QUERY_INVALID"},
			{"mismatch", pqRequest{Query: activeChannelCode, Hash: persisted.Hash(activeChannelCode + " ")}, "PERSISTED_QUERY_HASH_MISMATCH"},
			{"odd documentId", pqRequest{DocumentID: "a b"}, "PERSISTED_QUERY_INVALID"},
			{"documentId and query", pqRequest{DocumentID: "x", Query: activeChannelCode}, "PERSISTED_QUERY_INVALID"},
			{"unknown documentId", pqRequest{DocumentID: persisted.Hash("x")}, "PERSISTED_QUERY_NOT_FOUND"},
		} {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				status, r := c.req.send(t, method, endpoint)
				want := http.StatusBadRequest
				if c.code == "PERSISTED_QUERY_NOT_FOUND" {
					want = http.StatusOK
				}
				requireCode(t, want, c.code, status, r)
				require.NotContains(t, r.Errors[0].Message, "../", c.name)
			}
		}
		_, memAfter := e.app.APQMemory.Stats()
		require.LessOrEqual(t, memAfter, int64(budget))
	})
}

// APQ=off: a hash alone is answered PERSISTED_QUERY_NOT_SUPPORTED (so an
// Apollo client stops sending hashes), a hash with its document runs.
func TestAPQOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0], func(c *config.Config) { c.APQ = false })
	endpoint := e.srv.URL + app.ShopPath
	status, r := pqRequest{Hash: persisted.Hash(activeChannelCode)}.send(t, http.MethodPost, endpoint)
	requireCode(t, http.StatusOK, "PERSISTED_QUERY_NOT_SUPPORTED", status, r)
	require.Equal(t, "PersistedQueryNotSupported", r.Errors[0].Message)
	status, r = pqRequest{Query: activeChannelCode, Hash: persisted.Hash(activeChannelCode)}.send(t, http.MethodPost, endpoint)
	requireRuns(t, `{"activeChannel":{"code":"__default_channel__"}}`, status, r)
	require.Nil(t, e.app.APQMemory)
}

// shopManifest is a GraphQL Codegen manifest of storefront documents.
var shopManifest = []string{activeChannelCode, activeOrderQuery, addItemMutation, loginMutation}

// writeManifest writes docs as persisted-documents.json (sha256 ids).
func writeManifest(t *testing.T, docs ...string) string {
	t.Helper()
	m := map[string]string{}
	for _, d := range docs {
		m[persisted.Hash(d)] = d
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

func withPersistedDocuments(path string, only bool) envOption {
	return func(c *config.Config) { c.PersistedDocuments, c.PersistedDocumentsOnly = path, only }
}

// Allow-list mode: registered documents run by hash, by documentId (POST
// and GET) and by their identical text; anything else is refused before
// parsing with PERSISTED_QUERY_NOT_ALLOWED (400), APQ registers nothing,
// and introspection is refused too. The Admin API, without a list of its
// own, is unaffected.
func TestPersistedDocumentsOnly(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withPersistedDocuments(writeManifest(t, shopManifest...), true))
		endpoint := e.srv.URL + app.ShopPath
		const want = `{"activeChannel":{"code":"__default_channel__"}}`
		id := persisted.Hash(activeChannelCode)
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			for _, req := range []pqRequest{
				{Hash: id},
				{DocumentID: id},
				{DocumentID: "sha256:" + id},
				{Query: activeChannelCode},
				{Query: activeChannelCode, Hash: id},
			} {
				status, r := req.send(t, method, endpoint)
				requireRuns(t, want, status, r)
			}
		}
		// A registered mutation with variables, sent whole; the cart it
		// makes is read by documentId, as a Codegen client sends it.
		shop := e.shop(testenv.Bearer)
		v := seedVariants(t, e, 1)
		order := orderField(t, shop.Do(addItemMutation, map[string]any{"productVariantId": v[0], "quantity": 1}), "addItemToOrder")
		require.Equal(t, "Order", order.Typename)
		status, resp := pqRequest{DocumentID: persisted.Hash(activeOrderQuery), Header: map[string]string{"Authorization": "Bearer " + shop.Token}}.send(t, http.MethodPost, endpoint)
		require.Empty(t, resp.Errors)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, string(resp.Data), `"code":"`+order.Code+`"`)

		// Refused before parsing: unregistered text (one space differs),
		// garbage, introspection, and a registration by APQ.
		for _, doc := range []string{activeChannelCode + " ", "{", `{ __schema { queryType { name } } }`, strings.Repeat("{", 100000)} {
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				status, r := pqRequest{Query: doc}.send(t, method, endpoint)
				requireCode(t, http.StatusBadRequest, "PERSISTED_QUERY_NOT_ALLOWED", status, r)
			}
		}
		other := `query activeChannelToken { activeChannel { token } }`
		status, resp = pqRequest{Query: other, Hash: persisted.Hash(other)}.send(t, http.MethodPost, endpoint)
		requireCode(t, http.StatusBadRequest, "PERSISTED_QUERY_NOT_ALLOWED", status, resp)
		status, resp = pqRequest{Hash: persisted.Hash(other)}.send(t, http.MethodPost, endpoint)
		requireCode(t, http.StatusOK, "PERSISTED_QUERY_NOT_FOUND", status, resp)
		status, resp = pqRequest{DocumentID: persisted.Hash(other)}.send(t, http.MethodPost, endpoint)
		requireCode(t, http.StatusOK, "PERSISTED_QUERY_NOT_FOUND", status, resp)
		entries, _ := e.app.APQMemory.Stats()
		require.Zero(t, entries, "nothing registered")

		// The Admin API has no list: anything valid runs there, and APQ too.
		status, resp = pqRequest{Query: `{ __typename }`}.send(t, http.MethodPost, e.srv.URL+app.AdminPath)
		requireRuns(t, `{"__typename":"Query"}`, status, resp)
	})
}

// Registered documents without Only: they run by id, and anything else
// runs as usual.
func TestPersistedDocumentsRegistered(t *testing.T) {
	t.Parallel()
	src := "# storefront\nquery activeOrder { activeOrder { ...Cart } }\nfragment Cart on Order { id code }\n" + activeChannelCode + "\n"
	path := filepath.Join(t.TempDir(), "documents.graphql")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o600))
	e := newEnv(t, backends()[0], withPersistedDocuments(path, false))
	endpoint := e.srv.URL + app.ShopPath
	cart := "query activeOrder { activeOrder { ...Cart } }\n\nfragment Cart on Order { id code }"
	status, r := pqRequest{DocumentID: persisted.Hash(cart)}.send(t, http.MethodGet, endpoint)
	requireRuns(t, `{"activeOrder":null}`, status, r)
	status, r = pqRequest{Hash: persisted.Hash(activeChannelCode)}.send(t, http.MethodPost, endpoint)
	requireRuns(t, `{"activeChannel":{"code":"__default_channel__"}}`, status, r)
	status, r = pqRequest{Query: `{ activeChannel { id } }`}.send(t, http.MethodPost, endpoint)
	requireRuns(t, `{"activeChannel":{"id":"1"}}`, status, r)
}

// A registered document that would not run refuses the start, naming it;
// so does a manifest whose id is not its document's hash.
func TestPersistedDocumentsRefuseStart(t *testing.T) {
	t.Parallel()
	bad := `query broken { activeChannel { noSuchField } }`
	wide := "query wide { activeChannel { " + strings.Repeat("code ", 25) + "} }"
	for _, c := range []struct {
		name, path string
		opts       []envOption
		want       []string
	}{
		{"invalid", writeManifest(t, activeChannelCode, bad), nil, []string{"PERSISTED_DOCUMENTS: ", "document " + persisted.Hash(bad), `Cannot query field "noSuchField"`}},
		{"over the limits", writeManifest(t, wide), []envOption{func(c *config.Config) { c.MaxQueryFields = 20 }}, []string{"document " + persisted.Hash(wide), "fields; the limit is 20"}},
		{"admin document on the shop", writeManifest(t, `query { administrators { totalItems } }`), nil, []string{`Cannot query field "administrators"`}},
		{"missing file", filepath.Join(t.TempDir(), "nope.json"), nil, []string{"PERSISTED_DOCUMENTS: ", "no such file"}},
	} {
		cfg := config.Defaults()
		cfg.BcryptCost = 4
		cfg.PersistedDocuments = c.path
		for _, o := range c.opts {
			o(&cfg)
		}
		_, err := app.New(context.Background(), cfg, app.Options{DB: testenv.SQLiteDB(t)})
		require.Error(t, err, c.name)
		for _, w := range c.want {
			require.ErrorContains(t, err, w, c.name)
		}
	}

	// A manifest entry whose id is not its document's hash.
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"`+persisted.Hash("x")+`": "{ activeChannel { id } }"}`), 0o600))
	cfg := config.Defaults()
	cfg.PersistedDocuments = path
	_, err := app.New(context.Background(), cfg, app.Options{DB: testenv.SQLiteDB(t)})
	require.ErrorContains(t, err, "is not the SHA-256 of its document")
}

// A manifest GraphQL Code Generator's client preset (v6.2, with
// persistedDocuments on) wrote for storefront documents
// (docs/persisted-documents.md): its ids are "sha256:" and the hash of
// its normalized documents, which its client sends as documentId.
func TestPersistedDocumentsCodegenManifest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0], withPersistedDocuments("testdata/codegen-persisted-documents.json", true))
	endpoint := e.srv.URL + app.ShopPath
	v := seedVariants(t, e, 1)
	const (
		activeOrderID = "sha256:ac9b79c67d66e1034ee2e3149693d7b2e0a4ee80535ea6ed41f200c9b04f2b72"
		addItemID     = "sha256:266e0272743f02bc24938b054f611f15c20637badc84f97e53c64db5ba571b77"
		loginID       = "sha256:fd1beaf01d53a93905eb55679073648d63ea1fa18bc34809822bf0940aa9a601"
	)
	status, r := pqRequest{DocumentID: activeOrderID}.send(t, http.MethodGet, endpoint)
	requireRuns(t, `{"activeOrder":null}`, status, r)

	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(string(pqRequest{DocumentID: addItemID, Variables: map[string]any{"productVariantId": v[0], "quantity": 2}}.body(t))))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Contains(t, string(body), `"totalQuantity":2`)
	token := resp.Header.Get("vendure-auth-token")
	require.NotEmpty(t, token)

	status, r = pqRequest{DocumentID: activeOrderID, Header: map[string]string{"Authorization": "Bearer " + token}}.send(t, http.MethodPost, endpoint)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(r.Data), `"totalQuantity":2`)
	status, r = pqRequest{DocumentID: loginID, Variables: creds("nobody@example.com", "wrong-password")}.send(t, http.MethodPost, endpoint)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(r.Data), `"errorCode":"INVALID_CREDENTIALS_ERROR"`)
}
