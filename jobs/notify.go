package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/notify"
)

// NotifyQueue is the queue, and the job kind, of the deliveries of
// notify.Messages.
const NotifyQueue = "notify"

// Defaults of the notify job's retries: attempt n+1 runs
// DefaultNotifyRetryDelay·2ⁿ⁻¹ after attempt n fails (30s, 1m, 2m, …, at
// most MaxNotifyRetryDelay apart), so ten attempts span about three hours,
// beyond which a password reset token (1h) has expired anyway.
const (
	DefaultNotifyMaxAttempts = 10
	DefaultNotifyRetryDelay  = 30 * time.Second
	MaxNotifyRetryDelay      = time.Hour
)

// notifyWorkers is how many deliveries one instance runs at once: each
// waits on a mail server or a webhook, not on the database.
const notifyWorkers = 4

// NotifyArgs are a notify job's arguments: the message without its token.
// River stores them in its job table (and the Admin API shows them,
// masked: see publicArgs), so they hold nothing that logs anyone in: a
// token message names its issuance (DeliveryID), and the worker gives that
// issuance a fresh token when it sends (TokenRenewer), which reaches the
// recipient and nothing else.
type NotifyArgs struct {
	ID            string      `json:"id"`
	Type          notify.Type `json:"type"`
	EmailAddress  string      `json:"emailAddress"`
	UserID        entity.ID   `json:"userId"`
	DeliveryID    string      `json:"deliveryId,omitempty"`
	OccurredAt    time.Time   `json:"occurredAt"`
	ClientAddress string      `json:"clientAddress,omitempty"`
	UserAgent     string      `json:"userAgent,omitempty"`
}

// Kind implements river.JobArgs.
func (NotifyArgs) Kind() string { return NotifyQueue }

// InsertOpts implements river.JobArgsWithInsertOpts: the job runs on its
// own queue.
func (NotifyArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: NotifyQueue} }

// NotifyArgsOf returns the arguments of the job that delivers m: all but
// its token and link.
func NotifyArgsOf(m notify.Message) NotifyArgs {
	return NotifyArgs{
		ID: m.ID, Type: m.Type, EmailAddress: m.EmailAddress, UserID: m.UserID, DeliveryID: m.DeliveryID,
		OccurredAt: m.OccurredAt, ClientAddress: m.ClientAddress, UserAgent: m.UserAgent,
	}
}

// message is the message a job delivers, before its token.
func (a NotifyArgs) message() notify.Message {
	return notify.Message{
		ID: a.ID, Type: a.Type, EmailAddress: a.EmailAddress, UserID: a.UserID, DeliveryID: a.DeliveryID,
		OccurredAt: a.OccurredAt, ClientAddress: a.ClientAddress, UserAgent: a.UserAgent,
	}
}

// TokenRenewer gives the issuance of a one-time token that a delivery
// names a fresh token: account.Service's RenewDeliveryToken. ok is false
// when the issuance is gone (used, replaced, voided, expired).
type TokenRenewer interface {
	RenewDeliveryToken(ctx context.Context, userID entity.ID, typ notify.Type, deliveryID string) (token string, ok bool, err error)
}

// NotifyResult is a notify job's output.
type NotifyResult struct {
	// Sent is true once the Sender delivered the message.
	Sent bool `json:"sent"`
	// Skipped says why nothing was sent: "token no longer valid" when the
	// token's issuance was used, replaced or expired before the delivery.
	Skipped string `json:"skipped,omitempty"`
}

// skippedStale is NotifyResult.Skipped for a token whose issuance is gone.
const skippedStale = "token no longer valid"

// notifyWorker delivers notify jobs through a notify.Sender.
type notifyWorker struct {
	river.WorkerDefaults[NotifyArgs]
	sender       notify.Sender
	tokens       TokenRenewer
	retryDelay   time.Duration
	timeout      time.Duration // the Sender's bound on one delivery
	queryTimeout time.Duration
	riverNow     func() time.Time // River's clock, for NextRetry
	log          *slog.Logger
}

// Work delivers the job's message: a token message first gets a fresh
// token for its issuance (and is skipped, completed, when that issuance
// is gone), then the Sender sends it. A failure is retried with backoff
// (NextRetry), up to the job's MaxAttempts; a notify.PermanentError
// cancels the job at once.
func (w *notifyWorker) Work(ctx context.Context, job *river.Job[NotifyArgs]) error {
	m := job.Args.message()
	if !m.Type.Valid() {
		return river.JobCancel(fmt.Errorf("unknown message type %q", m.Type))
	}
	if m.Type.HasToken() {
		if w.tokens == nil {
			return river.JobCancel(errors.New("no token renewer is configured"))
		}
		rctx, cancel := context.WithTimeout(ctx, w.queryTimeout)
		token, ok, err := w.tokens.RenewDeliveryToken(rctx, m.UserID, m.Type, m.DeliveryID)
		cancel()
		if err != nil {
			return fmt.Errorf("renew the %s token: %w", m.Type, err)
		}
		if !ok {
			w.log.InfoContext(ctx, "notify: nothing sent, the token is no longer valid",
				"job", job.ID, "type", string(m.Type), "id", m.ID)
			return river.RecordOutput(ctx, NotifyResult{Skipped: skippedStale})
		}
		m.Token = token
	}
	if err := w.sender.Send(ctx, m); err != nil {
		if perm := (*notify.PermanentError)(nil); errors.As(err, &perm) {
			return river.JobCancel(err)
		}
		return err
	}
	w.log.InfoContext(ctx, "notify: message delivered", "job", job.ID, "type", string(m.Type), "id", m.ID,
		"emailAddress", auth.MaskIdentifier(m.EmailAddress), "attempt", job.Attempt)
	return river.RecordOutput(ctx, NotifyResult{Sent: true})
}

// NextRetry implements river.Worker: exponential backoff from retryDelay.
func (w *notifyWorker) NextRetry(job *river.Job[NotifyArgs]) time.Time {
	return w.riverNow().Add(notifyBackoff(w.retryDelay, job.Attempt))
}

// notifyBackoff is the wait after a failed attempt (1 for the first):
// base·2^(attempt-1), at most MaxNotifyRetryDelay (or base, when larger).
func notifyBackoff(base time.Duration, attempt int) time.Duration {
	ceiling := max(base, MaxNotifyRetryDelay)
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// Timeout is River's hard stop for one attempt: the Sender's bound, the
// token's renewal and a margin.
func (w *notifyWorker) Timeout(*river.Job[NotifyArgs]) time.Duration {
	return w.timeout + w.queryTimeout + 10*time.Second
}

// ErrNoSender is returned by EnqueueNotificationTx when the Runner has no
// Sender (Config.Sender).
var ErrNoSender = errors.New("jobs: no notification sender is configured")

// EnqueueNotificationTx inserts the job that delivers m in tx, the
// transaction that writes what m tells of: it is delivered once tx
// commits, and never if tx rolls back. m's token is not stored (see
// NotifyArgs).
func (r *Runner) EnqueueNotificationTx(ctx context.Context, tx *sql.Tx, m notify.Message) error {
	if r.cfg.Sender == nil {
		return ErrNoSender
	}
	if !m.Type.Valid() {
		return fmt.Errorf("jobs: unknown message type %q", m.Type)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.QueryTimeout)
	defer cancel()
	if _, err := r.insertTx(ctx, tx, NotifyArgsOf(m), &river.InsertOpts{Queue: NotifyQueue, MaxAttempts: r.cfg.NotifyMaxAttempts}); err != nil {
		return fmt.Errorf("jobs: enqueue %s message: %w", m.Type, err)
	}
	return nil
}

// publicArgs is what the Admin API shows of a job's arguments: a notify
// job's without the recipient's address (masked), the client's address
// and user agent, and the delivery id; any other job's as stored.
func publicArgs(row *rivertype.JobRow) json.RawMessage {
	if row.Kind != NotifyQueue {
		return json.RawMessage(row.EncodedArgs)
	}
	var a NotifyArgs
	if err := json.Unmarshal(row.EncodedArgs, &a); err != nil {
		return json.RawMessage(`{}`)
	}
	out, err := json.Marshal(struct {
		ID           string      `json:"id"`
		Type         notify.Type `json:"type"`
		EmailAddress string      `json:"emailAddress"`
		UserID       entity.ID   `json:"userId"`
		OccurredAt   time.Time   `json:"occurredAt"`
	}{a.ID, a.Type, auth.MaskIdentifier(a.EmailAddress), a.UserID, a.OccurredAt})
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return out
}
