package session

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"
)

// tx is a bun transaction plus the cache work to do once it has committed.
// Every write that touches more than one row runs in one, and the cache is
// only ever changed after commit: a rolled-back write leaves the cache alone.
type Tx struct {
	bun.Tx
	afterCommit []func(ctx context.Context)
	seen        map[any]struct{}
}

// Once reports whether this is the first call with key in the
// transaction, for work that a transaction needs once however many of its
// writes ask for it (one version bump for many rows changed).
func (t *Tx) Once(key any) bool {
	if _, ok := t.seen[key]; ok {
		return false
	}
	if t.seen == nil {
		t.seen = map[any]struct{}{}
	}
	t.seen[key] = struct{}{}
	return true
}

// sqlTx is the transaction's database/sql handle, for the statements the
// service sends with bound parameters (loadByID) rather than through bun.
func (t *Tx) SQLTx() *sql.Tx { return t.Tx.Tx }

// onCommit queues f to run after a successful commit.
func (t *Tx) OnCommit(f func(ctx context.Context)) { t.afterCommit = append(t.afterCommit, f) }

// RunInTx runs fn in a transaction, then the queued after-commit work.
func RunInTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, t *Tx) error) error {
	var t *Tx
	err := db.RunInTx(ctx, nil, func(ctx context.Context, btx bun.Tx) error {
		t = &Tx{Tx: btx}
		return fn(ctx, t)
	})
	if err != nil {
		return err
	}
	// The caller's cancellation must not skip cache work for a committed write.
	ctx = context.WithoutCancel(ctx)
	for _, f := range t.afterCommit {
		f(ctx)
	}
	return nil
}
