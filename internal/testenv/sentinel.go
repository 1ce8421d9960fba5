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
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

	// sentinelFailoverTimeout bounds StartFailover and Settle each. Sentinel
	// promotes the replica within a second or two but demotes the old master
	// only when a periodic INFO (every 10 s) finds it still claiming to be
	// master, at least 8 s after an earlier one did.
	sentinelFailoverTimeout = 30 * time.Second

	// sentinelPollInterval is how often the helpers look again while they
	// wait for a condition.
	sentinelPollInterval = 50 * time.Millisecond

	// sentinelLogTail is how many lines of each process's log a failed test
	// prints.
	sentinelLogTail = 25
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

	procs     []*redisProc
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
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := fmt.Sprintf("testenv: redis-server is not on PATH (%v); install Redis to run the Sentinel tests", err)
		if os.Getenv("CI") != "" || os.Getenv(RedisURLEnv) != "" {
			t.Fatalf("%s (CI or %s is set, so the test fails instead of skipping)", msg, RedisURLEnv)
		}
		t.Skip(msg)
	}
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
// by redis.NewUniversalClient as the server makes it from a REDIS_URL with
// master_name. ContextTimeoutEnabled is set. It is closed when the test ends.
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
// sessioncache.ParseRedisURL reads: the sentinels' addresses and master_name.
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
func (s *Sentinel) poll(ctx context.Context, what string, check func(context.Context) error) error {
	start := time.Now()
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := check(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if p := s.exited(); p != nil {
			return fmt.Errorf("waiting for %s: %s exited: %v (last check: %v)", what, p.name, p.err, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: gave up after %v: %w", what, time.Since(start).Round(time.Millisecond), err)
		case <-time.After(sentinelPollInterval):
		}
	}
}

// redisProc is one redis-server process.
type redisProc struct {
	name string
	log  string // path of its log file: its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited; err is set then
	err  error
}

// start starts redis-server with args in dir, its output going to
// dir/<name>.log.
func (s *Sentinel) start(dir, name, addr string, args ...string) error {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command("redis-server", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	killWithParent(cmd)
	if err := startFromLauncher(cmd); err != nil {
		return fmt.Errorf("start %s (%s): %w", name, addr, err)
	}
	p := &redisProc{name: name + " (" + addr + ")", log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.procs = append(s.procs, p)
	return nil
}

// exited returns a process that has exited, or nil.
func (s *Sentinel) exited() *redisProc {
	for _, p := range s.procs {
		select {
		case <-p.done:
			return p
		default:
		}
	}
	return nil
}

// stop closes the admin clients, kills the processes and waits for them.
// Calling it again does no harm.
func (s *Sentinel) stop() {
	for _, c := range s.sentinels {
		_ = c.Close()
	}
	for _, c := range s.nodes {
		_ = c.Close()
	}
	for _, p := range s.procs {
		_ = p.cmd.Process.Kill()
	}
	for _, p := range s.procs {
		<-p.done
	}
}

// logTails returns the last lines of every process's log, for a test's
// output.
func (s *Sentinel) logTails() string {
	var b strings.Builder
	for _, p := range s.procs {
		data, err := os.ReadFile(p.log)
		if err != nil {
			fmt.Fprintf(&b, "\n--- %s: %v", p.name, err)
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		lines = lines[max(0, len(lines)-sentinelLogTail):]
		fmt.Fprintf(&b, "\n--- %s, last lines of %s:\n%s", p.name, p.log, strings.Join(lines, "\n"))
	}
	return b.String()
}

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment
// ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		// Keep it open until all are found, so they differ.
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// killWithParent asks the kernel to kill the process when the test binary
// dies without running its cleanups (a panic, go test's -timeout), so that no
// redis-server outlives it. Only Linux and FreeBSD have
// SysProcAttr.Pdeathsig; it is set by name so that this file builds
// everywhere. The signal follows the death of the OS thread that started the
// process, and Go ends a thread when a goroutine exits while locked to it
// (the password pool does that on purpose), so processes are started from
// one thread that lives as long as the test binary: see startFromLauncher.
// launcher starts processes from one goroutine locked to its OS thread for
// the life of the test binary, so Pdeathsig fires only when the binary dies.
// Started from an ordinary goroutine, a redis-server died whenever its
// forking thread was later taken by a goroutine that locked and ended it
// (seen as "connection refused" from a sentinel mid-test).
var launcher struct {
	once sync.Once
	reqs chan launchRequest
}

type launchRequest struct {
	cmd *exec.Cmd
	err chan error
}

func startFromLauncher(cmd *exec.Cmd) error {
	launcher.once.Do(func() {
		launcher.reqs = make(chan launchRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the binary
			for r := range launcher.reqs {
				r.err <- r.cmd.Start()
			}
		}()
	})
	errc := make(chan error, 1)
	launcher.reqs <- launchRequest{cmd: cmd, err: errc}
	return <-errc
}

func killWithParent(cmd *exec.Cmd) {
	attr := &syscall.SysProcAttr{}
	f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig")
	if f.IsValid() && f.CanSet() && f.Type() == reflect.TypeOf(syscall.SIGKILL) {
		f.Set(reflect.ValueOf(syscall.SIGKILL))
	}
	cmd.SysProcAttr = attr
}
