// Package metrics is the server's Prometheus instrumentation: one registry
// per server (never the global default), the series listed in Series (and
// in docs/metrics.md, which a test holds to it), and the recorders the
// services are given. It is the only package that imports Prometheus: each
// service declares the small recorder interface it calls (session.Recorder,
// account.LoginRecorder, ratelimit.Recorder, password.PoolRecorder,
// jobs.Recorder, gqlutil.OperationRecorder) with arguments from fixed sets,
// and this package implements them with counters and histograms resolved
// once, when it is built: a recorded event is an atomic add, with no
// allocation and no label lookup.
//
// Every label value comes from a fixed set, except GraphQL operation names,
// which clients choose: each API keeps the first OperationNames names it
// sees and counts every later one as "other" (graphql.go).
//
// App builds a Metrics when METRICS_ADDR is set and serves Handler on that
// address (Server); without it there is no Metrics and every recorder is
// nil, which the services treat as "record nothing".
package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every series of the server's own.
const Namespace = "sessionserver"

// DefaultOperationNames is how many distinct GraphQL operation names each
// API counts under their own name; later ones count as "other". A
// storefront and an admin UI send a few dozen.
const DefaultOperationNames = 200

// maxOperationNameLength is the longest operation name kept as a label;
// a longer one counts as "other".
const maxOperationNameLength = 100

// Options configure a Metrics. The zero value is production's.
type Options struct {
	// OperationNames is how many GraphQL operation names each API keeps
	// (DefaultOperationNames when 0).
	OperationNames int
	// Logger logs a scrape's failure to read the outbox. Defaults to
	// slog.Default().
	Logger *slog.Logger
	// NowFunc is the clock the outbox lag is measured on. Defaults to
	// time.Now.
	NowFunc func() time.Time
}

// Metrics holds one server's registry and instruments. A nil *Metrics is
// valid: its recorders are nil and its Watch methods do nothing.
type Metrics struct {
	registry *prometheus.Registry
	opts     Options

	sessions *sessionRecorder
	logins   *loginRecorder
	throttle *throttleRecorder
	pool     *poolRecorder
	jobs     *jobRecorder
	shop     *operationRecorder
	admin    *operationRecorder
}

// New builds a registry with the Go runtime and process collectors and
// the series of AllSeries. Each series of a fixed set of label values
// exists, at zero, from the start; a GraphQL operation's series appear
// when it is first recorded, and those the Watch methods read once they
// are called.
func New(opts Options) *Metrics {
	if opts.OperationNames <= 0 {
		opts.OperationNames = DefaultOperationNames
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.NowFunc == nil {
		opts.NowFunc = time.Now
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := &Metrics{registry: reg, opts: opts}
	m.sessions = newSessionRecorder(reg)
	m.logins = newLoginRecorder(reg)
	m.throttle = newThrottleRecorder(reg)
	m.sessions.guestRefused = m.throttle.byRule[guestAddressLimit]
	m.pool = newPoolRecorder(reg)
	m.jobs = newJobRecorder(reg)
	ops := newOperationVecs(reg)
	m.shop = newOperationRecorder(ops, "shop", opts.OperationNames)
	m.admin = newOperationRecorder(ops, "admin", opts.OperationNames)
	return m
}

// Registry returns the registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in Prometheus's text format (or
// OpenMetrics, as the scraper asks). A collector that fails leaves its
// series out of that scrape rather than failing it.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(m.opts.Logger.Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
		// A scrape is small; more than a few at once is not a scraper.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// counter, gauge and histogram build an unregistered vector of a series.
func (s Series) counterVec() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: s.Name, Help: s.Help}, s.labelNames())
}

func (s Series) histogramVec() *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: s.Name, Help: s.Help, Buckets: s.Buckets}, s.labelNames())
}

func (s Series) labelNames() []string {
	names := make([]string, len(s.Labels))
	for i, l := range s.Labels {
		names[i] = l.Name
	}
	return names
}
