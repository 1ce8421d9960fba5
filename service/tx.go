package service

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"
)

// tx is a bun transaction plus the cache work to do once it has committed.
// Every write that touches more than one row runs in one, and the cache is
// only ever changed after commit: a rolled-back write leaves the cache alone.
type tx struct {
	bun.Tx
	afterCommit []func(ctx context.Context)
}

// sqlTx is the transaction's database/sql handle, for the statements the
// service sends with bound parameters (loadByID) rather than through bun.
func (t *tx) sqlTx() *sql.Tx { return t.Tx.Tx }

// onCommit queues f to run after a successful commit.
func (t *tx) onCommit(f func(ctx context.Context)) { t.afterCommit = append(t.afterCommit, f) }

// runInTx runs fn in a transaction, then the queued after-commit work.
func runInTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, t *tx) error) error {
	var t *tx
	err := db.RunInTx(ctx, nil, func(ctx context.Context, btx bun.Tx) error {
		t = &tx{Tx: btx}
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
