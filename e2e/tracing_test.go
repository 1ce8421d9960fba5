package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/service/session"
)

// tracedEnv is a server with tracing on, its spans kept in memory, and
// its log.
type tracedEnv struct {
	*env
	spans *tracetest.InMemoryExporter
	log   *logBuffer
}

// newTracedEnv starts a server on b with tracing on. Its spans are
// exported as each ends (a synchronous processor), so once a request sent
// to the handler in-process returns, its spans are all there. On a Redis
// backend the app connects to Redis itself (TEST_REDIS_URL's, else a
// miniredis), so the client is the one it instruments.
func newTracedEnv(t *testing.T, b backend) *tracedEnv {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	log := &logBuffer{}
	e := newTracedServer(t, b, sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans)), log)
	return &tracedEnv{env: e, spans: spans, log: log}
}

// newTracedServer starts a server on b whose tracing goes to tp (shut down
// when the test ends) and whose log goes to log.
func newTracedServer(tb testing.TB, b backend, tp *sdktrace.TracerProvider, log io.Writer) *env {
	tb.Helper()
	tb.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	var opts []envOption
	if usesRedis(b.cache) {
		url := os.Getenv(testenv.RedisURLEnv)
		if url == "" {
			url = "redis://" + miniredis.RunT(tb).Addr() + "/0"
		}
		opts = append(opts, func(c *config.Config) { c.RedisURL = url })
	}
	return newEnvWith(tb, b, testenv.DialectDB(tb, b.dialect), app.Options{
		TracerProvider: tp,
		Logger:         slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}, opts...)
}

// BenchmarkMeHTTPTraced is BenchmarkMeHTTP with tracing on, every request
// sampled, its spans batched (as in production) to an exporter that
// discards them: the cost of tracing a cached `me` in this process,
// without the network.
func BenchmarkMeHTTPTraced(b *testing.B) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			e := newTracedServer(b, be, sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter())), io.Discard)
			admin := e.admin(testenv.Bearer)
			admin.Do(loginMutation, creds("superadmin", "superadmin"))
			h := e.app.Handler()
			serveMe(b, h, admin.Token, []byte(meDocuments[0].body))
			for _, doc := range meDocuments {
				b.Run(doc.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						serveMe(b, h, admin.Token, []byte(doc.body))
					}
				})
			}
		})
	}
}

// serve sends a GraphQL document to the handler in-process (the spans of
// the request have ended when it returns) and fails unless it answers 200.
func (e *tracedEnv) serve(t *testing.T, path, query string, vars map[string]any, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	e.app.Handler().ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	return w
}

// traceOf returns the spans of one trace: the one whose server span is
// named serverSpan (there must be exactly one such trace), with that span.
func traceOf(t *testing.T, spans tracetest.SpanStubs, serverSpan string) (server tracetest.SpanStub, inTrace tracetest.SpanStubs) {
	t.Helper()
	var servers tracetest.SpanStubs
	for _, s := range spans {
		if s.Name == serverSpan && s.SpanKind == trace.SpanKindServer {
			servers = append(servers, s)
		}
	}
	require.Len(t, servers, 1, "server spans named %q among %v", serverSpan, spanNames(spans))
	server = servers[0]
	for _, s := range spans {
		if s.SpanContext.TraceID() == server.SpanContext.TraceID() {
			inTrace = append(inTrace, s)
		}
	}
	return server, inTrace
}

// named returns the spans named name.
func named(spans tracetest.SpanStubs, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// withKey returns the spans having attribute key.
func withKey(spans tracetest.SpanStubs, key attribute.Key) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if attr(s, key) != "" {
			out = append(out, s)
		}
	}
	return out
}

// withAttr returns the spans having attribute key with value.
func withAttr(spans tracetest.SpanStubs, kv attribute.KeyValue) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		for _, a := range s.Attributes {
			if a == kv {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

func spanNames(spans tracetest.SpanStubs) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	return names
}

// attr returns the value of key on s, "" if it has none.
func attr(s tracetest.SpanStub, key attribute.Key) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// descends reports whether s is below ancestor in spans (its trace).
func descends(spans tracetest.SpanStubs, s, ancestor tracetest.SpanStub) bool {
	byID := make(map[trace.SpanID]tracetest.SpanStub, len(spans))
	for _, x := range spans {
		byID[x.SpanContext.SpanID()] = x
	}
	for p := s.Parent.SpanID(); p.IsValid(); {
		if p == ancestor.SpanContext.SpanID() {
			return true
		}
		parent, ok := byID[p]
		if !ok {
			return false
		}
		p = parent.Parent.SpanID()
	}
	return false
}

// TestTracingCachedMissMe: `me` whose session is not in the cache (the
// cache was cleared after the login) makes one trace holding the HTTP
// server span, the GraphQL operation span below it, the resolver span
// of Query.me below that, the span of the session lookup's SQL (sent past
// bun, so traced on its own) below the server span, and with a Redis
// cache the Redis commands of the lookup; no attribute of any span holds
// the token or its hash.
//
// The session is looked up by the request-context middleware, before
// gqlgen reads the document, so the lookup's span is the operation span's
// sibling, not its child.
func TestTracingCachedMissMe(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newTracedEnv(t, b)
		login := e.serve(t, app.AdminPath, loginMutation, creds("superadmin", "superadmin"), nil)
		token := login.Header().Get("vendure-auth-token")
		require.NotEmpty(t, token)
		_, loginSpans := traceOf(t, e.spans.GetSpans(), "POST "+app.AdminPath)
		// bun's statements: operation and table, in the request's trace.
		inserts := withAttr(loginSpans, attribute.String("db.collection.name", "session"))
		inserts = withAttr(inserts, attribute.String("db.operation.name", "INSERT"))
		require.NotEmpty(t, inserts, "the login's new session among %v", spanNames(loginSpans))
		require.Equal(t, "INSERT session", inserts[0].Name)
		e.app.Sessions.ClearCache(context.Background())
		e.spans.Reset()

		e.serve(t, app.AdminPath, meQuery, nil, http.Header{"Authorization": {"Bearer " + token}})

		server, spans := traceOf(t, e.spans.GetSpans(), "POST "+app.AdminPath)
		require.False(t, server.Parent.IsValid(), "a request without traceparent starts a trace")
		require.Equal(t, "200", attr(server, "http.response.status_code"))

		ops := named(spans, "Me")
		require.Len(t, ops, 1, "operation span among %v", spanNames(spans))
		op := ops[0]
		require.Equal(t, server.SpanContext.SpanID(), op.Parent.SpanID(), "the operation is the request's child")
		require.Equal(t, "admin", attr(op, "sessionserver.api"))
		require.Equal(t, "query", attr(op, "graphql.operation.type"))
		require.Equal(t, "Me", attr(op, "graphql.operation.name"))
		require.Equal(t, "OK", attr(op, "sessionserver.result"))

		resolvers := named(spans, "Query.me")
		require.Len(t, resolvers, 1, "resolver span among %v", spanNames(spans))
		require.Equal(t, op.SpanContext.SpanID(), resolvers[0].Parent.SpanID())

		// bun's statements on the session table are "SELECT session"
		// too; the lookup's span alone has its text.
		lookups := withKey(named(spans, "SELECT session"), "db.query.text")
		require.Len(t, lookups, 1, "session lookup span among %v", spanNames(spans))
		lookup := lookups[0]
		require.Equal(t, trace.SpanKindClient, lookup.SpanKind)
		require.True(t, descends(spans, lookup, server), "the lookup is within the request")
		system := map[string]string{"sqlite": "sqlite", "postgres": "postgresql"}[b.dialect]
		require.Equal(t, system, attr(lookup, "db.system.name"))
		require.Contains(t, attr(lookup, "db.query.text"), "s.token_hash = ")
		require.Equal(t, "session", attr(lookup, "db.collection.name"))

		if usesRedis(b.cache) {
			cmds := withAttr(spans, attribute.String("db.system", "redis"))
			require.NotEmpty(t, cmds, "redis spans among %v", spanNames(spans))
			for _, c := range cmds {
				require.True(t, descends(spans, c, server), "redis span %q is within the request", c.Name)
				require.Empty(t, attr(c, "db.statement"), "redis arguments recorded")
			}
		}

		// Nothing secret in any attribute of any span of the run.
		hash := session.HashToken(token)
		for _, s := range e.spans.GetSpans() {
			for _, a := range s.Attributes {
				v := a.Value.Emit()
				require.NotContains(t, v, token, "span %q attribute %s", s.Name, a.Key)
				require.NotContains(t, v, hash, "span %q attribute %s", s.Name, a.Key)
			}
		}
	})
}

// TestTracingContinuesTraceparent: a request carrying a W3C traceparent
// continues that trace: its server span has the caller's trace id and span
// as parent, and so does every span below it. A failed login's log line
// carries that trace id, its request id and the id of a span of the trace.
// The login's operation span records the ErrorResult it answered with,
// and the bun statements of the login are traced as operation and table.
func TestTracingContinuesTraceparent(t *testing.T) {
	t.Parallel()
	e := newTracedEnv(t, backend{"sqlite+memory", "sqlite", "memory"})
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
	)
	w := e.serve(t, app.ShopPath, loginMutation, creds("nobody@example.com", "hunter2"), http.Header{
		"Traceparent": {"00-" + traceID + "-" + spanID + "-01"},
		"Baggage":     {"tenant=acme"},
	})
	require.Contains(t, w.Body.String(), "INVALID_CREDENTIALS_ERROR")

	server, spans := traceOf(t, e.spans.GetSpans(), "POST "+app.ShopPath)
	require.Equal(t, traceID, server.SpanContext.TraceID().String())
	require.Equal(t, spanID, server.Parent.SpanID().String())
	require.True(t, server.Parent.IsRemote())
	for _, s := range spans {
		require.True(t, s.SpanContext.SpanID() == server.SpanContext.SpanID() || descends(spans, s, server), "span %q is outside the request", s.Name)
	}

	ops := named(spans, "Login")
	require.Len(t, ops, 1, "operation span among %v", spanNames(spans))
	require.Equal(t, "mutation", attr(ops[0], "graphql.operation.type"))
	require.Equal(t, "shop", attr(ops[0], "sessionserver.api"))
	require.Equal(t, "INVALID_CREDENTIALS_ERROR", attr(ops[0], "sessionserver.result"))
	resolvers := named(spans, "Mutation.login")
	require.Len(t, resolvers, 1)
	require.Equal(t, "INVALID_CREDENTIALS_ERROR", attr(resolvers[0], "sessionserver.result"))
	// The login reads the user with a raw statement: no table to name.
	reads := withAttr(spans, attribute.String("db.operation.name", "SELECT"))
	require.NotEmpty(t, reads, "the login's read of the user among %v", spanNames(spans))
	require.Equal(t, "sqlite", attr(reads[0], "db.system.name"))
	for _, s := range spans {
		require.Empty(t, attr(s, "db.query.text"), "statement text on %q", s.Name)
		for _, a := range s.Attributes {
			require.NotContains(t, a.Value.Emit(), "nobody@example.com", "span %q attribute %s", s.Name, a.Key)
			require.NotContains(t, a.Value.Emit(), "hunter2", "span %q attribute %s", s.Name, a.Key)
		}
	}

	lines := e.log.linesWith(`msg="login failed"`)
	require.Len(t, lines, 1, e.log.String())
	require.Contains(t, lines[0], "trace_id="+traceID)
	require.Contains(t, lines[0], "requestId="+w.Header().Get("X-Request-Id"))
	var inTrace bool
	for _, s := range spans {
		inTrace = inTrace || strings.Contains(lines[0], "span_id="+s.SpanContext.SpanID().String())
	}
	require.True(t, inTrace, "the line's span is one of the trace: %s", lines[0])
}

// TestTracingOffInstallsNothing: with tracing off (the default) the handler
// is the request scope itself, no otelhttp wrapping, and a request
// carrying a traceparent leaves no trace id in its log lines: nothing read
// it. With tracing on the outermost handler is otelhttp's.
func TestTracingOffInstallsNothing(t *testing.T) {
	t.Parallel()
	b := backend{"sqlite+memory", "sqlite", "memory"}
	log := &logBuffer{}
	off := newEnvWith(t, b, testenv.DialectDB(t, b.dialect), app.Options{
		Logger: slog.New(slog.NewTextHandler(log, nil)),
	})
	require.False(t, off.app.Config.Tracing())
	require.NotContains(t, handlerName(off.app.Handler()), "otelhttp")

	traced := &tracedEnv{env: off, log: log}
	traced.serve(t, app.ShopPath, loginMutation, creds("nobody@example.com", "hunter2"), http.Header{
		"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	})
	lines := log.linesWith(`msg="login failed"`)
	require.Len(t, lines, 1, log.String())
	require.Contains(t, lines[0], "requestId=")
	require.NotContains(t, lines[0], "trace_id")

	on := newTracedEnv(t, b)
	require.Contains(t, handlerName(on.app.Handler()), "otelhttp")
}

// handlerName is the name of the function behind an http.HandlerFunc.
func handlerName(h http.Handler) string {
	return runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name()
}

// TestTracingJobRun: a River job's run is a trace of its own (a consumer
// span, the root), with the statements the job sends below it; the
// request that enqueued it has the insert's producer span.
func TestTracingJobRun(t *testing.T) {
	t.Parallel()
	e := newTracedEnv(t, backend{"sqlite+memory", "sqlite", "memory"})
	admin := e.admin(testenv.Bearer)
	require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
	r := admin.Do(`mutation { triggerCleanSessionsJob(batchSize: 2) { id } }`, nil)
	require.Empty(t, r.Errors)
	var trig struct{ TriggerCleanSessionsJob jobView }
	r.Decode(t, &trig)
	require.Equal(t, "COMPLETED", waitSettled(t, admin, trig.TriggerCleanSessionsJob.ID).State)

	// The job's span ends before River records the job's end, which
	// waitSettled saw.
	spans := e.spans.GetSpans()
	var runs tracetest.SpanStubs
	for _, s := range spans {
		if strings.HasPrefix(s.Name, "river.work/") {
			runs = append(runs, s)
		}
	}
	require.Len(t, runs, 1, "job spans among %v", spanNames(spans))
	run := runs[0]
	require.Equal(t, trace.SpanKindConsumer, run.SpanKind)
	require.False(t, run.Parent.IsValid(), "a job run is the root of its trace")
	var statements int
	for _, s := range spans {
		if s.SpanContext.TraceID() == run.SpanContext.TraceID() && attr(s, "db.system.name") == "sqlite" {
			require.True(t, descends(spans, s, run))
			statements++
		}
	}
	require.NotZero(t, statements, "the job's statements among %v", spanNames(spans))

	inserts := named(spans, "river.insert_many")
	require.NotEmpty(t, inserts, "insert spans among %v", spanNames(spans))
	var fromRequest bool
	for _, in := range inserts {
		for _, s := range spans {
			fromRequest = fromRequest || (s.Name == "POST "+app.AdminPath && descends(spans, in, s))
		}
	}
	require.True(t, fromRequest, "the trigger's insert is within its request")
}
