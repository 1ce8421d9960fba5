package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// sentinelMasterName is the name the sentinels of StartSentinel monitor
	// their master under.
	sentinelMasterName = "testmaster"

	// sentinelStartTimeout bounds one attempt to start the set-up: the
	// sentinels say hello to each other every 2 s, so discovery takes a few
	// seconds.
	sentinelStartTimeout = 30 * time.Second
)

// Sentinel is a Redis Sentinel set-up of real redis-server processes started
// by StartSentinel: a master, one replica and three sentinels on loopback
// ports. Unlike miniredis, it fails over for real, so tests can watch a
// client follow a new master and lose writes that the old master acknowledged.
type Sentinel struct {
	// MasterName is the name the sentinels monitor the master under, as
	// go-redis's MasterName option (and REDIS_URL's master_name) wants it.
	MasterName string
	// SentinelAddrs holds the three sentinels' host:port addresses.
	SentinelAddrs []string
	// RedisAddrs holds the data nodes' host:port addresses: at start
	// RedisAddrs[0] is the master and RedisAddrs[1] its replica. A failover
	// swaps their roles, not the slice; MasterAddr says which is master now.
	RedisAddrs []string

	procGroup
	sentinels []*redis.SentinelClient
	nodes     map[string]*redis.Client // admin clients by address
}

// StartSentinel starts a master, one replica and three sentinels (quorum 2),
// each a redis-server process on a free 127.0.0.1 port with its files and
// log in t.TempDir() and no persistence. The sentinels take a master for down
// after 1 s without an answer, so failovers are quick. StartSentinel returns
// once the replica has finished its initial sync and every sentinel knows the
// replica and the two other sentinels; all processes are killed, and waited
// for, when the test ends, and a failed test prints the tail of each log.
//
// It skips the test when redis-server is not on PATH, unless CI or
// TEST_REDIS_URL is set: then the test fails, so CI never skips silently.
//
// Ports are found by listening on 127.0.0.1:0 and closing, so another
// process may take one before redis-server does; StartSentinel then tries
// once more with new ports.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	needRedisServer(t)
	dir := t.TempDir()
	var s *Sentinel
	var err error
	for attempt := 1; attempt <= 2; attempt++ {
		s, err = startSentinel(filepath.Join(dir, fmt.Sprintf("attempt%d", attempt)))
		if err == nil {
			break
		}
		t.Logf("testenv: starting Redis Sentinel, attempt %d: %v%s", attempt, err, s.logTails())
		s.stop()
	}
	if err != nil {
		t.Fatalf("testenv: could not start Redis Sentinel: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: Redis Sentinel logs:%s", s.logTails())
		}
		s.stop()
	})
	return s
}

// needRedisServer skips the test when redis-server is not on PATH, unless
// CI or TEST_REDIS_URL is set: then the test fails, so CI never skips
// silently.
func needRedisServer(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := fmt.Sprintf("testenv: redis-server is not on PATH (%v); install Redis to run the tests that start their own", err)
		if os.Getenv("CI") != "" || os.Getenv(RedisURLEnv) != "" {
			t.Fatalf("%s (CI or %s is set, so the test fails instead of skipping)", msg, RedisURLEnv)
		}
		t.Skip(msg)
	}
}

// startSentinel makes one attempt at the set-up in dir. It returns s even
// with an error, so that the caller can print its logs and stop it.
func startSentinel(dir string) (*Sentinel, error) {
	s := &Sentinel{MasterName: sentinelMasterName, nodes: map[string]*redis.Client{}}
	ctx, cancel := context.WithTimeout(context.Background(), sentinelStartTimeout)
	defer cancel()

	ports, err := freePorts(5)
	if err != nil {
		return s, err
	}
	addr := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
	s.RedisAddrs = []string{addr(ports[0]), addr(ports[1])}
	for _, p := range ports[2:] {
		s.SentinelAddrs = append(s.SentinelAddrs, addr(p))
	}
	master, replica := s.RedisAddrs[0], s.RedisAddrs[1]

	// Data nodes. Diskless sync without its default 5 s delay makes the
	// initial sync, and the old master's resync after a failover, quick.
	for i, name := range []string{"master", "replica"} {
		nodeDir := filepath.Join(dir, name)
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			return s, err
		}
		args := []string{
			"--port", strconv.Itoa(ports[i]), "--bind", "127.0.0.1", "--dir", nodeDir,
			"--save", "", "--appendonly", "no",
			"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
		}
		if name == "replica" {
			args = append(args, "--replicaof", "127.0.0.1", strconv.Itoa(ports[0]))
		}
		if err := s.start(nodeDir, name, s.RedisAddrs[i], args...); err != nil {
			return s, err
		}
		s.nodes[s.RedisAddrs[i]] = redis.NewClient(&redis.Options{
			Addr: s.RedisAddrs[i], ContextTimeoutEnabled: true, MaxRetries: -1,
		})
		if err := s.poll(ctx, name+" answers PING", func(ctx context.Context) error {
			return s.nodes[s.RedisAddrs[i]].Ping(ctx).Err()
		}); err != nil {
			return s, err
		}
	}
	if err := s.poll(ctx, "the replica's initial sync", func(ctx context.Context) error {
		return s.checkReplica(ctx, replica, master)
	}); err != nil {
		return s, err
	}

	// Sentinels, started after the sync so that their first INFO of the
	// master already lists the replica (the next comes 10 s later).
	for i, port := range ports[2:] {
		name := fmt.Sprintf("sentinel%d", i+1)
		sdir := filepath.Join(dir, name)
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			return s, err
		}
		// Sentinel rewrites its configuration file (its id, what it
		// discovers), so the file must be its own and writable.
		conf := filepath.Join(sdir, "sentinel.conf")
		m := s.MasterName
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %q\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %s 1000\n"+
			"sentinel failover-timeout %s 5000\n"+
			"sentinel parallel-syncs %s 1\n",
			port, sdir, m, ports[0], m, m, m)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return s, err
		}
		if err := s.start(sdir, name, s.SentinelAddrs[i], conf, "--sentinel"); err != nil {
			return s, err
		}
		s.sentinels = append(s.sentinels, redis.NewSentinelClient(&redis.Options{
			Addr: s.SentinelAddrs[i], ContextTimeoutEnabled: true, MaxRetries: -1,
		}))
	}
	err = s.poll(ctx, "the sentinels to discover the replica and each other", func(ctx context.Context) error {
		for i, sc := range s.sentinels {
			if err := s.checkSentinel(ctx, sc, master, replica); err != nil {
				return fmt.Errorf("sentinel%d: %w", i+1, err)
			}
		}
		return nil
	})
	return s, err
}

// Client returns a go-redis Sentinel (failover) client for the set-up, made
// by redis.NewUniversalClient from the sentinels' addresses and MasterName;
// with MasterName set, that builds it with redis.NewFailoverClient, as the
// server does from a REDIS_URL with master_name (config.ParseRedisURL
// parses it with redis.ParseFailoverURL, and NewClient calls
// redis.NewFailoverClient). Client does not go through the URL: tests of
// the server's parsing use URL. ContextTimeoutEnabled is set. It is closed
// when the test ends.
func (s *Sentinel) Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	c := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 append([]string(nil), s.SentinelAddrs...),
		MasterName:            s.MasterName,
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// URL returns a REDIS_URL for the set-up, in the form the server's
// config.ParseRedisURL reads: the sentinels' addresses and master_name.
func (s *Sentinel) URL() string {
	q := url.Values{}
	for _, a := range s.SentinelAddrs[1:] {
		q.Add("addr", a)
	}
	q.Set("master_name", s.MasterName)
	return "redis://" + s.SentinelAddrs[0] + "?" + q.Encode()
}

// MasterAddr asks every sentinel which address the master has now. It fails
// if a sentinel does not answer or if they disagree, as they do for a moment
// during a failover.
func (s *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	var addr string
	for i, sc := range s.sentinels {
		hp, err := sc.GetMasterAddrByName(ctx, s.MasterName).Result()
		for try := 0; try < 3 && errors.Is(err, io.EOF); try++ {
			// A pooled connection the sentinel has closed (seen in about
			// one run in three right after start-up): a new one answers.
			hp, err = sc.GetMasterAddrByName(ctx, s.MasterName).Result()
		}
		if err != nil {
			return "", fmt.Errorf("sentinel%d (%s): SENTINEL GET-MASTER-ADDR-BY-NAME: %w", i+1, s.SentinelAddrs[i], err)
		}
		if len(hp) != 2 {
			return "", fmt.Errorf("sentinel%d (%s): SENTINEL GET-MASTER-ADDR-BY-NAME answered %q", i+1, s.SentinelAddrs[i], hp)
		}
		a := net.JoinHostPort(hp[0], hp[1])
		if i > 0 && a != addr {
			return "", fmt.Errorf("the sentinels disagree: sentinel1 names %s, sentinel%d names %s", addr, i+1, a)
		}
		addr = a
	}
	return addr, nil
}
