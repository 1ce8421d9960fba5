package session

import (
	"context"
	"time"

	"github.com/shopsession/sessionserver/internal/startstop"
	"github.com/shopsession/sessionserver/internal/testsignal"
)

// cacheSyncTimeout bounds one round of the CacheSyncer.
const cacheSyncTimeout = 10 * cacheSyncInterval

// CacheSyncer is the background cache sync of an instance: from Start until
// Stop it calls Service.SyncCache every interval, one round after
// the other, and logs a round's failure (the next round tries again). Stop
// returns once the round in progress, if any, has ended. app.New starts it.
type CacheSyncer struct {
	startstop.BaseStartStop

	sessions *Service
	interval time.Duration

	// TestSignals are sent only once a test has initialised them.
	TestSignals CacheSyncerTestSignals
}

// CacheSyncerTestSignals are the events of a CacheSyncer a test can wait for.
type CacheSyncerTestSignals struct {
	// Synced: a round ended; the value is SyncCache's error.
	Synced testsignal.Signal[error]
}

// Init initialises every signal; only tests call it.
func (ts *CacheSyncerTestSignals) Init(tb testsignal.TB) { ts.Synced.Init(tb) }

var _ startstop.Service = (*CacheSyncer)(nil)

// NewCacheSyncer returns the sync loop of sessions, not started. interval
// defaults to cacheSyncInterval (a second).
func NewCacheSyncer(sessions *Service, interval time.Duration) *CacheSyncer {
	if interval <= 0 {
		interval = cacheSyncInterval
	}
	return &CacheSyncer{sessions: sessions, interval: interval}
}

// Interval is the period of the loop's rounds.
func (c *CacheSyncer) Interval() time.Duration { return c.interval }

// Start starts the loop; its first round is one interval later.
func (c *CacheSyncer) Start(ctx context.Context) error {
	ctx, shouldStart, started, stopped := c.StartInit(ctx)
	if !shouldStart {
		return nil
	}
	go func() {
		defer stopped()
		started()
		startstop.Every(ctx, c.interval, false, c.round)
	}()
	return nil
}

func (c *CacheSyncer) round(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, cacheSyncTimeout)
	err := c.sessions.SyncCache(sctx)
	cancel()
	if err != nil && ctx.Err() == nil {
		c.sessions.log.WarnContext(ctx, "session cache sync", "err", err)
	}
	c.TestSignals.Synced.Signal(err)
}
