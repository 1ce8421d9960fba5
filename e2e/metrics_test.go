package e2e_test

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/metrics"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// withMetrics serves the metrics on a free loopback port (METRICS_ADDR).
func withMetrics() envOption {
	return func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" }
}

// scrape is one scrape of a server's metrics listener.
type scrape map[string]*dto.MetricFamily

// scrapeMetrics gets and parses the server's /metrics.
func scrapeMetrics(t *testing.T, e *env) scrape {
	t.Helper()
	addr := e.app.MetricsAddr()
	require.NotEmpty(t, addr, "METRICS_ADDR is set")
	resp, err := http.Get("http://" + addr + metrics.Path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// value returns the counter's or gauge's value of the series whose labels
// include labels ("name", "value", ...), or the count of such a
// histogram; 0 when the scrape has no such series.
func (s scrape) value(name string, labels ...string) float64 {
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	total := 0.0
	for _, m := range s[name].GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			total += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			total += m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}

// labelValues returns the distinct values of label among the series of
// name whose labels include labels.
func (s scrape) labelValues(name, label string, labels ...string) map[string]bool {
	out := map[string]bool{}
	for _, m := range s[name].GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && got[labels[i]] == labels[i+1]
		}
		if match {
			out[got[label]] = true
		}
	}
	return out
}

// TestMetricsThroughHTTP: what a storefront and an admin do moves the
// series a scrape of METRICS_ADDR shows: session lookups by outcome, new
// and revoked sessions, login results on both APIs, GraphQL responses by
// operation name and code, and the cache guard's state.
func TestMetricsThroughHTTP(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, withMetrics())
		before := scrapeMetrics(t, e)
		require.Zero(t, before.value("sessionserver_session_lookups_total"))
		require.Equal(t, 1.0, before.value("sessionserver_session_cache_state", "state", "healthy"))

		// A guest: its first request creates its session, the next ones
		// find it in the cache.
		guest := e.shop(testenv.Bearer)
		r := guest.Do(activeOrderQuery, nil)
		require.Empty(t, r.Errors)
		require.NotEmpty(t, guest.Token)
		require.Equal(t, "FORBIDDEN", guest.Do(meQuery, nil).ErrorCode(), "a guest has no user")
		require.Empty(t, guest.Do(activeOrderQuery, nil).Errors)

		// A token nobody has: not found, then remembered.
		stranger := e.shop(testenv.Bearer)
		stranger.Token = strings.Repeat("ab", 32)
		stranger.Do(`query { activeChannel { id } }`, nil)
		stranger.Token = strings.Repeat("ab", 32)
		stranger.Do(`query { activeChannel { id } }`, nil)

		// Logins: a wrong password on each API, then a right one, its
		// `me`, and its logout.
		require.Equal(t, "INVALID_CREDENTIALS_ERROR",
			decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds("nobody@example.com", "wrong"))).Login.ErrorCode)
		admin := e.admin(testenv.Bearer)
		require.Equal(t, "INVALID_CREDENTIALS_ERROR", decodeLogin(t, admin.Do(loginMutation, creds("superadmin", "wrong"))).Login.ErrorCode)
		require.Equal(t, "CurrentUser", decodeLogin(t, admin.Do(loginMutation, creds("superadmin", "superadmin"))).Login.Typename)
		require.Empty(t, admin.Do(meQuery, nil).Errors)
		require.Empty(t, admin.Do(logoutMutation, nil).Errors)

		// A document that does not parse.
		require.Equal(t, "GRAPHQL_PARSE_FAILED", e.shop(testenv.Bearer).Do(`query {`, nil).ErrorCode())

		s := scrapeMetrics(t, e)
		lookups := func(outcome string) float64 {
			return s.value("sessionserver_session_lookups_total", "outcome", outcome)
		}
		require.Equal(t, 4.0, lookups("cache_hit"), "the guest's me and activeOrder, the admin's me and logout")
		require.Equal(t, 1.0, lookups("not_found"))
		require.Equal(t, 1.0, lookups("negative"))
		require.Equal(t, 6.0, s.value("sessionserver_session_lookups_total"), "one lookup per request with a token")
		require.Equal(t, 1.0, s.value("sessionserver_session_lookup_duration_seconds", "cache", "miss"))
		require.Equal(t, 5.0, s.value("sessionserver_session_lookup_duration_seconds", "cache", "hit"))

		require.Equal(t, 1.0, s.value("sessionserver_sessions_created_total", "type", "authenticated"))
		require.GreaterOrEqual(t, s.value("sessionserver_sessions_created_total", "type", "guest"), 1.0)
		require.Equal(t, 1.0, s.value("sessionserver_sessions_revoked_total", "cause", "logout"))

		logins := func(api, result string) float64 {
			return s.value("sessionserver_login_attempts_total", "api", api, "result", result)
		}
		require.Equal(t, 1.0, logins("shop", "invalid_credentials"))
		require.Equal(t, 1.0, logins("admin", "invalid_credentials"))
		require.Equal(t, 1.0, logins("admin", "success"))
		require.Zero(t, logins("shop", "success"))

		ops := func(api, operation, code string) float64 {
			return s.value("sessionserver_graphql_operations_total", "api", api, "operation", operation, "code", code)
		}
		require.Equal(t, 2.0, ops("shop", "activeOrder", "ok"))
		require.Equal(t, 1.0, ops("shop", "Me", "FORBIDDEN"))
		require.Zero(t, ops("shop", "Me", "ok"))
		require.Equal(t, 2.0, ops("shop", "anonymous", "ok"), "the stranger's unnamed queries")
		require.Equal(t, 1.0, ops("shop", "Login", "ok"), "an ErrorResult is data")
		require.Equal(t, 2.0, ops("admin", "Login", "ok"))
		require.Equal(t, 1.0, ops("admin", "Me", "ok"))
		require.Equal(t, 1.0, ops("shop", "unknown", "GRAPHQL_PARSE_FAILED"))
		require.Equal(t, 2.0, s.value("sessionserver_graphql_operation_duration_seconds", "api", "shop", "operation", "activeOrder"))
		require.Equal(t, 3.0, s.value("sessionserver_graphql_operation_names", "api", "shop"), "activeOrder, Me, Login")
		require.Equal(t, 2.0, s.value("sessionserver_graphql_operation_names", "api", "admin"), "Login, Me: each API has its own")
		require.Equal(t, 1.0, s.value("sessionserver_graphql_operations_total", "api", "admin", "operation", "anonymous"),
			"the logout's unnamed mutation")

		require.Equal(t, 1.0, s.value("sessionserver_session_cache_state", "state", "healthy"))
		require.Zero(t, s.value("sessionserver_session_cache_state", "state", "down"))
		require.Zero(t, s.value("sessionserver_session_cache_errors_total"))
		if usesRedis(b.cache) {
			require.Contains(t, s, "sessionserver_session_cache_outbox_pending", "a shared cache's outbox")
			require.Zero(t, s.value("sessionserver_session_cache_outbox_pending"))
		} else {
			require.NotContains(t, s, "sessionserver_session_cache_outbox_pending", "no outbox without a shared cache")
		}
		require.Equal(t, 3.0, s.value("sessionserver_password_hash_wait_seconds")-before.value("sessionserver_password_hash_wait_seconds"),
			"three password checks (an unknown user's is against a dummy hash)")
		require.Contains(t, s, "go_goroutines")
		require.Contains(t, s, "process_cpu_seconds_total")
	})
}

// TestMetricsOperationNamesBounded: 1,000 requests, each naming its
// operation at random, add at most the cap of operation names; the rest
// count as other.
func TestMetricsOperationNamesBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends()[0], withMetrics())
	shop := e.shop(testenv.Bearer)
	const requests = 1000
	for i := range requests {
		name := fmt.Sprintf("Op%d_%s", i, rand.Text())
		r := shop.Do(`query `+name+` { activeChannel { id } }`, nil)
		require.Empty(t, r.Errors)
	}
	s := scrapeMetrics(t, e)
	names := s.labelValues("sessionserver_graphql_operations_total", "operation", "api", "shop")
	delete(names, "other")
	require.Len(t, names, metrics.DefaultOperationNames, "operation labels: %v", slicesOf(names))
	durations := s.labelValues("sessionserver_graphql_operation_duration_seconds", "operation", "api", "shop")
	require.Len(t, durations, metrics.DefaultOperationNames+3, "the names and anonymous, other, unknown")
	require.Equal(t, float64(requests-metrics.DefaultOperationNames),
		s.value("sessionserver_graphql_operations_total", "api", "shop", "operation", "other"))
	require.Equal(t, float64(metrics.DefaultOperationNames), s.value("sessionserver_graphql_operation_names", "api", "shop"))
}

func slicesOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		out = append(out, k)
	}
	return out
}
