package gqlutil

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/graph/gqlerr"
)

// maxBodyBytes bounds a GraphQL request body.
const maxBodyBytes = 1 << 20

// msgBatch answers a JSON array body.
const msgBatch = "Batched requests are not supported; send one operation per request"

// msgContentType answers a POST whose Content-Type is missing or not JSON.
const msgContentType = "Unsupported Content-Type: a POST request must send its body as " + gqlerr.MediaTypeJSON +
	" (the response is " + gqlerr.MediaTypeJSON + ", or " + gqlerr.MediaTypeGraphQLResponse + " when the Accept header asks for it)"

// msgNotUTF8 answers a request body or URL query that is not valid UTF-8.
const msgNotUTF8 = "The request is not valid UTF-8: a GraphQL document and its JSON must be UTF-8"

// POST is gqlgen's POST transport, rewritten around one buffered response
// (see execute) so that the HTTP status can follow the outcome:
//   - a Content-Type other than application/json (or none) is a 415 with a
//     GraphQL error, not gqlgen's untyped "transport not supported";
//   - a body that is not exactly one JSON object (a batch array, trailing
//     data, a field of the wrong type) is a 400 with a GraphQL error;
//   - a body that is not valid UTF-8 is a 400 with USER_INPUT_ERROR;
//   - parse, validation and limit errors are 422 (400 for clients that
//     accept application/graphql-response+json), as in gqlgen;
//   - a persisted document not found (or not supported) is a 200, any other
//     refusal of the persisted documents a 400 (see Persisted);
//   - a response carrying INTERNAL_SERVER_ERROR or REQUEST_TIMEOUT is a 503;
//   - anything else is a 200, FORBIDDEN and other GraphQL errors included.
//
// On the hot path a plain successful response ({"data": ...} with no errors
// or extensions) is written as is: gqlgen's writer passes every response
// through json.Marshal, which re-scans and compacts the already-compact data
// (about a fifth of the CPU of an admin `me`). Request bodies are capped at
// 1 MiB.
type POST struct {
	transport.POST
}

// Supports takes every POST, whatever its Content-Type (gqlgen's takes
// application/json only, and the handler answers the rest with a text
// "transport not supported"), so that Do can refuse the others with a
// GraphQL error. An Upgrade header is ignored too: there is no WebSocket
// transport to leave it to, and curl --http2 sends "Upgrade: h2c".
func (h POST) Supports(r *http.Request) bool { return r.Method == http.MethodPost }

// Do executes one POST request.
func (h POST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	if mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mediaType != gqlerr.MediaTypeJSON {
		writeError(ctx, w, r, exec, http.StatusUnsupportedMediaType, gqlerror.Errorf("%s", msgContentType))
		return
	}
	start := graphql.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		status := http.StatusBadRequest
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(ctx, w, r, exec, status, gqlerror.Errorf("could not read request body: %v", err))
		return
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly turn each invalid byte into U+FFFD,
		// so a name or a password would be stored or checked as something
		// the client never sent.
		writeError(ctx, w, r, exec, http.StatusBadRequest, gqlerr.New(gqlerr.CodeUserInput, msgNotUTF8))
		return
	}
	req, msg := decodeBody(body)
	if msg != "" {
		writeError(ctx, w, r, exec, http.StatusBadRequest, gqlerror.Errorf("%s", msg))
		return
	}
	if req.DocumentID != nil {
		ctx = withDocumentID(ctx, *req.DocumentID)
	}
	params := &graphql.RawParams{
		Query: req.Query, OperationName: req.OperationName,
		Variables: req.Variables, Extensions: req.Extensions,
		Headers: r.Header, ReadTime: graphql.TraceTiming{Start: start, End: graphql.Now()},
	}
	execute(ctx, w, r, exec, params, false)
}

// requestBody is a POST body: gqlgen's parameters (graphql.RawParams) and
// documentId, the id of a registered document (see Persisted).
type requestBody struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
	DocumentID    *string        `json:"documentId"`
}

// decodeBody decodes a POST body, which must be exactly one JSON object. On
// failure it returns the message for the client, which never names a Go
// type.
func decodeBody(body []byte) (*requestBody, string) {
	const prefix = "json request body could not be decoded: "
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, prefix + "the body is empty"
	case trimmed[0] == '[':
		return nil, msgBatch
	case trimmed[0] != '{':
		return nil, prefix + "the body must be a JSON object"
	}
	params := &requestBody{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		if typeErr, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return nil, fmt.Sprintf("%s%q must not be a JSON %s", prefix, typeErr.Field, typeErr.Value)
		}
		if _, ok := errors.AsType[*json.SyntaxError](err); ok || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, prefix + err.Error()
		}
		return nil, prefix + "invalid JSON"
	}
	if len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, prefix + "data after the JSON object (send one JSON object per request)"
	}
	return params, ""
}

// GET is gqlgen's GET transport (queries only, parameters in the URL,
// documentId among them), answering through the same execute as POST, so
// the statuses are the same.
type GET struct {
	transport.GET
}

// Do executes one GET request.
func (h GET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	start := graphql.Now()
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(ctx, w, r, exec, http.StatusBadRequest, gqlerror.Errorf("the URL query could not be decoded: %v", err))
		return
	}
	for name, values := range query {
		for _, v := range values {
			if !utf8.ValidString(name) || !utf8.ValidString(v) {
				writeError(ctx, w, r, exec, http.StatusBadRequest, gqlerr.New(gqlerr.CodeUserInput, msgNotUTF8))
				return
			}
		}
	}
	params := &graphql.RawParams{
		Query:         query.Get("query"),
		OperationName: query.Get("operationName"),
		Headers:       r.Header,
	}
	for _, p := range []struct {
		name string
		dst  *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		if v := query.Get(p.name); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(p.dst); err != nil {
				writeError(ctx, w, r, exec, http.StatusBadRequest, gqlerror.Errorf("%s could not be decoded", p.name))
				return
			}
		}
	}
	if query.Has("documentId") {
		ctx = withDocumentID(ctx, query.Get("documentId"))
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(ctx, w, r, exec, params, true)
}

// execute runs one operation and writes its response with the status its
// outcome calls for. queryOnly refuses mutations (GET).
//
// The context carries the request's deadline (Deadline) and ends when the
// client leaves. The limits refuse a document when it has ended already, and
// so does execute before starting the operation; resolvers see it end and
// their errors become REQUEST_TIMEOUT (the presenter). gqlgen's executor
// returns no response at all when the context ended before it ran: that is
// answered with REQUEST_TIMEOUT too, never an empty body.
func execute(ctx context.Context, w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams, queryOnly bool) {
	rc, opErrs := exec.CreateOperationContext(ctx, params)
	if opErrs != nil {
		opErrs = uniqueErrors(opErrs)
		status := statusForRequestErrors(opErrs, gqlerr.ResponseType(r) == gqlerr.MediaTypeGraphQLResponse)
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErrs)
		gqlerr.Write(w, r, status, resp.Errors...)
		return
	}
	if queryOnly && rc.Operation.Operation != ast.Query {
		writeError(ctx, w, r, exec, http.StatusNotAcceptable, gqlerror.Errorf("GET requests only allow query operations"))
		return
	}
	if ctx.Err() != nil {
		writeError(graphql.WithOperationContext(ctx, rc), w, r, exec, http.StatusServiceUnavailable, contextError(ctx))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if resp == nil {
		writeError(ctx, w, r, exec, http.StatusServiceUnavailable, contextError(ctx))
		return
	}
	writeResponse(w, r, statusForResponse(resp), resp)
}

// uniqueErrors returns errs without repeats: gqlparser's validator walks a
// fragment's selections once for each operation that spreads it and once on
// its own, so one mistake inside a fragment is reported as often. Errors
// with the same rule, message, locations and path are one error; the first
// is kept, in order.
func uniqueErrors(errs gqlerror.List) gqlerror.List {
	if len(errs) < 2 {
		return errs
	}
	type key struct{ rule, message, locations, path string }
	seen := make(map[key]bool, len(errs))
	out := errs[:0:0]
	for _, e := range errs {
		k := key{e.Rule, e.Message, fmt.Sprint(e.Locations), e.Path.String()}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}

// statusForRequestErrors is the status of errors raised before execution:
// parse, validation and limit errors are the client's (422, or 400 for
// application/graphql-response+json, as gqlgen answers); a request stopped
// by its deadline is a 503; a refusal of the persisted documents has its
// own (persistedStatus); anything else a 200.
func statusForRequestErrors(errs gqlerror.List, graphqlJSON bool) int {
	if status := statusForResponse(&graphql.Response{Errors: errs}); status != http.StatusOK {
		return status
	}
	for _, e := range errs {
		if status := persistedStatus(gqlerr.Code(e)); status != 0 {
			return status
		}
	}
	protocol := errcode.GetErrorKind(errs) == errcode.KindProtocol
	for _, e := range errs {
		protocol = protocol || isLimitCode(gqlerr.Code(e))
	}
	switch {
	case !protocol:
		return http.StatusOK
	case graphqlJSON:
		return http.StatusBadRequest
	default:
		return http.StatusUnprocessableEntity
	}
}

// statusForResponse is 503 when the response carries an internal error or
// a timeout (the server failed, the client may retry), else 200: FORBIDDEN
// and the other GraphQL errors are answered with 200, as Vendure does.
func statusForResponse(resp *graphql.Response) int {
	for _, e := range resp.Errors {
		switch gqlerr.Code(e) {
		case gqlerr.CodeInternal, gqlerr.CodeRequestTimeout:
			return http.StatusServiceUnavailable
		}
	}
	return http.StatusOK
}

// writeError answers one error raised by the transport itself, through the
// error presenter (DispatchError) and gqlerr.Write. A client error without
// a code of its own gets gqlerr.CodeBadRequest, so every refusal carries an
// extensions.code.
//
// The response extensions DispatchError may return are not written: none of
// the handler's extensions adds any to a refusal.
func writeError(ctx context.Context, w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, status int, err *gqlerror.Error) {
	if status >= 400 && status < 500 && gqlerr.Code(err) == "" {
		if err.Extensions == nil {
			err.Extensions = map[string]any{}
		}
		err.Extensions["code"] = gqlerr.CodeBadRequest
	}
	gqlerr.Write(w, r, status, exec.DispatchError(ctx, gqlerror.List{err}).Errors...)
}

// writeResponse writes the response of an executed operation, which may
// carry data: plain data directly, anything else through encoding/json.
func writeResponse(w http.ResponseWriter, r *http.Request, status int, resp *graphql.Response) {
	var body []byte
	if len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Label == "" &&
		resp.Path == nil && resp.HasNext == nil && len(resp.Data) > 0 {
		body = make([]byte, 0, len(resp.Data)+10)
		body = append(body, `{"data":`...)
		body = append(body, resp.Data...)
		body = append(body, '}')
	} else {
		var err error
		if body, err = json.Marshal(resp); err != nil {
			gqlerr.Write(w, r, http.StatusInternalServerError, gqlerr.New(gqlerr.CodeInternal, gqlerr.MsgInternal))
			return
		}
	}
	w.Header().Set("Content-Type", gqlerr.ResponseType(r))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
