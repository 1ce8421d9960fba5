package testenv

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy between the code under test and a server
// (PostgreSQL, Redis, ...) that the test can stall, cut and restore, to
// show how the code behaves when its dependency hangs or goes away and
// that it recovers by itself when the dependency is back.
//
// Point the code under test at Addr instead of the server. The proxy starts
// forwarding; then:
//
//   - Stall: packets go nowhere. Open connections stay open but nothing
//     is forwarded in either direction, closes included; new connections
//     are accepted (the kernel completes the handshake) and then get no
//     answer. Nothing is lost: what was sent meanwhile is held, and
//     delivered if the proxy resumes.
//   - Refuse: the server is gone. Every open connection is reset (RST,
//     "connection reset by peer"), and every new one is accepted and reset
//     at once. (The listener stays open so that Resume keeps the same
//     address; a client sees a reset instead of "connection refused".)
//   - Resume: forwarding again. Stalled connections carry on with what
//     they held; connections reset by Refuse stay dead; new connections
//     reach the server.
//   - Retarget: new connections reach another server; open ones keep
//     theirs. Refuse, Retarget, Resume moves every client to the other
//     server, as a Redis client moves when it hears of a new master.
//
// The methods may be called from any goroutine, in any order, any number
// of times. The proxy is closed when the test ends: its listener and every
// connection through it are closed.
type Proxy struct {
	ln net.Listener

	mu     sync.Mutex
	target string
	state  proxyState
	wake   chan struct{} // closed and replaced at every change of state
	links  map[*link]struct{}
	closed bool
	wg     sync.WaitGroup

	held chan struct{} // NewProxyHeld's: a send (if room) whenever data or a connection is held
}

type proxyState int

const (
	forwarding proxyState = iota
	stalled
	refusing
)

// link is one client connection and, once dialled, its server connection.
type link struct {
	client net.Conn
	server net.Conn // nil until the link forwards
	dead   bool     // reset by Refuse or closed with the proxy
}

// dialTimeout bounds the proxy's own connection to the target.
const dialTimeout = 10 * time.Second

// NewProxy starts a proxy to targetAddr ("host:port") listening on a free
// port of 127.0.0.1, forwarding. It is closed when t ends.
func NewProxy(t testing.TB, targetAddr string) *Proxy {
	t.Helper()
	return newProxy(t, targetAddr, nil)
}

// NewProxyHeld is NewProxy, plus held: while the proxy is stalled, it
// sends on held (when there is room) each time it holds a connection or
// data, so a test knows that the call it started has reached the stalled
// proxy before it acts on that call.
func NewProxyHeld(t testing.TB, targetAddr string, held chan struct{}) *Proxy {
	t.Helper()
	return newProxy(t, targetAddr, held)
}

func newProxy(t testing.TB, targetAddr string, held chan struct{}) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy: %v", err)
	}
	p := &Proxy{target: targetAddr, ln: ln, wake: make(chan struct{}), links: map[*link]struct{}{}, held: held}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr returns the proxy's address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Stall stops all forwarding, keeping connections open; see Proxy.
func (p *Proxy) Stall() { p.setState(stalled) }

// Refuse resets every connection and every new one; see Proxy.
func (p *Proxy) Refuse() { p.setState(refusing) }

// Resume forwards again; see Proxy.
func (p *Proxy) Resume() { p.setState(forwarding) }

// Retarget sends the connections accepted from now on to targetAddr
// ("host:port"); see Proxy.
func (p *Proxy) Retarget(targetAddr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = targetAddr
}

func (p *Proxy) setState(s proxyState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = s
	if s == refusing {
		for l := range p.links {
			p.killLocked(l, true)
		}
	}
	close(p.wake)
	p.wake = make(chan struct{})
}

// close closes the listener and every connection, and waits for the
// proxy's goroutines.
func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	_ = p.ln.Close()
	for l := range p.links {
		p.killLocked(l, false)
	}
	close(p.wake)
	p.wake = make(chan struct{})
	p.mu.Unlock()
	p.wg.Wait()
}

// killLocked closes both ends of l; reset sends the client an RST rather
// than a FIN.
func (p *Proxy) killLocked(l *link, reset bool) {
	if l.dead {
		return
	}
	l.dead = true
	closeConn(l.client, reset)
	if l.server != nil {
		_ = l.server.Close()
	}
}

func closeConn(c net.Conn, reset bool) {
	if tc, ok := c.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // a transient error (too many open files, ...)
		}
		p.mu.Lock()
		switch {
		case p.closed:
			p.mu.Unlock()
			closeConn(c, false)
			return
		case p.state == refusing:
			p.mu.Unlock()
			closeConn(c, true)
			continue
		}
		l := &link{client: c}
		p.links[l] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(l)
	}
}

// serve forwards one link until either side closes it or it is killed.
func (p *Proxy) serve(l *link) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		p.killLocked(l, false)
		delete(p.links, l)
		p.mu.Unlock()
	}()
	// A connection accepted during a stall waits for Resume before the
	// proxy dials the server.
	if !p.gate(l) {
		return
	}
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	server, err := net.DialTimeout("tcp", target, dialTimeout)
	if err != nil {
		return
	}
	p.mu.Lock()
	if l.dead {
		p.mu.Unlock()
		_ = server.Close()
		return
	}
	l.server = server
	p.mu.Unlock()

	done := make(chan struct{})
	go func() {
		p.pipe(l, server, l.client)
		close(done)
	}()
	p.pipe(l, l.client, server)
	<-done
}

// pipe copies src to dst, holding each read at the gate, until src ends
// (then dst's write side is closed, as src's peer did) or fails (then the
// whole link is closed).
func (p *Proxy) pipe(l *link, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if !p.gate(l) {
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				p.kill(l)
				return
			}
		}
		if err != nil {
			if tc, ok := dst.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				_ = tc.CloseWrite()
				return
			}
			p.kill(l)
			return
		}
	}
}

func (p *Proxy) kill(l *link) {
	p.mu.Lock()
	p.killLocked(l, false)
	p.mu.Unlock()
}

// gate waits while the proxy is stalled. It reports whether l may go on
// forwarding: false once l is dead or the proxy closed.
func (p *Proxy) gate(l *link) bool {
	signalled := false
	for {
		p.mu.Lock()
		state, wake, dead, closed := p.state, p.wake, l.dead, p.closed
		p.mu.Unlock()
		switch {
		case dead || closed:
			return false
		case state == forwarding:
			return true
		}
		// Stalled (a refusing proxy has killed l already).
		if !signalled && p.held != nil {
			signalled = true
			select {
			case p.held <- struct{}{}:
			default:
			}
		}
		<-wake
	}
}
