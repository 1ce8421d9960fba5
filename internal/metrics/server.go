package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/shopsession/sessionserver/internal/startstop"
)

// Path is where Server serves the metrics.
const Path = "/metrics"

// shutdownTimeout bounds how long Stop waits for scrapes in progress.
const shutdownTimeout = 5 * time.Second

// Server serves a Metrics's Handler on Path of its own listener
// (METRICS_ADDR), apart from the APIs. It is a startstop.Service: Start
// serves on the listener in the background, Stop shuts the server down
// (waiting up to shutdownTimeout for scrapes in progress) and closes the
// listener. A Server serves one run: the listener is gone after Stop.
type Server struct {
	startstop.BaseStartStop

	ln  net.Listener
	srv *http.Server
	log *slog.Logger
}

var _ startstop.Service = (*Server)(nil)

// NewServer returns a Server of h on ln, not started. Anything but GET or
// HEAD of Path is answered 404 or 405.
func NewServer(ln net.Listener, h http.Handler, log *slog.Logger) *Server {
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, h)
	return &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		log: log,
	}
}

// Addr returns the address the server listens on (the port chosen for
// port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Start serves in the background until Stop or ctx ends.
func (s *Server) Start(ctx context.Context) error {
	ctx, shouldStart, started, stopped := s.StartInit(ctx)
	if !shouldStart {
		return nil
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	go func() {
		defer stopped()
		started()
		select {
		case err := <-errc:
			if !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("metrics server stopped", "err", err)
			}
			return
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		if err := s.srv.Shutdown(sctx); err != nil {
			s.log.Warn("metrics server shutdown", "err", err)
			_ = s.srv.Close()
		}
		<-errc
	}()
	return nil
}
