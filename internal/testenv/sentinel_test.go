package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// TestSentinelFailover starts the set-up, writes through the failover
// client, fails over and shows that the client then writes to the new
// master, which also kept the write from before the failover.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := StartSentinel(t)
	t.Logf("StartSentinel took %v", time.Since(start).Round(time.Millisecond))
	require.Len(t, s.SentinelAddrs, 3)
	require.Len(t, s.RedisAddrs, 2)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	master, err := s.MasterAddr(ctx)
	require.NoError(t, err)
	require.Equal(t, s.RedisAddrs[0], master)

	c := s.Client(t)
	require.NoError(t, c.Set(ctx, "before", "1", 0).Err())
	// The replica has it before the failover starts.
	require.NoError(t, c.Do(ctx, "WAIT", 1, 5000).Err())

	start = time.Now()
	oldMaster, newMaster := s.Failover(t)
	t.Logf("Failover took %v", time.Since(start).Round(time.Millisecond))
	require.Equal(t, s.RedisAddrs[0], oldMaster)
	require.Equal(t, s.RedisAddrs[1], newMaster)
	now, err := s.MasterAddr(ctx)
	require.NoError(t, err)
	require.Equal(t, newMaster, now)

	direct := redis.NewClient(&redis.Options{Addr: newMaster, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = direct.Close() })
	require.Equal(t, "1", direct.Get(ctx, "before").Val(), "the write before the failover is on the new master")

	// The client may still hold a connection to the old master for a
	// moment; a write that lands there fails (it is a replica now) or is
	// not seen on the new master, so try again until one is.
	attempt := 0
	require.NoError(t, s.poll(ctx, "the failover client to write to the new master "+newMaster, func(ctx context.Context) error {
		attempt++
		if err := c.Set(ctx, "after", attempt, 0).Err(); err != nil {
			return err
		}
		got, err := direct.Get(ctx, "after").Int()
		if err != nil {
			return err
		}
		if got != attempt {
			return fmt.Errorf("write %d not on the new master (it has %d)", attempt, got)
		}
		return nil
	}))
	role, err := c.Do(ctx, "ROLE").Slice()
	require.NoError(t, err)
	require.Equal(t, "master", role[0], "the failover client talks to a master")
}

// TestSentinelLostWrite shows the recipe for losing an acknowledged write:
// after StartFailover the old master still accepts writes from a client
// pinned to it, and Settle's resync wipes them. It also checks that
// PauseWrites holds writes but not reads.
func TestSentinelLostWrite(t *testing.T) {
	t.Parallel()
	s := StartSentinel(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := s.Client(t)
	require.NoError(t, c.Set(ctx, "k", "before", 0).Err())

	require.NoError(t, s.PauseWrites(ctx, 300*time.Millisecond))
	start := time.Now()
	require.Equal(t, "before", c.Get(ctx, "k").Val())
	require.Less(t, time.Since(start), 250*time.Millisecond, "a read is not paused")
	require.NoError(t, c.Set(ctx, "k", "paused", 0).Err())
	require.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "a write waits for the pause to end")

	start = time.Now()
	oldMaster, newMaster := s.StartFailover(t)
	t.Logf("StartFailover took %v", time.Since(start).Round(time.Millisecond))
	pinned := redis.NewClient(&redis.Options{Addr: oldMaster, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = pinned.Close() })
	role, err := pinned.Do(ctx, "ROLE").Slice()
	require.NoError(t, err)
	require.Equal(t, "master", role[0], "the old master is not demoted yet")
	require.NoError(t, pinned.Set(ctx, "k", "lost", 0).Err(), "the old master acknowledges the write")

	start = time.Now()
	require.Equal(t, newMaster, s.Settle(t))
	t.Logf("Settle took %v", time.Since(start).Round(time.Millisecond))
	direct := redis.NewClient(&redis.Options{Addr: newMaster, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = direct.Close() })
	require.Equal(t, "paused", direct.Get(ctx, "k").Val(), "the new master never saw the write")
	require.Equal(t, "paused", pinned.Get(ctx, "k").Val(), "the old master resynced and dropped it")
}
