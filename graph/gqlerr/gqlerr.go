// Package gqlerr is the shape of a GraphQL error as clients see it: the
// extensions.code values and the messages they rely on, and the one writer
// of an answer that carries errors and no data ({"errors":[…],"data":null}).
//
// It is a leaf (the standard library and gqlparser's gqlerror only), so the
// request-context middleware, the transports and the error presenter can
// all use it without an import cycle. The messages of domain errors that
// become ErrorResult members (InvalidCredentialsError, …) or carry their own
// text (ChannelNotFoundError) stay with those errors in package service/outcome.
package gqlerr

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// GraphQL error codes (extensions.code) clients rely on. The first five are
// Vendure's; the others are ours, for refusals Vendure has no code for.
const (
	CodeForbidden       = "FORBIDDEN"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
	CodeChannelNotFound = "CHANNEL_NOT_FOUND"
	CodeEntityNotFound  = "ENTITY_NOT_FOUND"
	CodeUserInput       = "USER_INPUT_ERROR"
	// CodeBadRequest marks a request the transport cannot read: a body that
	// is not one JSON object, a batch, an unsupported Content-Type,
	// undecodable GET parameters, a mutation over GET.
	CodeBadRequest = "BAD_REQUEST"
	// CodeRequestTimeout marks a request stopped by its deadline (or because
	// its client left).
	CodeRequestTimeout = "REQUEST_TIMEOUT"
	// CodeTooManyRequests marks a throttled call; extensions.retryAfter
	// holds the seconds to wait, as the response's Retry-After header does.
	CodeTooManyRequests = "TOO_MANY_REQUESTS"
)

// The codes of the document limits' refusals (see gqlutil.Limits).
const (
	CodeTokenLimit    = "TOKEN_LIMIT_EXCEEDED"
	CodeFieldLimit    = "FIELD_LIMIT_EXCEEDED"
	CodeDepthLimit    = "DEPTH_LIMIT_EXCEEDED"
	CodeAliasLimit    = "ALIAS_LIMIT_EXCEEDED"
	CodeLoginLimit    = "LOGIN_LIMIT_EXCEEDED"
	CodeFragmentLimit = "FRAGMENT_LIMIT_EXCEEDED"
)

// The codes of persisted documents (automatic persisted queries and the
// registered documents of an allow-list; see gqlutil.Persisted). The first
// two, with their messages MsgPersistedQueryNotFound and
// MsgPersistedQueryNotSupported, are Apollo's: its clients (and urql's)
// answer them by sending the document itself.
const (
	CodePersistedQueryNotFound     = "PERSISTED_QUERY_NOT_FOUND"
	CodePersistedQueryNotSupported = "PERSISTED_QUERY_NOT_SUPPORTED"
	// CodePersistedQueryHashMismatch: the document sent is not the one
	// its sha256Hash names.
	CodePersistedQueryHashMismatch = "PERSISTED_QUERY_HASH_MISMATCH"
	// CodePersistedQueryInvalid: extensions.persistedQuery or documentId
	// is not of the form the protocol gives it.
	CodePersistedQueryInvalid = "PERSISTED_QUERY_INVALID"
	// CodePersistedQueryNotAllowed: only registered documents run, and
	// this one is not.
	CodePersistedQueryNotAllowed = "PERSISTED_QUERY_NOT_ALLOWED"
)

// Messages of the persisted documents' codes that clients match on.
const (
	MsgPersistedQueryNotFound     = "PersistedQueryNotFound"
	MsgPersistedQueryNotSupported = "PersistedQueryNotSupported"
)

// Messages clients rely on verbatim. MsgForbidden and MsgInternal are
// Vendure's English texts.
const (
	MsgForbidden        = "You are not currently authorized to perform this action"
	MsgInternal         = "Internal server error"
	MsgRequestTimeout   = "The request took too long and was stopped"
	MsgRequestCancelled = "The request was cancelled"
	// MsgCrossOrigin answers a request that carries the session cookie
	// from a browser page on an origin that may not use it (HTTP 403,
	// CodeForbidden).
	MsgCrossOrigin = "Cross-origin request refused: a page on this origin may not use the session cookie (its origin is not in CORS_ORIGINS)"
)

// Media types of a GraphQL response.
const (
	// MediaTypeJSON is the default, and the only request body type the POST
	// transport reads.
	MediaTypeJSON = "application/json"
	// MediaTypeGraphQLResponse is answered to clients whose Accept header
	// names it (GraphQL over HTTP).
	MediaTypeGraphQLResponse = "application/graphql-response+json"
)

// New returns an error with a message and an extensions.code.
func New(code, message string) *gqlerror.Error {
	return &gqlerror.Error{Message: message, Extensions: map[string]any{"code": code}}
}

// Code returns the extensions.code of e, or "".
func Code(e *gqlerror.Error) string {
	if e == nil {
		return ""
	}
	code, _ := e.Extensions["code"].(string)
	return code
}

// ResponseType is the media type to answer r with: MediaTypeGraphQLResponse
// when its Accept header names it, else MediaTypeJSON (what every Vendure
// storefront expects).
func ResponseType(r *http.Request) string {
	if strings.Contains(r.Header.Get("Accept"), MediaTypeGraphQLResponse) {
		return MediaTypeGraphQLResponse
	}
	return MediaTypeJSON
}

// envelope is the body of an answer without data; Data is always null.
type envelope struct {
	Errors gqlerror.List   `json:"errors"`
	Data   json.RawMessage `json:"data"`
}

// internalBody answers when an envelope cannot be encoded (an extension
// value encoding/json refuses): the client still gets a GraphQL error.
var internalBody = func() []byte {
	b, err := json.Marshal(envelope{Errors: gqlerror.List{New(CodeInternal, MsgInternal)}})
	if err != nil {
		panic(err)
	}
	return b
}()

// Write answers r with errs and no data: the Content-Type ResponseType
// chooses, then status, then {"errors":[…],"data":null}. It is the one
// writer of such answers, whether the request was refused before GraphQL ran
// (the request-context middleware) or by the transport; a response of an
// executed operation, which may carry data, is the transport's to write.
func Write(w http.ResponseWriter, r *http.Request, status int, errs ...*gqlerror.Error) {
	body, err := json.Marshal(envelope{Errors: errs})
	if err != nil {
		body, status = internalBody, http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", ResponseType(r))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
