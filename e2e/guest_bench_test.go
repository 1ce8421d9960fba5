package e2e_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shopsession/sessionserver/config"
)

// BenchmarkGuestSessionHTTP is `activeCustomer` without a token through the
// real handler, from parallel clients: each request creates a guest session
// (a cache entry only, GUEST_SESSIONS=lazy; "eager" runs the same with a
// row each, as Vendure) and sends its token back, as the Shop
// API's activeOrder does for a new visitor. The wrk script
// internal/bench/guest-session.lua measures the same over loopback TCP.
// Every request comes from one address, and both guest limits are set too
// high to refuse any: each request pays for counting, not for a refusal.
func BenchmarkGuestSessionHTTP(b *testing.B) {
	body := []byte(`{"query":"{ activeCustomer { id } }"}`)
	for _, mode := range []string{config.GuestLazy, config.GuestEager} {
		for _, be := range backends() {
			b.Run(mode+"/"+be.name, func(b *testing.B) {
				e := newEnv(b, be, withGuestSessions(mode), withGuestLimits(1<<30, config.DefaultGuestAddressWindow, 1<<30))
				benchGuests(b, e.app.Handler(), body)
			})
		}
	}
}

func benchGuests(b *testing.B, h http.Handler, body []byte) {
	b.ReportAllocs()
	b.SetParallelism(25) // 50 clients on 2 cores, as the wrk run
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/shop-api", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK || w.Header().Get("vendure-auth-token") == "" {
				b.Errorf("guest session not created: %d %s", w.Code, w.Body)
				return
			}
		}
	})
}
