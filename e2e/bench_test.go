package e2e_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// BenchmarkMeHTTP is the `me` query of a logged-in administrator through the
// real handler with a bearer token, on each backend (the cache is hit after
// the first request). It calls the handler in-process; the README's wrk
// command measures the same over loopback TCP.
func BenchmarkMeHTTP(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be)
			admin := e.admin(testenv.Bearer)
			admin.Do(loginMutation, creds("superadmin", "superadmin"))
			body := []byte(os.Getenv("BENCH_QUERY"))
			if len(body) == 0 {
				body = []byte(`{"query":"{ me { id identifier channels { code permissions } } }"}`)
			}
			h := e.app.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/admin-api", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+admin.Token)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
					b.Fatalf("me failed: %d %s", w.Code, w.Body)
				}
				_, _ = io.Copy(io.Discard, w.Body)
			}
		})
	}
}
