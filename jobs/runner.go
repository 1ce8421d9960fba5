package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/internal/startstop"
	"github.com/shopsession/sessionserver/internal/testsignal"
	"github.com/shopsession/sessionserver/notify"
)

// Defaults of Config.
const (
	DefaultBatchSize = 1000 // Vendure's cleanSessionsTask batch size
	// DefaultTimeBudget is one clean-sessions job's budget: at a few
	// milliseconds per batch of 1000 that is millions of sessions, while a
	// leadership change, a deploy or a shutdown waits at most this long for
	// the job (SHUTDOWN_TIMEOUT cancels it sooner, and it is retried).
	DefaultTimeBudget  = time.Minute
	DefaultMaxAttempts = 3
	DefaultRetryDelay  = time.Minute
	DefaultStopTimeout = 10 * time.Second
)

// Config builds a Runner. DB and Cleaner are required.
type Config struct {
	// DB is the application's database, migrated (River's tables
	// included, see migrations.Run). River shares its connections: the
	// pgx pool on PostgreSQL, the one connection on SQLite.
	DB *bun.DB
	// Cleaner removes expired sessions (session.Service).
	Cleaner Cleaner
	// Registrations removes the registrations that expired unverified
	// (AccountService), once per clean-sessions job that finishes.
	// Defaults to none.
	Registrations RegistrationExpirer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// NowFunc is the application's clock: the worker's deadline and the
	// scheduled tasks' next run are read from it. Defaults to time.Now.
	NowFunc func() time.Time

	// Schedule is the periodic clean-sessions job's cron expression (see
	// ParseSchedule), or "off". Defaults to DefaultSchedule.
	Schedule string
	// BatchSize is the periodic job's batch size. Defaults to
	// DefaultBatchSize.
	BatchSize int
	// TimeBudget bounds one clean-sessions job; what is left goes to a
	// follow-up job. Defaults to DefaultTimeBudget.
	TimeBudget time.Duration
	// MaxAttempts is how many times a failing job runs before it is
	// FAILED. Defaults to DefaultMaxAttempts.
	MaxAttempts int
	// RetryDelay is the wait before each retry. Defaults to
	// DefaultRetryDelay.
	RetryDelay time.Duration
	// QueryTimeout bounds each of the Runner's own database calls.
	// Defaults to database.DefaultQueryTimeout.
	QueryTimeout time.Duration
	// StopTimeout is how long Stop lets running jobs finish before it
	// cancels them (a cancelled job is retried later, by this instance or
	// another). Defaults to DefaultStopTimeout.
	StopTimeout time.Duration
	// CancelTimeout is how long Stop then waits for the cancelled jobs to
	// return. Defaults to StopTimeout.
	CancelTimeout time.Duration
	// Middleware wraps every job's insert and run (River's middleware):
	// the app gives the tracing one when tracing is on. Defaults to none.
	Middleware []rivertype.Middleware
	// Metrics receives how each attempt of a job ended and how long it
	// ran. Defaults to none.
	Metrics Recorder

	// Sender delivers the notify jobs (NotifyQueue). Defaults to none:
	// the queue has no worker and EnqueueNotificationTx refuses.
	Sender notify.Sender
	// Tokens gives a token message's issuance a fresh token when it is
	// sent (AccountService). Without it a token message is cancelled.
	Tokens TokenRenewer
	// NotifyMaxAttempts is how many times a notify job runs before it
	// is FAILED. Defaults to DefaultNotifyMaxAttempts.
	NotifyMaxAttempts int
	// NotifyRetryDelay is the wait after a notify job's first failed
	// attempt, doubling after each further one up to
	// MaxNotifyRetryDelay. Defaults to DefaultNotifyRetryDelay.
	NotifyRetryDelay time.Duration
	// NotifyTimeout is the Sender's bound on one delivery, which the
	// job's own timeout exceeds. Defaults to notify.DefaultTimeout.
	NotifyTimeout time.Duration

	// Test seams, set by this package's tests only.
	riverTime  rivertype.TimeGenerator // River's clock
	clientID   string
	middleware []rivertype.Middleware
}

// riverClient is what the Runner uses of a *river.Client[TTx], whatever
// TTx the driver has.
type riverClient interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// txInserter inserts a job in a database/sql transaction: InsertTx of a
// River client whose driver's transactions are *sql.Tx.
type txInserter func(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)

// Runner runs the background jobs on River and answers the Admin API's
// questions about them. It implements Queries and
// session.CleanSessionsEnqueuer, and is a startstop.Service: Start starts
// River's workers and Stop stops them gracefully (see stopRiver), logging
// an error. A Runner that is not started still enqueues and answers
// queries.
type Runner struct {
	startstop.BaseStartStop

	cfg      Config
	log      *slog.Logger
	client   riverClient
	insertTx txInserter
	schedule *Schedule // nil when the periodic job is off

	mu      sync.Mutex
	running bool // River's workers are running

	// TestSignals are sent only once a test has initialised them.
	TestSignals RunnerTestSignals
}

// RunnerTestSignals are the events of a Runner a test can wait for.
type RunnerTestSignals struct {
	// RiverStopped: River stopped; the value is the error of stopping it, nil
	// when every running job finished or returned once cancelled.
	RiverStopped testsignal.Signal[error]
}

// Init initialises every signal; only tests call it.
func (ts *RunnerTestSignals) Init(tb testsignal.TB) { ts.RiverStopped.Init(tb) }

var (
	_ Queries           = (*Runner)(nil)
	_ startstop.Service = (*Runner)(nil)
)

// New builds a Runner and its River client; Start starts the workers.
func New(cfg Config) (*Runner, error) {
	if cfg.DB == nil || cfg.Cleaner == nil {
		return nil, errors.New("jobs: Config.DB and Config.Cleaner are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Schedule == "" {
		cfg.Schedule = DefaultSchedule
	}
	cfg.BatchSize = positive(cfg.BatchSize, DefaultBatchSize)
	cfg.TimeBudget = positive(cfg.TimeBudget, DefaultTimeBudget)
	cfg.MaxAttempts = positive(cfg.MaxAttempts, DefaultMaxAttempts)
	cfg.RetryDelay = positive(cfg.RetryDelay, DefaultRetryDelay)
	cfg.QueryTimeout = positive(cfg.QueryTimeout, database.DefaultQueryTimeout)
	cfg.StopTimeout = positive(cfg.StopTimeout, DefaultStopTimeout)
	cfg.CancelTimeout = positive(cfg.CancelTimeout, cfg.StopTimeout)
	cfg.NotifyMaxAttempts = positive(cfg.NotifyMaxAttempts, DefaultNotifyMaxAttempts)
	cfg.NotifyRetryDelay = positive(cfg.NotifyRetryDelay, DefaultNotifyRetryDelay)
	cfg.NotifyTimeout = positive(cfg.NotifyTimeout, notify.DefaultTimeout)
	schedule, err := ParseSchedule(cfg.Schedule)
	if err != nil {
		return nil, fmt.Errorf("jobs: schedule: %w", err)
	}
	r := &Runner{cfg: cfg, log: cfg.Logger, schedule: schedule}

	switch cfg.DB.Dialect().Name() {
	case dialect.PG:
		pool, ok := database.PgxPool(cfg.DB)
		if !ok {
			return nil, errors.New("jobs: River needs a PostgreSQL database opened by database.Open (its pgx pool)")
		}
		r.client, err = newClient(r, riverpgxv5.New(pool))
		if err != nil {
			break
		}
		// A job enqueued in a service's transaction is inserted through
		// that transaction, a *sql.Tx (bun's), which River's pgx driver
		// cannot take: an insert-only client on the same pool's
		// database/sql face inserts it.
		var inserter *river.Client[*sql.Tx]
		inserter, err = river.NewClient(riverdatabasesql.New(cfg.DB.DB), &river.Config{Logger: r.log})
		if err == nil {
			r.insertTx = inserter.InsertTx
		}
	case dialect.SQLite:
		// The same *sql.DB and its one connection, which River's SQLite
		// driver asks for. River holds it only for its own short
		// statements and never while a job runs, and the worker holds it
		// only within one statement or transaction of the cleaner, each
		// under a deadline: whoever waits for it gets it, or fails, in
		// bounded time.
		var client *river.Client[*sql.Tx]
		client, err = newClient(r, riversqlite.New(cfg.DB.DB))
		if err == nil {
			r.client, r.insertTx = client, client.InsertTx
		}
	default:
		return nil, fmt.Errorf("jobs: unsupported dialect %s", cfg.DB.Dialect().Name())
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return r, nil
}

// middleware is River's middleware: the tests' and, with Config.Metrics,
// the one that records each attempt.
func middleware(cfg Config) []rivertype.Middleware {
	if cfg.Metrics == nil {
		return cfg.middleware
	}
	return append(cfg.middleware[:len(cfg.middleware):len(cfg.middleware)], &metricsMiddleware{rec: cfg.Metrics, now: cfg.NowFunc})
}

func positive[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func newClient[TTx any](r *Runner, driver riverdriver.Driver[TTx]) (*river.Client[TTx], error) {
	cfg := r.cfg
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &cleanWorker[TTx]{
		cleaner: cfg.Cleaner, registrations: cfg.Registrations, budget: cfg.TimeBudget, queryTimeout: cfg.QueryTimeout,
		now: cfg.NowFunc, log: r.log,
	}); err != nil {
		return nil, err
	}
	queues := map[string]river.QueueConfig{
		// One worker: cleaning is one DELETE after another on the same
		// rows' index; two at once would only contend.
		CleanSessionsQueue: {MaxWorkers: 1},
	}
	if cfg.Sender != nil {
		if err := river.AddWorkerSafely(workers, &notifyWorker{
			sender: cfg.Sender, tokens: cfg.Tokens, retryDelay: cfg.NotifyRetryDelay, timeout: cfg.NotifyTimeout,
			queryTimeout: cfg.QueryTimeout, riverNow: func() time.Time { return riverNow(cfg) }, log: r.log,
		}); err != nil {
			return nil, err
		}
		queues[NotifyQueue] = river.QueueConfig{MaxWorkers: notifyWorkers}
	}
	var periodic []*river.PeriodicJob
	if r.schedule != nil {
		periodic = append(periodic, r.periodicJob())
	}
	timeout := jobTimeout(cfg.TimeBudget, cfg.QueryTimeout)
	return river.NewClient(driver, &river.Config{
		ID:           cfg.clientID,
		Logger:       r.log,
		Queues:       queues,
		Workers:      workers,
		PeriodicJobs: periodic,
		MaxAttempts:  cfg.MaxAttempts,
		RetryPolicy:  fixedDelay{delay: cfg.RetryDelay, now: func() time.Time { return riverNow(cfg) }},
		// The clean-sessions job's; each notify job has its own
		// (notifyWorker.Timeout).
		JobTimeout: timeout,
		// River's default (1 h) must exceed the job timeout.
		RescueStuckJobsAfter: max(time.Hour, timeout+time.Hour),
		Middleware:           append(slices.Clip(cfg.Middleware), middleware(cfg)...),
		Test:                 river.TestConfig{Time: cfg.riverTime},
		TestOnly:             cfg.riverTime != nil,
	})
}

// riverNow is River's clock: real time, or the tests' stub.
func riverNow(cfg Config) time.Time {
	if cfg.riverTime != nil {
		return cfg.riverTime.Now()
	}
	return time.Now()
}

// fixedDelay retries a failed job after a fixed delay: a failing cleanup
// is nearly always an unreachable or stalled database, which a minute
// either cures or not; River's default (attempt⁴ seconds) suits many
// attempts, not our few.
type fixedDelay struct {
	delay time.Duration
	now   func() time.Time
}

func (p fixedDelay) NextRetry(*rivertype.JobRow) time.Time { return p.now().Add(p.delay) }

// periodicJob is the clean-sessions job on the schedule. River's leader
// inserts it; the job is unique per run of the schedule, so a new leader
// (or a leader whose clock is a little behind) that fires the same run
// again inserts nothing.
func (r *Runner) periodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(r.schedule, func() (river.JobArgs, *river.InsertOpts) {
		// River fires up to 100 ms early; a second of margin names the
		// run it fired for.
		run, ok := r.schedule.slot(riverNow(r.cfg).Add(time.Second))
		if !ok {
			return nil, nil
		}
		return CleanSessionsArgs{BatchSize: r.cfg.BatchSize}, &river.InsertOpts{
			// The run's time, not the insert's, is what the unique key
			// hashes: ByPeriod rounds ScheduledAt down to the period.
			ScheduledAt: run,
			UniqueOpts:  river.UniqueOpts{ByPeriod: time.Second},
		}
	}, &river.PeriodicJobOpts{ID: CleanSessionsQueue})
}

// Start starts River: its workers, and, on the instance elected leader,
// the periodic job and River's maintenance. They run until Stop, or until
// ctx ends.
func (r *Runner) Start(ctx context.Context) error {
	ctx, shouldStart, started, stopped := r.StartInit(ctx)
	if !shouldStart {
		return nil
	}
	// River's own lifetime is the Runner's: stopRiver ends it.
	if err := r.client.Start(context.WithoutCancel(ctx)); err != nil {
		stopped()
		return fmt.Errorf("jobs: start river: %w", err)
	}
	r.setRunning(true)
	if r.schedule == nil {
		r.log.InfoContext(ctx, "periodic job clean-sessions is off", "schedule", ScheduleOff)
	} else {
		r.log.InfoContext(ctx, "periodic job clean-sessions registered",
			"schedule", r.schedule.String(), "batchSize", r.cfg.BatchSize,
			"next", r.schedule.Next(r.cfg.NowFunc()).Format(time.RFC3339))
	}
	started()
	go func() {
		defer stopped()
		<-ctx.Done()
		r.setRunning(false)
		err := r.stopRiver(context.WithoutCancel(ctx))
		if err != nil {
			r.log.ErrorContext(ctx, "jobs: stop river", "err", err)
		}
		r.TestSignals.RiverStopped.Signal(err)
	}()
	return nil
}

// stopRiver stops River gracefully; Stop waits for it. No new jobs
// start, and running ones get StopTimeout to finish; then their contexts
// are cancelled and River waits (at most CancelTimeout) for them to
// return. A cancelled job is retried later, by this instance or another.
func (r *Runner) stopRiver(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, r.cfg.StopTimeout)
	err := r.client.Stop(sctx)
	cancel()
	if err == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, r.cfg.CancelTimeout)
	defer cancel()
	if cerr := r.client.StopAndCancel(cctx); cerr != nil {
		return errors.Join(err, cerr)
	}
	return nil
}

func (r *Runner) setRunning(running bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running = running
}

// EnqueueCleanSessions enqueues a clean-sessions job now.
func (r *Runner) EnqueueCleanSessions(ctx context.Context, batchSize int) (*Job, error) {
	if batchSize < 1 {
		return nil, fmt.Errorf("jobs: batchSize must be at least 1, got %d", batchSize)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.QueryTimeout)
	defer cancel()
	res, err := r.client.Insert(ctx, CleanSessionsArgs{BatchSize: batchSize}, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: enqueue clean-sessions: %w", err)
	}
	return toJob(res.Job), nil
}

// Queues implements Queries: the clean-sessions queue and, with a Sender,
// the notify queue, running while this instance's workers are.
func (r *Runner) Queues(context.Context) ([]Queue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	queues := []Queue{{Name: CleanSessionsQueue, Running: r.running}}
	if r.cfg.Sender != nil {
		queues = append(queues, Queue{Name: NotifyQueue, Running: r.running})
	}
	return queues, nil
}

// Subscribe returns River's events of the kinds given (river.EventKind…)
// for every job this instance works, and the function that ends the
// subscription. Tests wait on it for a job to finish.
func (r *Runner) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return r.client.Subscribe(kinds...)
}
