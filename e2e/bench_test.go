package e2e_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shopsession/sessionserver/internal/testenv"
)

// BenchmarkMeHTTP is `me` of a logged-in administrator through the real
// handler with a bearer token, on each backend (the cache is hit after the
// first request): "full" is the admin UI's document with every channel's
// permissions, "small" a storefront's. It calls the handler in-process; the
// wrk command of docs/benchmarks.md ("Cached `me`") measures the same over
// loopback TCP.
func BenchmarkMeHTTP(b *testing.B) {
	documents := []struct{ name, body string }{
		{"full", `{"query":"{ me { id identifier channels { id code token permissions } } }"}`},
		{"small", `{"query":"{ me { id identifier } }"}`},
	}
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be)
			admin := e.admin(testenv.Bearer)
			admin.Do(loginMutation, creds("superadmin", "superadmin"))
			h := e.app.Handler()
			for _, doc := range documents {
				b.Run(doc.name, func(b *testing.B) {
					body := []byte(doc.body)
					b.ReportAllocs()
					for b.Loop() {
						req := httptest.NewRequest(http.MethodPost, "/admin-api", bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+admin.Token)
						w := httptest.NewRecorder()
						h.ServeHTTP(w, req)
						if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
							b.Fatalf("me failed: %d %s", w.Code, w.Body)
						}
					}
				})
			}
		})
	}
}
