package startstop_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shopsession/sessionserver/internal/startstop"
)

// Every runs a round per interval until its context ends, then once more
// (with last) on a context that is not cancelled.
func TestEvery(t *testing.T) {
	for _, last := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			var rounds int
			done := make(chan struct{})
			go func() {
				defer close(done)
				startstop.Every(ctx, time.Second, last, func(ctx context.Context) {
					if ctx.Err() != nil {
						t.Error("a round ran on a cancelled context")
					}
					rounds++
				})
			}()
			time.Sleep(3*time.Second + time.Millisecond)
			synctest.Wait()
			if rounds != 3 {
				t.Fatalf("after 3 intervals: %d rounds, want 3", rounds)
			}
			cancel()
			<-done
			want := 3
			if last {
				want = 4
			}
			if rounds != want {
				t.Fatalf("last=%v: %d rounds in all, want %d", last, rounds, want)
			}
		})
	}
}
