package gqlutil_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/graph/shopapi"
	"github.com/shopsession/sessionserver/persisted"
)

// maxBody is the POST transport's body limit (1 MiB).
const maxBody = 1 << 20

// stubbedSchema is the Shop API's schema, whose operations all answer
// {"stub":true} without running a resolver: what the POST fuzz target
// exercises is everything before execution.
type stubbedSchema struct{ graphql.ExecutableSchema }

func (stubbedSchema) Exec(context.Context) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Data: json.RawMessage(`{"stub":true}`)})
}

// errorLog records the messages logged at level Error or above: a panic
// recovered anywhere in the handler, or an internal error, is logged there.
type errorLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *errorLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelError }

func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}

func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

func (l *errorLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	msgs := l.msgs
	l.msgs = nil
	return msgs
}

// postResponse is a GraphQL response as a client reads it.
type postResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// oneObject is the transport's contract for a body, decided here without
// its code: white space, then one JSON object whose members have the types
// of a GraphQL request, then white space only.
func oneObject(body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(body) {
		return false
	}
	var p struct {
		Query         string         `json:"query"`
		OperationName string         `json:"operationName"`
		Variables     map[string]any `json:"variables"`
		Extensions    map[string]any `json:"extensions"`
		DocumentID    *string        `json:"documentId"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec.Decode(&p) == nil
}

// FuzzPOST sends any body with any Content-Type and Accept header to the
// GraphQL handler's POST transport (the Shop API's schema, execution
// stubbed). It never panics or logs an internal error; it answers with a
// GraphQL response in the media type the Accept header chose, with 200,
// 400, 413, 415 or 422, and a refusal (4xx) carries an error with a
// message and an extensions.code. A Content-Type other than JSON is a 415,
// a body over 1 MiB a 413 (a body padded with white space to the limit is
// answered as it was), one that is not UTF-8 a 400 USER_INPUT_ERROR, and
// one that is not exactly one JSON request object a 400 BAD_REQUEST that
// says so. A body that is one is never refused as malformed, and an
// operation runs only when the document is within the limits.
func FuzzPOST(f *testing.F) {
	errs := &errorLog{}
	h := gqlutil.NewHandler(gqlutil.HandlerConfig{
		Schema: stubbedSchema{shopapi.NewExecutableSchema(shopapi.Config{})},
		Logger: slog.New(errs),
		// Automatic persisted queries on, in memory: a hash sent alone
		// finds what an earlier input registered.
		Persisted: gqlutil.Persisted{Store: persisted.NewMemory(1 << 20)},
	})
	for _, body := range []string{
		`{"query":"{ activeChannel { id code } }"}`,
		`{"query":"query Q($t: String!) { activeChannel { id } }","operationName":"Q","variables":{"t":"x","n":1e400}}`,
		`{"query":"mutation { a: login(username: \"a\", password: \"b\") { __typename } b: login(username: \"a\", password: \"c\") { __typename } }"}`,
		`{"query":"{ nope }"}`, `{"query":"{"}`, `{"query":""}`, `{}`, `{"query":null}`, `{"query":1}`, `{"variables":[]}`,
		`{"extensions":"x"}`, `{"query":"{ __typename }"} `, `{"query":"{ __typename }"}{}`, `{"query":"{ __typename }"`,
		`[{"query":"{ __typename }"}]`, ` [`, `"x"`, `null`, `1`, ``, " \t\r\n", `{"query":"\ud800"}`, "{\"query\":\"\xff\"}",
		"\xef\xbb\xbf{\"query\":\"{ __typename }\"}", `{"query":"{ __typename }","query":"{ me { id } }"}`,
		`{"Query":"{ __typename }"}`, `{"documentId":"sha256:00"}`, `{"documentId":5}`, `{"documentId":"x","query":"{ __typename }"}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}}`,
		`{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`, `{"query":"{ activeChannel { ` + strings.Repeat("id ", 1001) + `} }"}`,
	} {
		for _, ct := range []string{"application/json", "application/json; charset=utf-8"} {
			f.Add(ct, "", []byte(body), uint32(0))
		}
	}
	for _, ct := range []string{"", "text/plain", "application/graphql", "application/json;", "APPLICATION/JSON", "application/json; charset=\"", "multipart/form-data; boundary=x"} {
		f.Add(ct, "", []byte(`{"query":"{ __typename }"}`), uint32(0))
	}
	f.Add("application/json", gqlerr.MediaTypeGraphQLResponse, []byte(`{"query":"{"}`), uint32(0))
	f.Add("application/json", "*/*", []byte(`{"query":"{ __typename }"}`), uint32(7))
	f.Add("application/json", "", []byte(`{"query":"{ __typename }"}`), uint32(15))
	f.Add("application/json", "", []byte(`{"query":"{ __typename }"}`), uint32(23))

	post := func(contentType, accept string, body []byte) (*httptest.ResponseRecorder, *http.Request) {
		req := httptest.NewRequest(http.MethodPost, "/shop-api", bytes.NewReader(body))
		if contentType != "" {
			req.Header["Content-Type"] = []string{contentType}
		}
		if accept != "" {
			req.Header["Accept"] = []string{accept}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec, req
	}
	f.Fuzz(func(t *testing.T, contentType, accept string, body []byte, pad uint32) {
		if len(body) > maxBody {
			return // the fuzzer's inputs are smaller; padding reaches the limit
		}
		padded := body
		if pad%8 == 7 && len(body) < maxBody-1 {
			// Padded with trailing white space to one byte short of the
			// limit, exactly the limit, or one byte over it.
			padded = append(bytes.Clone(body), bytes.Repeat([]byte{' '}, maxBody-len(body)-1+int(pad>>3)%3)...)
		}
		rec, req := post(contentType, accept, padded)
		require.Empty(t, errs.take(), "nothing is logged as an error")

		status := rec.Code
		require.Contains(t, []int{200, 400, 413, 415, 422}, status)
		require.Equal(t, gqlerr.ResponseType(req), rec.Header().Get("Content-Type"))
		var resp postResponse
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp), "a JSON response: %q", rec.Body.String())
		require.True(t, len(resp.Errors) > 0 || string(resp.Data) == `{"stub":true}`, "data or errors: %s", rec.Body.String())
		var codes []string
		for _, e := range resp.Errors {
			require.NotEmpty(t, e.Message)
			code, _ := e.Extensions["code"].(string)
			if status >= 400 {
				require.NotEmpty(t, code, "a refusal says why in extensions.code: %s", rec.Body.String())
			}
			codes = append(codes, code)
		}

		mediaType, _, err := mime.ParseMediaType(contentType)
		switch {
		case err != nil || mediaType != gqlerr.MediaTypeJSON:
			require.Equal(t, http.StatusUnsupportedMediaType, status)
			return
		case len(padded) > maxBody:
			require.Equal(t, http.StatusRequestEntityTooLarge, status)
			return
		case !utf8.Valid(padded):
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, []string{gqlerr.CodeUserInput}, codes)
			return
		}
		if len(padded) != len(body) {
			unpadded, _ := post(contentType, accept, body)
			require.Equal(t, unpadded.Code, status, "white space after the body changes nothing")
		}
		malformed := status == http.StatusBadRequest && len(codes) == 1 && codes[0] == gqlerr.CodeBadRequest &&
			(strings.HasPrefix(resp.Errors[0].Message, "json request body could not be decoded: ") || strings.HasPrefix(resp.Errors[0].Message, "Batched requests"))
		require.Equal(t, !oneObject(body), malformed, "refused as malformed exactly when it is not one request object: %s", rec.Body.String())
		if string(resp.Data) == `{"stub":true}` {
			var p struct {
				Query string `json:"query"`
			}
			require.NoError(t, json.Unmarshal(body, &p))
			require.Nil(t, gqlutil.Limits{}.CheckQuery(p.Query), "an operation ran: its document is within the limits")
		}
	})
}
