package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/graph/gqlutil"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/password"
	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/shopsession/sessionserver/service/session"
)

// Sessions returns the session service's recorder (nil for a nil
// Metrics).
func (m *Metrics) Sessions() session.Recorder {
	if m == nil {
		return nil
	}
	return m.sessions
}

// Logins returns the auth service's recorder (nil for a nil Metrics).
func (m *Metrics) Logins() account.LoginRecorder {
	if m == nil {
		return nil
	}
	return m.logins
}

// Throttle returns the throttle's recorder (nil for a nil Metrics).
func (m *Metrics) Throttle() ratelimit.Recorder {
	if m == nil {
		return nil
	}
	return m.throttle
}

// PasswordPool returns the hashing pool's recorder (nil for a nil
// Metrics).
func (m *Metrics) PasswordPool() password.PoolRecorder {
	if m == nil {
		return nil
	}
	return m.pool
}

// Jobs returns the job runner's recorder (nil for a nil Metrics).
func (m *Metrics) Jobs() jobs.Recorder {
	if m == nil {
		return nil
	}
	return m.jobs
}

// GraphQL returns the recorder of an API's GraphQL handler (nil for a nil
// Metrics).
func (m *Metrics) GraphQL(api auth.APIType) gqlutil.OperationRecorder {
	switch {
	case m == nil:
		return nil
	case api == auth.AdminAPI:
		return m.admin
	default:
		return m.shop
	}
}

// SessionWatch is what the scrape reads of the session service.
type SessionWatch interface {
	CacheState() session.CacheState
	SharesCache() bool
	OutboxBacklog(ctx context.Context) (pending int, oldest time.Time, err error)
}

// WatchSessions registers the series the scrape reads from the session
// service: the cache guard's state and, with a shared cache, the outbox.
func (m *Metrics) WatchSessions(s SessionWatch) {
	if m == nil {
		return
	}
	for _, st := range session.CacheStates() {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: seriesCacheState.Name, Help: seriesCacheState.Help,
			ConstLabels: prometheus.Labels{"state": st.String()},
		}, func() float64 {
			if s.CacheState() == st {
				return 1
			}
			return 0
		}))
	}
	if s.SharesCache() {
		m.registry.MustRegister(&outboxCollector{sessions: s, log: m.opts.Logger, now: m.opts.NowFunc})
	}
}

// PoolWatch is what the scrape reads of the password hashing pool.
type PoolWatch interface {
	Size() int
	InUse() int
	Waiting() int
}

// WatchPasswordPool registers the pool's gauges, read at scrape time.
func (m *Metrics) WatchPasswordPool(p PoolWatch) {
	if m == nil {
		return
	}
	for _, g := range []struct {
		s Series
		f func() int
	}{{seriesHashQueue, p.Waiting}, {seriesHashInUse, p.InUse}, {seriesHashSlots, p.Size}} {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.s.Name, Help: g.s.Help},
			func() float64 { return float64(g.f()) }))
	}
}

// sessionRecorder implements session.Recorder.
type sessionRecorder struct {
	lookups      []prometheus.Counter // by session.LookupOutcome
	lookupHit    prometheus.Observer
	lookupMiss   prometheus.Observer
	guests       prometheus.Counter
	logins       prometheus.Counter
	guestRefused prometheus.Counter   // the throttled series' guest-address
	revoked      []prometheus.Counter // by session.RevokeCause
	cleaned      []prometheus.Counter // by session.CleanReason
	cacheErrors  map[string][2]prometheus.Counter
}

var _ session.Recorder = (*sessionRecorder)(nil)

func newSessionRecorder(reg *prometheus.Registry) *sessionRecorder {
	lookups, duration := seriesLookups.counterVec(), seriesLookupDuration.histogramVec()
	created, revoked, cleaned := seriesCreated.counterVec(), seriesRevoked.counterVec(), seriesCleaned.counterVec()
	cacheErrors := seriesCacheErrors.counterVec()
	reg.MustRegister(lookups, duration, created, revoked, cleaned, cacheErrors)
	r := &sessionRecorder{
		lookups:     resolve(lookups, session.LookupOutcomes()),
		lookupHit:   duration.WithLabelValues("hit"),
		lookupMiss:  duration.WithLabelValues("miss"),
		guests:      created.WithLabelValues("guest"),
		logins:      created.WithLabelValues("authenticated"),
		revoked:     resolve(revoked, session.RevokeCauses()),
		cleaned:     resolve(cleaned, session.CleanReasons()),
		cacheErrors: map[string][2]prometheus.Counter{},
	}
	for _, op := range session.CacheOps() {
		r.cacheErrors[op] = [2]prometheus.Counter{
			cacheErrors.WithLabelValues(op, "error"), cacheErrors.WithLabelValues(op, "timeout"),
		}
	}
	return r
}

func (r *sessionRecorder) SessionLookup(o session.LookupOutcome, d time.Duration) {
	if int(o) < len(r.lookups) {
		r.lookups[o].Inc()
	}
	if o.FromCache() {
		r.lookupHit.Observe(d.Seconds())
	} else {
		r.lookupMiss.Observe(d.Seconds())
	}
}

func (r *sessionRecorder) SessionCreated(authenticated bool) {
	if authenticated {
		r.logins.Inc()
	} else {
		r.guests.Inc()
	}
}

func (r *sessionRecorder) GuestRefused() {
	if r.guestRefused != nil {
		r.guestRefused.Inc()
	}
}

func (r *sessionRecorder) SessionsRevoked(c session.RevokeCause, n int) {
	if int(c) < len(r.revoked) {
		r.revoked[c].Add(float64(n))
	}
}

func (r *sessionRecorder) SessionsCleaned(c session.CleanReason, n int) {
	if int(c) < len(r.cleaned) {
		r.cleaned[c].Add(float64(n))
	}
}

func (r *sessionRecorder) CacheFailed(op string, timeout bool) {
	c, ok := r.cacheErrors[op]
	if !ok {
		return // not one of session.CacheOps
	}
	if timeout {
		c[1].Inc()
	} else {
		c[0].Inc()
	}
}

// outboxCollector reads the outbox's backlog at scrape time.
type outboxCollector struct {
	sessions SessionWatch
	log      interface {
		WarnContext(ctx context.Context, msg string, args ...any)
	}
	now func() time.Time
}

var (
	outboxPendingDesc = prometheus.NewDesc(seriesOutboxPending.Name, seriesOutboxPending.Help, nil, nil)
	outboxLagDesc     = prometheus.NewDesc(seriesOutboxLag.Name, seriesOutboxLag.Help, nil, nil)
)

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxPendingDesc
	ch <- outboxLagDesc
}

// Collect reads the backlog (bounded by the service's query timeout); on
// failure it logs and leaves both series out of the scrape.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx := context.Background()
	pending, oldest, err := c.sessions.OutboxBacklog(ctx)
	if err != nil {
		c.log.WarnContext(ctx, "metrics: reading the cache outbox", "err", err)
		return
	}
	lag := 0.0
	if !oldest.IsZero() {
		lag = max(0, c.now().Sub(oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(outboxLagDesc, prometheus.GaugeValue, lag)
}

// loginRecorder implements account.LoginRecorder.
type loginRecorder struct {
	shop, admin []prometheus.Counter // by account.LoginResult
}

var _ account.LoginRecorder = (*loginRecorder)(nil)

func newLoginRecorder(reg *prometheus.Registry) *loginRecorder {
	v := seriesLogins.counterVec()
	reg.MustRegister(v)
	return &loginRecorder{
		shop:  resolve(v.MustCurryWith(prometheus.Labels{"api": string(auth.ShopAPI)}), account.LoginResults()),
		admin: resolve(v.MustCurryWith(prometheus.Labels{"api": string(auth.AdminAPI)}), account.LoginResults()),
	}
}

func (r *loginRecorder) LoginAttempt(api auth.APIType, res account.LoginResult) {
	counters := r.shop
	if api == auth.AdminAPI {
		counters = r.admin
	}
	if int(res) < len(counters) {
		counters[res].Inc()
	}
}

// throttleRecorder implements ratelimit.Recorder.
type throttleRecorder struct {
	byRule map[string]prometheus.Counter
}

var _ ratelimit.Recorder = (*throttleRecorder)(nil)

func newThrottleRecorder(reg *prometheus.Registry) *throttleRecorder {
	v := seriesThrottled.counterVec()
	reg.MustRegister(v)
	r := &throttleRecorder{byRule: map[string]prometheus.Counter{}}
	for _, name := range seriesThrottled.Labels[0].Values {
		r.byRule[name] = v.WithLabelValues(name)
	}
	return r
}

func (r *throttleRecorder) Throttled(rule string) {
	if c, ok := r.byRule[rule]; ok {
		c.Inc()
	}
}

// poolRecorder implements password.PoolRecorder.
type poolRecorder struct {
	wait    prometheus.Observer
	refused prometheus.Counter
}

var _ password.PoolRecorder = (*poolRecorder)(nil)

func newPoolRecorder(reg *prometheus.Registry) *poolRecorder {
	wait, refused := seriesHashWait.histogramVec(), seriesHashRefused.counterVec()
	reg.MustRegister(wait, refused)
	return &poolRecorder{wait: wait.WithLabelValues(), refused: refused.WithLabelValues()}
}

func (r *poolRecorder) SlotWaited(d time.Duration, granted bool) {
	r.wait.Observe(d.Seconds())
	if !granted {
		r.refused.Inc()
	}
}

// jobRecorder implements jobs.Recorder.
type jobRecorder struct {
	byKind map[string]jobKindSeries
}

type jobKindSeries struct {
	results  []prometheus.Counter // by jobs.WorkResult
	duration prometheus.Observer
}

var _ jobs.Recorder = (*jobRecorder)(nil)

func newJobRecorder(reg *prometheus.Registry) *jobRecorder {
	counts, duration := seriesJobs.counterVec(), seriesJobDuration.histogramVec()
	reg.MustRegister(counts, duration)
	r := &jobRecorder{byKind: map[string]jobKindSeries{}}
	for _, kind := range jobs.Kinds() {
		r.byKind[kind] = jobKindSeries{
			results:  resolve(counts.MustCurryWith(prometheus.Labels{"kind": kind}), jobs.WorkResults()),
			duration: duration.WithLabelValues(kind),
		}
	}
	return r
}

func (r *jobRecorder) JobWorked(kind string, res jobs.WorkResult, d time.Duration) {
	s, ok := r.byKind[kind]
	if !ok {
		return // River works only the kinds of jobs.Kinds
	}
	if int(res) < len(s.results) {
		s.results[res].Inc()
	}
	s.duration.Observe(d.Seconds())
}

// resolve returns the counter of each value of v's one remaining label,
// in the order of values (indexed by the value's enum).
func resolve[T interface{ String() string }](v *prometheus.CounterVec, values []T) []prometheus.Counter {
	out := make([]prometheus.Counter, len(values))
	for i, val := range values {
		out[i] = v.WithLabelValues(val.String())
	}
	return out
}
