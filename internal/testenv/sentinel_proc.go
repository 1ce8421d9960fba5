package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
)

// sentinelLogTail is how many lines of each process's log a failed test
// prints.
const sentinelLogTail = 25

// redisProc is one redis-server process.
type redisProc struct {
	name string
	log  string // path of its log file: its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited; err is set then
	err  error
}

// procGroup is the redis-server processes of one set-up: StartSentinel's
// or StartRedis's.
type procGroup struct {
	procs []*redisProc
}

// start starts redis-server with args in dir, its output going to
// dir/<name>.log.
func (g *procGroup) start(dir, name, addr string, args ...string) error {
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
	g.procs = append(g.procs, p)
	return nil
}

// exited returns a process that has exited, or nil.
func (g *procGroup) exited() *redisProc {
	for _, p := range g.procs {
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
	s.kill()
}

// kill kills the processes and waits for them. Calling it again does no
// harm.
func (g *procGroup) kill() {
	for _, p := range g.procs {
		_ = p.cmd.Process.Kill()
	}
	for _, p := range g.procs {
		<-p.done
	}
}

// logTails returns the last lines of every process's log, for a test's
// output.
func (g *procGroup) logTails() string {
	var b strings.Builder
	for _, p := range g.procs {
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

// startFromLauncher starts cmd from the launcher's goroutine (see launcher)
// and returns cmd.Start's error.
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

// killWithParent asks the kernel to kill the process when the test binary
// dies without running its cleanups (a panic, go test's -timeout), so that no
// redis-server outlives it. Only Linux and FreeBSD have
// SysProcAttr.Pdeathsig; it is set by name so that this file builds
// everywhere. The signal follows the death of the OS thread that started the
// process, and Go ends a thread when a goroutine exits while locked to it
// (the password pool does that on purpose), so processes are started from
// one thread that lives as long as the test binary: see startFromLauncher.
func killWithParent(cmd *exec.Cmd) {
	attr := &syscall.SysProcAttr{}
	f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig")
	if f.IsValid() && f.CanSet() && f.Type() == reflect.TypeOf(syscall.SIGKILL) {
		f.Set(reflect.ValueOf(syscall.SIGKILL))
	}
	cmd.SysProcAttr = attr
}
