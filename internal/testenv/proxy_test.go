package testenv

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hangGuard bounds every wait of these tests, so a broken proxy fails them
// instead of hanging; nothing is asserted about time.
const hangGuard = 10 * time.Second

// echoServer answers every connection with what it reads, and counts.
type echoServer struct {
	ln       net.Listener
	accepted atomic.Int64
	received atomic.Int64
}

func newEchoServer(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &echoServer{ln: ln}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				buf := make([]byte, 1024)
				for {
					n, err := c.Read(buf)
					s.received.Add(int64(n))
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						_ = c.Close()
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return s
}

func (s *echoServer) Addr() string { return s.ln.Addr().String() }

func dialProxy(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), hangGuard)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(hangGuard)))
	return c
}

func send(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	_, err := c.Write([]byte(msg))
	require.NoError(t, err)
}

func expect(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	buf := make([]byte, len(msg))
	_, err := io.ReadFull(c, buf)
	require.NoError(t, err)
	require.Equal(t, msg, string(buf))
}

func waitHeld(t *testing.T, held chan struct{}) {
	t.Helper()
	select {
	case <-held:
	case <-time.After(hangGuard):
		t.Fatal("the proxy never held anything")
	}
}

func TestProxyForwards(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	p := NewProxy(t, srv.Addr())
	require.Contains(t, p.Addr(), "127.0.0.1:")

	c := dialProxy(t, p)
	send(t, c, "hello")
	expect(t, c, "hello")

	// Resuming a proxy that forwards changes nothing.
	p.Resume()
	send(t, c, "again")
	expect(t, c, "again")
}

// While stalled nothing reaches the server, from an open connection or a
// new one; after Resume what was held arrives and both connections work.
func TestProxyStallHoldsUntilResume(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	held := make(chan struct{}, 16)
	p := newProxy(t, srv.Addr(), held)

	open := dialProxy(t, p)
	send(t, open, "hello")
	expect(t, open, "hello")

	p.Stall()
	send(t, open, "held")
	waitHeld(t, held)
	fresh := dialProxy(t, p) // the kernel accepts it; the proxy holds it
	send(t, fresh, "new")
	waitHeld(t, held)
	require.EqualValues(t, len("hello"), srv.received.Load(), "nothing was forwarded during the stall")
	require.EqualValues(t, 1, srv.accepted.Load(), "a connection made during the stall does not reach the server")

	p.Resume()
	expect(t, open, "held")
	expect(t, fresh, "new")
	require.EqualValues(t, 2, srv.accepted.Load())
	send(t, open, "more")
	expect(t, open, "more")
}

// Refuse resets open connections and every new one; Resume lets new
// connections through again, on the same address.
func TestProxyRefuseThenResume(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	p := NewProxy(t, srv.Addr())

	open := dialProxy(t, p)
	send(t, open, "hello")
	expect(t, open, "hello")

	p.Refuse()
	_, err := open.Read(make([]byte, 1))
	require.Error(t, err, "an open connection is cut")

	if c, err := net.DialTimeout("tcp", p.Addr(), hangGuard); err == nil {
		require.NoError(t, c.SetDeadline(time.Now().Add(hangGuard)))
		_, err = c.Read(make([]byte, 1))
		require.Error(t, err, "a new connection is cut at once")
		_ = c.Close()
	}
	require.EqualValues(t, 1, srv.accepted.Load())

	p.Resume()
	c := dialProxy(t, p)
	send(t, c, "back")
	expect(t, c, "back")
}

// Refusing a stalled proxy cuts the held connections too; nothing held
// is delivered later.
func TestProxyRefuseWhileStalled(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	held := make(chan struct{}, 16)
	p := newProxy(t, srv.Addr(), held)

	open := dialProxy(t, p)
	send(t, open, "hello")
	expect(t, open, "hello")
	p.Stall()
	send(t, open, "lost")
	waitHeld(t, held)

	p.Refuse()
	_, err := open.Read(make([]byte, 1))
	require.Error(t, err)
	p.Resume()
	c := dialProxy(t, p)
	send(t, c, "ok")
	expect(t, c, "ok")
	require.EqualValues(t, len("hello")+len("ok"), srv.received.Load())
}

// Retarget sends new connections to the other server and leaves open ones
// on theirs; after Refuse, Retarget, Resume every client reaches the other.
func TestProxyRetarget(t *testing.T) {
	t.Parallel()
	first, second := newEchoServer(t), newEchoServer(t)
	p := NewProxy(t, first.Addr())
	open := dialProxy(t, p)
	send(t, open, "one")
	expect(t, open, "one")

	p.Retarget(second.Addr())
	fresh := dialProxy(t, p)
	send(t, fresh, "two")
	expect(t, fresh, "two")
	send(t, open, "still")
	expect(t, open, "still")
	require.EqualValues(t, len("one")+len("still"), first.received.Load(), "the open connection stays on the first")
	require.EqualValues(t, len("two"), second.received.Load())

	p.Refuse()
	p.Resume()
	moved := dialProxy(t, p)
	send(t, moved, "three")
	expect(t, moved, "three")
	require.EqualValues(t, 1, first.accepted.Load())
	require.EqualValues(t, 2, second.accepted.Load())
}

// The proxy closes its connections when its test ends, stalled or not.
func TestProxyClosesAtCleanup(t *testing.T) {
	t.Parallel()
	srv := newEchoServer(t)
	var conns []net.Conn
	t.Run("inner", func(t *testing.T) {
		p := NewProxy(t, srv.Addr())
		for range 2 {
			c, err := net.DialTimeout("tcp", p.Addr(), hangGuard)
			require.NoError(t, err)
			require.NoError(t, c.SetDeadline(time.Now().Add(hangGuard)))
			conns = append(conns, c)
			send(t, c, "x")
			expect(t, c, "x")
		}
		p.Stall()
		send(t, conns[1], "held")
	})
	for _, c := range conns {
		_, err := c.Read(make([]byte, 1))
		require.Error(t, err)
		_ = c.Close()
	}
}
