package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/database"
	"github.com/shopsession/sessionserver/listquery"
	"github.com/shopsession/sessionserver/service/session"
)

// listCase is one request of the sessions list the benchmark measures.
type listCase struct {
	name string
	opts listquery.Options
}

// measureList times session.Service.ListSessions, the Admin API's sessions
// field, on the seeded table: a page of 20 with its exact total, by user
// and by type (newest first, the default order), each -list-runs times
// after three unmeasured runs, as an administrator who may see every
// session on the default channel. It prints each case's total and its
// median, 95th percentile and slowest run, then the EXPLAIN (ANALYZE,
// BUFFERS) of the statements of one more run, the count and the page, run
// as ListSessions runs them (without parallel workers).
//
// It reads through a database handle of its own whose query hook records
// the statements bun sends, and a session service on it (the list reads
// rows only).
func measureList(ctx context.Context, dsn string, runs int) error {
	db, err := database.Open(ctx, database.Postgres, dsn, database.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	rec := &recorder{}
	db.AddQueryHook(rec)
	sessions, err := session.New(session.Config{DB: db})
	if err != nil {
		return err
	}
	var user string
	if err := db.NewRaw(`SELECT user_id::text FROM session WHERE user_id IS NOT NULL ORDER BY id LIMIT 1`).Scan(ctx, &user); err != nil {
		return fmt.Errorf("a user with sessions: %w", err)
	}
	take := 20
	filter := func(field string, ops listquery.Operators) listquery.Options {
		return listquery.Options{Take: &take, Filter: &listquery.Filter{Fields: []listquery.FieldFilter{{Field: field, Ops: ops}}}}
	}
	anonymous, authenticated := "ANONYMOUS", "AUTHENTICATED"
	cases := []listCase{
		{"by user " + user + ", newest first", filter("userId", &listquery.IDOperators{Eq: &user})},
		{"by type ANONYMOUS, newest first", filter("type", &listquery.StringOperators{Eq: &anonymous})},
		{"by type AUTHENTICATED, newest first", filter("type", &listquery.StringOperators{Eq: &authenticated})},
		{"everything, newest first", listquery.Options{Take: &take}},
	}
	scope := session.Scope{Administrators: true, Customers: true}
	for _, c := range cases {
		var times []time.Duration
		total := 0
		for i := range runs + 3 {
			start := time.Now()
			items, n, err := sessions.ListSessions(ctx, scope, c.opts)
			elapsed := time.Since(start)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if len(items) != min(take, n) {
				return fmt.Errorf("%s: %d items of %d", c.name, len(items), n)
			}
			total = n
			if i >= 3 {
				times = append(times, elapsed)
			}
		}
		slices.Sort(times)
		fmt.Printf("sessions list, %s: totalItems %d; %d runs: p50 %s, p95 %s, max %s\n", c.name, total, runs,
			ms(times[len(times)/2]), ms(times[len(times)*95/100]), ms(times[len(times)-1]))
	}
	for _, c := range cases {
		rec.start()
		if _, _, err := sessions.ListSessions(ctx, scope, c.opts); err != nil {
			return err
		}
		for _, q := range rec.stop() {
			if !strings.HasPrefix(q, "SELECT") {
				continue // BEGIN, SET LOCAL, COMMIT
			}
			// As ListSessions runs it: without parallel workers.
			var plan []string
			err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.ExecContext(ctx, "SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
					return err
				}
				return tx.NewRaw("EXPLAIN (ANALYZE, BUFFERS) "+q).Scan(ctx, &plan)
			})
			if err != nil {
				return fmt.Errorf("explain %s: %w", q, err)
			}
			fmt.Printf("--- %s:\n%s\n%s\n", c.name, q, strings.Join(plan, "\n"))
		}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// recorder is a bun query hook that records the statements sent between
// start and stop.
type recorder struct {
	mu      sync.Mutex
	on      bool
	queries []string
}

func (r *recorder) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on, r.queries = true, nil
}

func (r *recorder) stop() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.queries
}

func (r *recorder) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (r *recorder) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on && e.Err == nil {
		r.queries = append(r.queries, e.Query)
	}
}
