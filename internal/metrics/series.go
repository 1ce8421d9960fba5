package metrics

import (
	"strconv"

	"github.com/99designs/gqlgen/graphql/errcode"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/service/account"
	"github.com/shopsession/sessionserver/service/ratelimit"
	"github.com/shopsession/sessionserver/service/session"
)

// Series is one metric family of the server's own: its name, type, help,
// labels and the values each label may take. Series lists them all; the
// instruments are built from these, and docs/metrics.md's table must
// match them (TestSeriesDocumented).
type Series struct {
	Name string
	// Type is "counter", "gauge" or "histogram".
	Type   string
	Help   string
	Labels []Label
	// Buckets are a histogram's upper bounds, in seconds.
	Buckets []float64
}

// Label is a label of a Series and the values it takes.
type Label struct {
	Name string
	// Values is the fixed set of values.
	Values []string
	// Open, when set, says which values besides Values the label takes
	// and what bounds them (the operation names clients choose).
	Open string
}

// Label values of the series that are not the services' own.
const (
	// Operation names that are not a client's.
	opAnonymous = "anonymous" // the operation has no name
	opOther     = "other"     // past the cap, or not a usable name
	opUnknown   = "unknown"   // no operation was selected
	// codeOK is the result code of a response without errors; codeOther
	// of one whose code is not in resultCodes.
	codeOK    = "ok"
	codeOther = "other"
)

// resultCodes are the extensions.code values a GraphQL response's first
// error may carry: package gqlerr's and gqlgen's own (parse and validation
// failures). Any other counts as codeOther.
var resultCodes = []string{
	codeOK,
	gqlerr.CodeForbidden, gqlerr.CodeInternal, gqlerr.CodeChannelNotFound, gqlerr.CodeEntityNotFound,
	gqlerr.CodeUserInput, gqlerr.CodeBadRequest, gqlerr.CodeRequestTimeout, gqlerr.CodeTooManyRequests,
	gqlerr.CodeTokenLimit, gqlerr.CodeFieldLimit, gqlerr.CodeDepthLimit, gqlerr.CodeAliasLimit,
	gqlerr.CodeLoginLimit, gqlerr.CodeFragmentLimit,
	gqlerr.CodePersistedQueryNotFound, gqlerr.CodePersistedQueryNotSupported, gqlerr.CodePersistedQueryHashMismatch,
	gqlerr.CodePersistedQueryInvalid, gqlerr.CodePersistedQueryNotAllowed,
	errcode.ParseFailed, errcode.ValidationFailed,
	codeOther,
}

// guestAddressLimit is the throttled counter's name for the guest-session
// limit per client address (GUEST_ADDRESS_LIMIT), which the session
// service applies rather than ratelimit.
const guestAddressLimit = "guest-address"

// Buckets, in seconds.
var (
	// lookupBuckets span a cache hit (microseconds) to a database read
	// under load and the lookup's timeout.
	lookupBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5}
	// operationBuckets span a cached `me` to a login's hash and
	// REQUEST_TIMEOUT.
	operationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15}
	// waitBuckets span no wait to a request's deadline.
	waitBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15}
	// jobBuckets span an empty clean-up to its time budget.
	jobBuckets = []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 120, 300}
)

// The series.
var (
	seriesLookups = Series{
		Name: Namespace + "_session_lookups_total", Type: "counter",
		Help:   "Session lookups (one per request that carries a session token), by outcome.",
		Labels: []Label{{Name: "outcome", Values: names(session.LookupOutcomes())}},
	}
	seriesLookupDuration = Series{
		Name: Namespace + "_session_lookup_duration_seconds", Type: "histogram",
		Help:    "Duration of session lookups; cache=hit for those answered without a database read (cache_hit, negative).",
		Labels:  []Label{{Name: "cache", Values: []string{"hit", "miss"}}},
		Buckets: lookupBuckets,
	}
	seriesCreated = Series{
		Name: Namespace + "_sessions_created_total", Type: "counter",
		Help:   "Sessions created, by type.",
		Labels: []Label{{Name: "type", Values: []string{"guest", "authenticated"}}},
	}
	seriesRevoked = Series{
		Name: Namespace + "_sessions_revoked_total", Type: "counter",
		Help:   "Sessions deleted and revoked in the cache, by cause.",
		Labels: []Label{{Name: "cause", Values: names(session.RevokeCauses())}},
	}
	seriesCleaned = Series{
		Name: Namespace + "_sessions_cleaned_total", Type: "counter",
		Help:   "Sessions removed by the clean-sessions job, by reason.",
		Labels: []Label{{Name: "reason", Values: names(session.CleanReasons())}},
	}
	seriesCacheErrors = Series{
		Name: Namespace + "_session_cache_errors_total", Type: "counter",
		Help: "Failed session cache calls, by operation and kind (timeout or error). Each puts the cache guard down.",
		Labels: []Label{
			{Name: "op", Values: session.CacheOps()},
			{Name: "kind", Values: []string{"error", "timeout"}},
		},
	}
	seriesCacheState = Series{
		Name: Namespace + "_session_cache_state", Type: "gauge",
		Help:   "The session cache guard's state: 1 for the current state, 0 for the others.",
		Labels: []Label{{Name: "state", Values: names(session.CacheStates())}},
	}
	seriesOutboxPending = Series{
		Name: Namespace + "_session_cache_outbox_pending", Type: "gauge",
		Help: "Cache evictions waiting in the outbox to be applied (shared cache only), read at scrape time.",
	}
	seriesOutboxLag = Series{
		Name: Namespace + "_session_cache_outbox_lag_seconds", Type: "gauge",
		Help: "Age of the oldest cache eviction waiting in the outbox, 0 when none waits (shared cache only), read at scrape time.",
	}
	seriesLogins = Series{
		Name: Namespace + "_login_attempts_total", Type: "counter",
		Help: "Login attempts (login, authenticate), by API and result.",
		Labels: []Label{
			{Name: "api", Values: []string{string(auth.ShopAPI), string(auth.AdminAPI)}},
			{Name: "result", Values: names(account.LoginResults())},
		},
	}
	seriesThrottled = Series{
		Name: Namespace + "_throttled_total", Type: "counter",
		Help:   "Calls refused by a throttle, by the limit that refused.",
		Labels: []Label{{Name: "limit", Values: append(ratelimit.RuleNames(), guestAddressLimit)}},
	}
	seriesHashWait = Series{
		Name: Namespace + "_password_hash_wait_seconds", Type: "histogram",
		Help:    "Time each password hash or check waited for a slot of the hashing pool (0 when one was free).",
		Buckets: waitBuckets,
	}
	seriesHashRefused = Series{
		Name: Namespace + "_password_hash_refused_total", Type: "counter",
		Help: "Password hashes and checks that gave up waiting for a slot (the request's deadline was too near).",
	}
	seriesHashQueue = Series{
		Name: Namespace + "_password_hash_queue_length", Type: "gauge",
		Help: "Password hashes and checks waiting for a slot now.",
	}
	seriesHashInUse = Series{
		Name: Namespace + "_password_hash_in_use", Type: "gauge",
		Help: "Password hashes and checks running now.",
	}
	seriesHashSlots = Series{
		Name: Namespace + "_password_hash_slots", Type: "gauge",
		Help: "Slots of the password hashing pool (PASSWORD_HASH_CONCURRENCY).",
	}
	seriesOperations = Series{
		Name: Namespace + "_graphql_operations_total", Type: "counter",
		Help: "GraphQL responses, by API, operation name and result code (the first error's extensions.code, or ok).",
		Labels: []Label{
			{Name: "api", Values: []string{"shop", "admin"}},
			operationLabel,
			{Name: "code", Values: resultCodes},
		},
	}
	seriesOperationDuration = Series{
		Name: Namespace + "_graphql_operation_duration_seconds", Type: "histogram",
		Help:    "Duration of GraphQL requests, from the GraphQL handler to the response, by API and operation name.",
		Labels:  []Label{{Name: "api", Values: []string{"shop", "admin"}}, operationLabel},
		Buckets: operationBuckets,
	}
	seriesOperationNames = Series{
		Name: Namespace + "_graphql_operation_names", Type: "gauge",
		Help:   "Distinct GraphQL operation names counted under their own name, by API (at most the cap; later names count as other).",
		Labels: []Label{{Name: "api", Values: []string{"shop", "admin"}}},
	}
	seriesJobs = Series{
		Name: Namespace + "_jobs_total", Type: "counter",
		Help: "Attempts of background jobs run by this instance, by kind and result.",
		Labels: []Label{
			{Name: "kind", Values: jobs.Kinds()},
			{Name: "result", Values: names(jobs.WorkResults())},
		},
	}
	seriesJobDuration = Series{
		Name: Namespace + "_job_duration_seconds", Type: "histogram",
		Help:    "Duration of background job attempts run by this instance, by kind.",
		Labels:  []Label{{Name: "kind", Values: jobs.Kinds()}},
		Buckets: jobBuckets,
	}
)

// operationLabel is the operation name label.
var operationLabel = Label{
	Name:   "operation",
	Values: []string{opAnonymous, opOther, opUnknown},
	Open:   "the first " + strconv.Itoa(DefaultOperationNames) + " names per API",
}

// AllSeries returns every series of the server's own (besides them, the
// Go runtime's go_* and the process's process_* series).
func AllSeries() []Series {
	return []Series{
		seriesLookups, seriesLookupDuration, seriesCreated, seriesRevoked, seriesCleaned,
		seriesCacheErrors, seriesCacheState, seriesOutboxPending, seriesOutboxLag,
		seriesLogins, seriesThrottled,
		seriesHashWait, seriesHashRefused, seriesHashQueue, seriesHashInUse, seriesHashSlots,
		seriesOperations, seriesOperationDuration, seriesOperationNames,
		seriesJobs, seriesJobDuration,
	}
}

// names returns the String of each value.
func names[T interface{ String() string }](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = v.String()
	}
	return out
}
