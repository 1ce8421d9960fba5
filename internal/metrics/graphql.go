package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopsession/sessionserver/graph/gqlutil"
)

// operationVecs are the GraphQL series, shared by both APIs' recorders.
type operationVecs struct {
	counts   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	names    *prometheus.GaugeVec
}

func newOperationVecs(reg *prometheus.Registry) operationVecs {
	v := operationVecs{
		counts:   seriesOperations.counterVec(),
		duration: seriesOperationDuration.histogramVec(),
		names: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: seriesOperationNames.Name, Help: seriesOperationNames.Help,
		}, seriesOperationNames.labelNames()),
	}
	reg.MustRegister(v.counts, v.duration, v.names)
	return v
}

// codeIndex maps each of resultCodes to its index.
var codeIndex = func() map[string]int {
	m := make(map[string]int, len(resultCodes))
	for i, c := range resultCodes {
		m[c] = i
	}
	return m
}()

// operationRecorder implements gqlutil.OperationRecorder for one API.
//
// Operation names are chosen by clients, so the names it counts under
// their own label are bounded: the first limit distinct names it sees
// (valid GraphQL names of at most maxOperationNameLength bytes) each get
// their series; every later name, and any other, counts as "other". Once
// the cap is reached a new name costs one map lookup, and no series is
// ever added for it. The table of names is copied on each addition (at
// most limit times) so that the request path reads it without a lock.
type operationRecorder struct {
	api   string
	vecs  operationVecs
	limit int
	names prometheus.Gauge

	table     atomic.Pointer[map[string]*operationSeries]
	mu        sync.Mutex // serializes additions to table
	anonymous *operationSeries
	other     *operationSeries
	unknown   *operationSeries
}

var _ gqlutil.OperationRecorder = (*operationRecorder)(nil)

// operationSeries are the series of one operation label: its duration
// histogram, and its counter for each result code, resolved on first use
// (a name seen with one code has no series for the others).
type operationSeries struct {
	label    string
	duration prometheus.Observer
	counts   []atomic.Pointer[prometheus.Counter] // by index in resultCodes
}

func newOperationRecorder(vecs operationVecs, api string, limit int) *operationRecorder {
	r := &operationRecorder{api: api, vecs: vecs, limit: limit, names: vecs.names.WithLabelValues(api)}
	table := map[string]*operationSeries{}
	r.table.Store(&table)
	r.anonymous, r.other, r.unknown = r.newSeries(opAnonymous), r.newSeries(opOther), r.newSeries(opUnknown)
	return r
}

func (r *operationRecorder) newSeries(label string) *operationSeries {
	return &operationSeries{
		label:    label,
		duration: r.vecs.duration.WithLabelValues(r.api, label),
		counts:   make([]atomic.Pointer[prometheus.Counter], len(resultCodes)),
	}
}

// Operation records one response.
func (r *operationRecorder) Operation(name string, selected bool, code string, d time.Duration) {
	s := r.series(name, selected)
	s.duration.Observe(d.Seconds())
	if code == "" {
		code = codeOK
	}
	i, ok := codeIndex[code]
	if !ok {
		i = codeIndex[codeOther]
	}
	c := s.counts[i].Load()
	if c == nil {
		counter := r.vecs.counts.WithLabelValues(r.api, s.label, resultCodes[i])
		s.counts[i].CompareAndSwap(nil, &counter)
		c = s.counts[i].Load()
	}
	(*c).Inc()
}

// series returns the series of an operation, adding its name while the
// table has room.
func (r *operationRecorder) series(name string, selected bool) *operationSeries {
	switch {
	case !selected:
		return r.unknown
	case name == "":
		return r.anonymous
	}
	table := *r.table.Load()
	if s, ok := table[name]; ok {
		return s
	}
	if len(table) >= r.limit || !usableName(name) {
		return r.other
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	table = *r.table.Load()
	if s, ok := table[name]; ok {
		return s
	}
	if len(table) >= r.limit {
		return r.other
	}
	next := make(map[string]*operationSeries, len(table)+1)
	for k, v := range table {
		next[k] = v
	}
	s := r.newSeries(name)
	next[name] = s
	r.table.Store(&next)
	r.names.Set(float64(len(next)))
	return s
}

// usableName reports whether name is a GraphQL name (/[_A-Za-z][_0-9A-Za-z]*/)
// of at most maxOperationNameLength bytes. gqlgen's parser only produces
// such names; the check keeps any other string (one that is not UTF-8
// would make Prometheus panic) out of the labels whatever the caller.
func usableName(name string) bool {
	if name == "" || len(name) > maxOperationNameLength {
		return false
	}
	for i := range len(name) {
		b := name[i]
		switch {
		case b == '_', 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z':
		case '0' <= b && b <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
