package startstop

import (
	"context"
	"time"
)

// Every is the loop of a periodic service: it calls round every interval,
// one round after the other, the first one interval after it is called,
// until ctx ends; with last, it calls round once more then, with ctx's
// values but not its cancellation (the round that writes what is left on
// the way out). A service's Start runs it in its goroutine, between
// started and stopped.
func Every(ctx context.Context, interval time.Duration, last bool, round func(ctx context.Context)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if last {
				round(context.WithoutCancel(ctx))
			}
			return
		case <-tick.C:
		}
		round(ctx)
	}
}
