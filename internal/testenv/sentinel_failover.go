package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// sentinelFailoverTimeout bounds StartFailover and Settle each. Sentinel
	// promotes the replica within a second or two but demotes the old master
	// only when a periodic INFO (every 10 s) finds it still claiming to be
	// master, at least 8 s after an earlier one did.
	sentinelFailoverTimeout = 30 * time.Second

	// sentinelPollInterval is how often the helpers look again while they
	// wait for a condition.
	sentinelPollInterval = 50 * time.Millisecond
)

// Failover fails the master over, as StartFailover does, and then waits as
// Settle does, until the old master is a replica of the new one. It fails
// the test if that takes more than 30 s, and returns both masters'
// addresses. Most of its time (some 10 s) is spent waiting for the sentinels
// to demote the old master.
func (s *Sentinel) Failover(t testing.TB) (oldMaster, newMaster string) {
	t.Helper()
	oldMaster, newMaster = s.StartFailover(t)
	if m := s.Settle(t); m != newMaster {
		t.Fatalf("testenv: Failover: the master changed again, from %s to %s", newMaster, m)
	}
	return oldMaster, newMaster
}

// StartFailover makes a sentinel fail the master over (SENTINEL FAILOVER,
// which needs no quorum) and waits, at most 30 s, until every sentinel names
// the new master and the new master reports role:master; it fails the test
// otherwise. It returns both masters' addresses.
//
// It returns while the old master is still a master: the sentinels demote it
// only when one of their periodic INFOs (every 10 s) finds it claiming to be
// master at least 8 s after an earlier one did. Until then it accepts writes
// from clients connected to it directly, and it loses them when it resyncs
// from the new master. A test can provoke such lost writes by writing to the
// old master's address right after StartFailover, then calling Settle.
// go-redis's failover client closes its connections to the old master when
// the sentinel it listens to announces the new master (+switch-master),
// about a second after the promotion (up to a few seconds if it listens to
// another sentinel than the one that failed over); only what it writes in
// that gap is lost.
func (s *Sentinel) StartFailover(t testing.TB) (oldMaster, newMaster string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sentinelFailoverTimeout)
	defer cancel()

	err := s.poll(ctx, "the sentinels to agree on the master", func(ctx context.Context) error {
		var err error
		oldMaster, err = s.MasterAddr(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("testenv: StartFailover: %v", err)
	}
	// NOGOODSLAVE: the sentinel does not trust the replica yet, for example
	// just after an earlier failover. INPROG: an earlier try that timed out
	// got through.
	err = s.poll(ctx, "SENTINEL FAILOVER", func(ctx context.Context) error {
		err := s.sentinels[0].Failover(ctx, s.MasterName).Err()
		if err != nil && strings.HasPrefix(err.Error(), "INPROG") {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatalf("testenv: StartFailover: %v", err)
	}
	err = s.poll(ctx, "the failover from "+oldMaster, func(ctx context.Context) error {
		addr, err := s.MasterAddr(ctx)
		if err != nil {
			return err
		}
		if addr == oldMaster {
			return errors.New("the sentinels still name the old master")
		}
		newMaster = addr
		return s.checkRole(ctx, newMaster, "master")
	})
	if err != nil {
		t.Fatalf("testenv: StartFailover: %v", err)
	}
	return oldMaster, newMaster
}

// Settle waits, at most 30 s, until the set-up is whole again: every sentinel
// names the same master, it reports role:master, and the other data node is
// its replica with the link up (so its resync is done and another failover
// can follow). It fails the test otherwise, and returns the master's
// address. Use it after StartFailover, or after a failover that the
// sentinels started by themselves.
func (s *Sentinel) Settle(t testing.TB) (master string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sentinelFailoverTimeout)
	defer cancel()
	err := s.poll(ctx, "the set-up to settle", func(ctx context.Context) error {
		var err error
		if master, err = s.MasterAddr(ctx); err != nil {
			return err
		}
		if err := s.checkRole(ctx, master, "master"); err != nil {
			return err
		}
		for _, a := range s.RedisAddrs {
			if a != master {
				if err := s.checkReplica(ctx, a, master); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testenv: Settle: %v", err)
	}
	return master
}

// PauseWrites suspends write commands on the current master for d (CLIENT
// PAUSE <ms> WRITE): clients that write block until the pause ends, reads
// go on. Sentinel publishes its hellos on the master, and a blocked PUBLISH
// holds up the PINGs queued behind it, so a pause much longer than the 1 s
// down-after period makes the sentinels fail the master over by themselves
// (some 3 to 4 s into the pause); Settle then waits for the end of it.
// Writes held by such a pause run on the old master when it ends, and are
// lost if that is after the promotion: the old master acknowledges them.
func (s *Sentinel) PauseWrites(ctx context.Context, d time.Duration) error {
	addr, err := s.MasterAddr(ctx)
	if err != nil {
		return err
	}
	node, err := s.node(addr)
	if err != nil {
		return err
	}
	ms := max(d.Milliseconds(), 1)
	if err := node.Do(ctx, "CLIENT", "PAUSE", ms, "WRITE").Err(); err != nil {
		return fmt.Errorf("CLIENT PAUSE on %s: %w", addr, err)
	}
	return nil
}

// checkSentinel reports what sentinel sc still misses of a set-up with the
// given master and replica: the right master, a healthy replica and two
// healthy other sentinels.
func (s *Sentinel) checkSentinel(ctx context.Context, sc *redis.SentinelClient, master, replica string) error {
	hp, err := sc.GetMasterAddrByName(ctx, s.MasterName).Result()
	if err != nil {
		return err
	}
	if len(hp) != 2 || net.JoinHostPort(hp[0], hp[1]) != master {
		return fmt.Errorf("names master %q, not %s", hp, master)
	}
	replicas, err := sc.Replicas(ctx, s.MasterName).Result()
	if err != nil {
		return err
	}
	if len(replicas) != 1 {
		return fmt.Errorf("knows %d replicas, not 1", len(replicas))
	}
	r := replicas[0]
	if a := net.JoinHostPort(r["ip"], r["port"]); a != replica || r["flags"] != "slave" || r["master-link-status"] != "ok" {
		return fmt.Errorf("sees replica %s with flags %q and master-link-status %q", a, r["flags"], r["master-link-status"])
	}
	others, err := sc.Sentinels(ctx, s.MasterName).Result()
	if err != nil {
		return err
	}
	if len(others) != len(s.SentinelAddrs)-1 {
		return fmt.Errorf("knows %d other sentinels, not %d", len(others), len(s.SentinelAddrs)-1)
	}
	for _, o := range others {
		if o["flags"] != "sentinel" {
			return fmt.Errorf("sees sentinel %s:%s with flags %q", o["ip"], o["port"], o["flags"])
		}
	}
	return nil
}

// checkRole reports whether the node at addr says role:want in INFO
// replication.
func (s *Sentinel) checkRole(ctx context.Context, addr, want string) error {
	info, err := s.replicationInfo(ctx, addr)
	if err != nil {
		return err
	}
	if info["role"] != want {
		return fmt.Errorf("%s reports role:%s, not %s", addr, info["role"], want)
	}
	return nil
}

// checkReplica reports whether the node at addr is a replica of master with
// its link up, that is with the initial sync done.
func (s *Sentinel) checkReplica(ctx context.Context, addr, master string) error {
	info, err := s.replicationInfo(ctx, addr)
	if err != nil {
		return err
	}
	if info["role"] != "slave" {
		return fmt.Errorf("%s reports role:%s, not slave", addr, info["role"])
	}
	if m := net.JoinHostPort(info["master_host"], info["master_port"]); m != master {
		return fmt.Errorf("%s replicates %s, not %s", addr, m, master)
	}
	if info["master_link_status"] != "up" {
		return fmt.Errorf("%s reports master_link_status:%s", addr, info["master_link_status"])
	}
	return nil
}

// node returns the admin client of the data node at addr.
func (s *Sentinel) node(addr string) (*redis.Client, error) {
	c, ok := s.nodes[addr]
	if !ok {
		return nil, fmt.Errorf("%s is not a data node of this set-up (%v)", addr, s.RedisAddrs)
	}
	return c, nil
}

// replicationInfo returns the fields of the node's INFO replication.
func (s *Sentinel) replicationInfo(ctx context.Context, addr string) (map[string]string, error) {
	node, err := s.node(addr)
	if err != nil {
		return nil, err
	}
	text, err := node.Info(ctx, "replication").Result()
	if err != nil {
		return nil, fmt.Errorf("INFO replication on %s: %w", addr, err)
	}
	fields := map[string]string{}
	for line := range strings.Lines(text) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			fields[k] = v
		}
	}
	return fields, nil
}

// poll calls check every sentinelPollInterval, each call bounded by 2 s,
// until it returns nil, a process exits or ctx ends; the error then names
// what was awaited and check's last error.
func (g *procGroup) poll(ctx context.Context, what string, check func(context.Context) error) error {
	start := time.Now()
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := check(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if p := g.exited(); p != nil {
			return fmt.Errorf("waiting for %s: %s exited: %v (last check: %v)", what, p.name, p.err, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: gave up after %v: %w", what, time.Since(start).Round(time.Millisecond), err)
		case <-time.After(sentinelPollInterval):
		}
	}
}
