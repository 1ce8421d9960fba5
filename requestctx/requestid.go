package requestctx

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// requestIDHeader carries a request's id: a sane incoming value is kept (a
// proxy's or a client's id, so one id follows the request through every
// log), otherwise one is generated; either way it is echoed in the response.
const requestIDHeader = "X-Request-Id"

// maxRequestIDLength bounds an incoming request id; a longer one is replaced.
const maxRequestIDLength = 128

type requestIDKey struct{}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Scope gives each request an id and a deadline, in one derived context
// (one copy of the request rather than one per concern: this runs on every
// request, cached `me` included):
//   - the id is the incoming X-Request-Id when it is sane (see
//     saneRequestID), else a new random one; it rides in the context
//     (RequestID) and goes back in the X-Request-Id response header;
//   - the context ends after timeout (REQUEST_TIMEOUT); net/http already
//     ends it when the client goes away. Everything below honours it: the
//     GraphQL limits, the resolvers and the services' database calls.
func Scope(timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(requestIDHeader)
			if !saneRequestID(id) {
				id = newRequestID()
			}
			// The key is canonical already: assign rather than Set, which
			// would canonicalise it again.
			w.Header()[requestIDHeader] = []string{id}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(&scoped{Context: ctx, id: id}))
		})
	}
}

// scoped is a request's context under Scope: its deadline context and its
// id, in one allocation where context.WithValue takes two (the value node
// and the boxed string).
type scoped struct {
	context.Context
	id string
}

func (c *scoped) Value(key any) any {
	if key == (requestIDKey{}) {
		return c.id
	}
	return c.Context.Value(key)
}

// saneRequestID reports whether id may be used as a request id as received:
// 1 to maxRequestIDLength bytes, each a visible ASCII character (0x21–0x7E),
// so it cannot forge log lines or headers.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := range len(id) {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// newRequestID returns 32 random hex digits. The id only has to be unique
// enough to find a request's log lines, not unguessable, so it comes from
// math/rand/v2's per-thread generator (no system call on the hot path).
func newRequestID() string {
	var b [16]byte
	var h [32]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// LogHandler wraps h so that every record logged with a request's context
// carries its request id ("requestId"), unless the record names one itself:
// a log line of the request-context middleware, a failed login or a cache
// failure can then be matched with the response's X-Request-Id.
//
// With tracing on, a record logged within a span (a request's, a job's)
// carries its W3C trace id ("trace_id", 32 hex digits) and span id
// ("span_id", 16), OpenTelemetry's names for them in logs, so a log line
// leads to its trace. With tracing off no context holds a span and
// nothing is added.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		named := false
		r.Attrs(func(a slog.Attr) bool {
			named = a.Key == "requestId"
			return !named
		})
		if !named {
			r.AddAttrs(slog.String("requestId", id))
		}
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
