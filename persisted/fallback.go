package persisted

import (
	"context"
	"sync/atomic"
	"time"
)

// Fallback is a Store that uses Primary (Redis) and, where Primary fails
// or does not have a document, Secondary (this instance's Memory):
//   - Get asks Primary, then Secondary on a miss or an error, so a
//     document registered while Redis was down (or full) is still found
//     on this instance;
//   - Add stores in Primary, and in Secondary when Primary fails or is
//     full (ErrFull).
//
// It never returns an error when Secondary does not: a Redis outage costs
// the instances their shared documents (clients register them again, on
// each instance), never a request.
type Fallback struct {
	Primary   Store
	Secondary Store
	// OnError is called with each error of Primary (to log it), at most
	// once per ErrorInterval. May be nil.
	OnError func(err error)
	// ErrorInterval spaces the calls of OnError. Defaults to 1 s.
	ErrorInterval time.Duration

	lastReport atomic.Int64 // unix nanoseconds
}

var _ Store = (*Fallback)(nil)

// Get implements Store.
func (f *Fallback) Get(ctx context.Context, hash string) (string, bool, error) {
	doc, ok, err := f.Primary.Get(ctx, hash)
	if err != nil {
		f.failed(err)
	}
	if ok {
		return doc, true, nil
	}
	return f.Secondary.Get(ctx, hash)
}

// Add implements Store.
func (f *Fallback) Add(ctx context.Context, hash, doc string) error {
	err := f.Primary.Add(ctx, hash, doc)
	if err == nil {
		return nil
	}
	f.failed(err)
	return f.Secondary.Add(ctx, hash, doc)
}

func (f *Fallback) failed(err error) {
	if f.OnError == nil {
		return
	}
	interval := f.ErrorInterval
	if interval <= 0 {
		interval = time.Second
	}
	now := time.Now().UnixNano()
	last := f.lastReport.Load()
	if now-last >= interval.Nanoseconds() && f.lastReport.CompareAndSwap(last, now) {
		f.OnError(err)
	}
}
