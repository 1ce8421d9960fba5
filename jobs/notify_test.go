package jobs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/notify"
)

// fakeSender records what it is asked to send and answers with the next
// of its scripted errors (nil once they run out).
type fakeSender struct {
	mu   sync.Mutex
	errs []error
	sent []notify.Message
}

func (s *fakeSender) Send(_ context.Context, m notify.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	if len(s.errs) == 0 {
		return nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	return err
}

func (s *fakeSender) Sent() []notify.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]notify.Message(nil), s.sent...)
}

// fakeRenewer hands out numbered tokens while valid is true.
type fakeRenewer struct {
	mu    sync.Mutex
	valid bool
	n     int
	calls []string
}

func (f *fakeRenewer) RenewDeliveryToken(_ context.Context, userID entity.ID, typ notify.Type, deliveryID string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, string(typ)+"/"+deliveryID)
	if !f.valid {
		return "", false, nil
	}
	f.n++
	return "fresh-token-" + string(rune('0'+f.n)), true, nil
}

// notifyRunner starts a Runner with a Sender and a TokenRenewer, and
// subscribes to the settling of its jobs (events).
func notifyRunner(t *testing.T, db *bun.DB, sender notify.Sender, renewer TokenRenewer, configure ...func(*Config)) (*Runner, <-chan *river.Event) {
	t.Helper()
	r := newRunner(t, db, &fakeCleaner{answers: []answer{{done: true}}}, append([]func(*Config){func(c *Config) {
		c.Sender, c.Tokens = sender, renewer
		c.NotifyRetryDelay = time.Millisecond
	}}, configure...)...)
	events, cancel := r.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	t.Cleanup(cancel)
	start(t, r)
	return r, events
}

// next returns the next event of a notify job, failing the test if none
// comes within waitGuard.
func next(t *testing.T, events <-chan *river.Event) *river.Event {
	t.Helper()
	timer := time.NewTimer(waitGuard)
	defer timer.Stop()
	for {
		select {
		case e := <-events:
			if e.Job.Kind == NotifyQueue {
				return e
			}
		case <-timer.C:
			t.Fatal("no notify job event")
		}
	}
}

// requireRetrying requires that an event's job failed and will run
// again: retryable, or available at once when its retry is due within
// River's scheduler interval.
func requireRetrying(t *testing.T, e *river.Event) {
	t.Helper()
	require.Contains(t, []rivertype.JobState{rivertype.JobStateRetryable, rivertype.JobStateAvailable}, e.Job.State)
}

// enqueue enqueues m in a transaction that commits, or rolls back when
// rollback is set.
func enqueue(t *testing.T, db *bun.DB, r *Runner, m notify.Message, rollback bool) {
	t.Helper()
	errRollback := errors.New("roll back")
	err := db.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		if err := r.EnqueueNotificationTx(ctx, tx.Tx, m); err != nil {
			return err
		}
		if rollback {
			return errRollback
		}
		return nil
	})
	if rollback {
		require.ErrorIs(t, err, errRollback)
		return
	}
	require.NoError(t, err)
}

func tokenMessage() notify.Message {
	return notify.Message{
		ID: "msg_1", Type: notify.Verification, EmailAddress: "jo@example.com", UserID: 7,
		Token: "request-token-never-stored", DeliveryID: "delivery-1", OccurredAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
	}
}

// A token message enqueued in a committed transaction is delivered with
// a fresh token for its issuance; the job's stored arguments never held
// the token the request generated, and the Admin API shows them masked.
func TestNotifyDeliversWithFreshToken(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		sender, renewer := &fakeSender{}, &fakeRenewer{valid: true}
		r, events := notifyRunner(t, db, sender, renewer)
		enqueue(t, db, r, tokenMessage(), false)

		e := next(t, events)
		require.Equal(t, river.EventKindJobCompleted, e.Kind)
		require.Equal(t, rivertype.JobStateCompleted, e.Job.State)
		sent := sender.Sent()
		require.Len(t, sent, 1)
		want := tokenMessage()
		want.Token = "fresh-token-1"
		require.Equal(t, want.Token, sent[0].Token)
		require.Equal(t, want.ID, sent[0].ID)
		require.Equal(t, want.EmailAddress, sent[0].EmailAddress)
		require.True(t, want.OccurredAt.Equal(sent[0].OccurredAt))
		require.Equal(t, []string{"verification/delivery-1"}, renewer.calls)

		var args []string
		require.NoError(t, db.NewSelect().Table("river_job").ColumnExpr("CAST(args AS TEXT)").Where("kind = ?", NotifyQueue).Scan(t.Context(), &args))
		require.Len(t, args, 1)
		require.NotContains(t, args[0], "request-token-never-stored")
		require.NotContains(t, args[0], "fresh-token")
		require.Contains(t, args[0], "delivery-1")

		job, err := r.Job(t.Context(), entity.ID(e.Job.ID))
		require.NoError(t, err)
		require.Equal(t, NotifyQueue, job.QueueName)
		require.JSONEq(t, `{"id":"msg_1","type":"verification","emailAddress":"j***@example.com","userId":7,"occurredAt":"2026-12-01T10:00:00Z"}`, string(job.Data))
		require.JSONEq(t, `{"sent":true}`, string(job.Result))
	})
}

// A rolled-back transaction enqueues nothing, so nothing is sent.
func TestNotifyRolledBackSendsNothing(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		sender := &fakeSender{}
		r, events := notifyRunner(t, db, sender, &fakeRenewer{valid: true})
		rolledBack := tokenMessage()
		rolledBack.ID = "msg_rolled_back"
		enqueue(t, db, r, rolledBack, true)
		n, err := db.NewSelect().Table("river_job").Where("kind = ?", NotifyQueue).Count(t.Context())
		require.NoError(t, err)
		require.Zero(t, n)

		// The next committed one is the only one delivered.
		notice := notify.Message{ID: "msg_2", Type: notify.PasswordChanged, EmailAddress: "jo@example.com", UserID: 7}
		enqueue(t, db, r, notice, false)
		require.Equal(t, river.EventKindJobCompleted, next(t, events).Kind)
		sent := sender.Sent()
		require.Len(t, sent, 1)
		require.Equal(t, "msg_2", sent[0].ID)
		require.Empty(t, sent[0].Token, "a notice has no token")
	})
}

// A failing delivery is retried (with backoff) until it succeeds, with the
// same message id; each attempt renews the token, so only the one sent
// last works.
func TestNotifyRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		sender := &fakeSender{errs: []error{errors.New("smtp: 451 try again"), errors.New("smtp: 451 try again")}}
		renewer := &fakeRenewer{valid: true}
		r, events := notifyRunner(t, db, sender, renewer)
		enqueue(t, db, r, tokenMessage(), false)

		for range 2 {
			e := next(t, events)
			require.Equal(t, river.EventKindJobFailed, e.Kind)
			requireRetrying(t, e)
		}
		e := next(t, events)
		require.Equal(t, river.EventKindJobCompleted, e.Kind)
		require.Equal(t, 3, e.Job.Attempt)
		sent := sender.Sent()
		require.Len(t, sent, 3)
		require.Equal(t, []string{"fresh-token-1", "fresh-token-2", "fresh-token-3"}, []string{sent[0].Token, sent[1].Token, sent[2].Token})
		for _, m := range sent {
			require.Equal(t, "msg_1", m.ID)
		}
		job, err := r.Job(t.Context(), entity.ID(e.Job.ID))
		require.NoError(t, err)
		require.Equal(t, DefaultNotifyMaxAttempts-1, job.Retries)
		for _, attempt := range e.Job.Errors {
			require.NotContains(t, attempt.Error, "fresh-token")
		}
	})
}

// A delivery that keeps failing gives up after its attempts (FAILED); a
// permanent failure gives up at once (CANCELLED); a token whose issuance
// is gone is not sent at all (COMPLETED, skipped).
func TestNotifyGivesUp(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		down := errors.New("webhook answered 503")
		sender := &fakeSender{errs: []error{down, down, &notify.PermanentError{Err: errors.New("bad recipient")}}}
		renewer := &fakeRenewer{valid: true}
		r, events := notifyRunner(t, db, sender, renewer, func(c *Config) { c.NotifyMaxAttempts = 2 })

		notice := notify.Message{ID: "msg_down", Type: notify.PasswordChanged, EmailAddress: "jo@example.com", UserID: 7}
		enqueue(t, db, r, notice, false)
		requireRetrying(t, next(t, events))
		require.Equal(t, rivertype.JobStateDiscarded, next(t, events).Job.State, "FAILED after 2 attempts")

		notice.ID = "msg_permanent"
		enqueue(t, db, r, notice, false)
		require.Equal(t, rivertype.JobStateCancelled, next(t, events).Job.State)

		renewer.mu.Lock()
		renewer.valid = false
		renewer.mu.Unlock()
		enqueue(t, db, r, tokenMessage(), false)
		e := next(t, events)
		require.Equal(t, rivertype.JobStateCompleted, e.Job.State)
		require.JSONEq(t, `{"sent":false,"skipped":"token no longer valid"}`, string(e.Job.Output()))
		require.Len(t, sender.Sent(), 3, "the stale token was not sent")
	})
}

// Without a Sender there is no notify queue and nothing to enqueue to.
func TestNotifyNeedsSender(t *testing.T) {
	t.Parallel()
	db := testenv.SQLiteDB(t)
	r := newRunner(t, db, &fakeCleaner{answers: []answer{{done: true}}})
	err := db.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		return r.EnqueueNotificationTx(ctx, tx.Tx, tokenMessage())
	})
	require.ErrorIs(t, err, ErrNoSender)
	queues, err := r.Queues(t.Context())
	require.NoError(t, err)
	require.Equal(t, []Queue{{Name: CleanSessionsQueue}}, queues)

	with := newRunner(t, db, &fakeCleaner{answers: []answer{{done: true}}}, func(c *Config) { c.Sender = &fakeSender{} })
	queues, err = with.Queues(t.Context())
	require.NoError(t, err)
	require.Equal(t, []Queue{{Name: CleanSessionsQueue}, {Name: NotifyQueue}}, queues)
	err = db.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		return with.EnqueueNotificationTx(ctx, tx.Tx, notify.Message{Type: "welcome"})
	})
	require.ErrorContains(t, err, "unknown message type")
}

func TestNotifyBackoff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base    time.Duration
		attempt int
		want    time.Duration
	}{
		{30 * time.Second, 1, 30 * time.Second},
		{30 * time.Second, 2, time.Minute},
		{30 * time.Second, 5, 8 * time.Minute},
		{30 * time.Second, 8, time.Hour},
		{30 * time.Second, 1000, time.Hour},
		{2 * time.Hour, 3, 2 * time.Hour},
	} {
		require.Equal(t, tc.want, notifyBackoff(tc.base, tc.attempt), "%s attempt %d", tc.base, tc.attempt)
	}
}

// An unreadable notify job's arguments show as {} rather than as stored.
func TestPublicArgs(t *testing.T) {
	t.Parallel()
	require.JSONEq(t, `{}`, string(publicArgs(&rivertype.JobRow{Kind: NotifyQueue, EncodedArgs: []byte(`not json`)})))
	require.JSONEq(t, `{"batchSize":3}`, string(publicArgs(&rivertype.JobRow{Kind: CleanSessionsQueue, EncodedArgs: []byte(`{"batchSize":3}`)})))
	out := string(publicArgs(&rivertype.JobRow{Kind: NotifyQueue, EncodedArgs: []byte(
		`{"id":"m","type":"new-sign-in","emailAddress":"someone@example.com","userId":1,"deliveryId":"d","clientAddress":"203.0.113.5","userAgent":"UA","occurredAt":"2026-12-01T10:00:00Z"}`)}))
	for _, hidden := range []string{"someone@", "203.0.113.5", "UA", "deliveryId"} {
		require.False(t, strings.Contains(out, hidden), "%s in %s", hidden, out)
	}
}
