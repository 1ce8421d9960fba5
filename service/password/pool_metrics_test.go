package password_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/service/password"
)

// waits records the pool's SlotWaited calls.
type waits struct {
	mu      sync.Mutex
	granted []bool
	waited  []bool // d > 0
}

func (w *waits) SlotWaited(d time.Duration, granted bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.granted = append(w.granted, granted)
	w.waited = append(w.waited, d > 0)
}

func (w *waits) get() (granted, waited []bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]bool(nil), w.granted...), append([]bool(nil), w.waited...)
}

// TestPoolRecordsWaits: a caller that finds a slot free waited 0; one
// that queues is recorded once it gets its slot; one whose context has
// ended is refused.
func TestPoolRecordsWaits(t *testing.T) {
	t.Parallel()
	g := newGatedHasher()
	rec := &waits{}
	p := password.NewRecordedPool(g, 1, rec)

	first := make(chan error, 1)
	go func() { _, err := p.Check(context.Background(), "gated$pw", "pw"); first <- err }()
	<-g.started
	second := make(chan error, 1)
	go func() { _, err := p.Check(context.Background(), "gated$pw", "pw"); second <- err }()
	waitForWaiters(p, 1)
	granted, waited := rec.get()
	require.Equal(t, []bool{true}, granted, "the first found a free slot")
	require.Equal(t, []bool{false}, waited)

	g.gate <- struct{}{}
	require.NoError(t, <-first)
	<-g.started
	g.gate <- struct{}{}
	require.NoError(t, <-second)
	granted, _ = rec.get()
	require.Equal(t, []bool{true, true}, granted, "the second got the slot the first freed")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Check(ctx, "gated$pw", "pw")
	require.ErrorIs(t, err, password.ErrBusy)
	granted, _ = rec.get()
	require.Equal(t, []bool{true, true, false}, granted)
}
