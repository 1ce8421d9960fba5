package e2e_test

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
)

// randomTokens returns n tokens no session has.
func randomTokens(n int) []string {
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = rand.Text()
	}
	return tokens
}

// meWithToken sends a storefront's `me` with a bearer token to h and
// returns the HTTP status and body.
func meWithToken(h http.Handler, token string) (int, []byte) {
	req := httptest.NewRequest(http.MethodPost, "/shop-api", bytes.NewReader([]byte(`{"query":"{ me { id } }"}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

// A flood of random tokens costs at most one database read per distinct
// token, and sending the same tokens again costs none: 10,000 requests
// with random bearer tokens read the database at most 10,000 times, and
// the same 10,000 again not at all. Each is answered as a request without
// a session.
func TestRandomTokensCostOneReadEach(t *testing.T) {
	t.Parallel()
	// The first backend and the last (SQLite with memory; PostgreSQL with
	// Redis when it is configured): 20,000 requests each.
	all := backends()
	for _, b := range []backend{all[0], all[len(all)-1]} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			randomTokensCostOneReadEach(t, b)
		})
	}
}

func randomTokensCostOneReadEach(t *testing.T, b backend) {
	{
		e := newEnv(t, b)
		h := e.app.Handler()
		tokens := randomTokens(10_000)
		send := func() {
			t.Helper()
			for _, token := range tokens {
				code, body := meWithToken(h, token)
				require.Equal(t, http.StatusOK, code)
				require.Contains(t, string(body), `"code":"FORBIDDEN"`)
			}
		}
		before := e.app.Sessions.LookupStats()
		send()
		first := e.app.Sessions.LookupStats()
		require.LessOrEqual(t, first.DatabaseReads-before.DatabaseReads, int64(len(tokens)))
		t.Logf("%s: 10,000 random tokens: %d database reads", b.name, first.DatabaseReads-before.DatabaseReads)
		send()
		again := e.app.Sessions.LookupStats()
		require.Equal(t, first.DatabaseReads, again.DatabaseReads, "the same tokens again read nothing")
		require.Equal(t, int64(len(tokens)), again.NegativeHits-first.NegativeHits)
		n, err := e.db.NewSelect().Model((*entity.Session)(nil)).Count(t.Context())
		require.NoError(t, err)
		require.Zero(t, n, "no session was created for them")
	}
}

// BenchmarkUnknownTokenHTTP is `me` with a token no session has, through
// the real handler on each backend: "negative-cache" sends one token again
// and again (answered by the negative cache after the first), "distinct"
// a new token each time (one database read each, bounded by the negative
// cache only in how many it remembers). reads/op is the database reads per
// request.
func BenchmarkUnknownTokenHTTP(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be)
			h := e.app.Handler()
			run := func(b *testing.B, next func() string) {
				before := e.app.Sessions.LookupStats().DatabaseReads
				b.ReportAllocs()
				for b.Loop() {
					if code, _ := meWithToken(h, next()); code != http.StatusOK {
						b.Fatalf("status %d", code)
					}
				}
				b.ReportMetric(float64(e.app.Sessions.LookupStats().DatabaseReads-before)/float64(b.N), "reads/op")
			}
			b.Run("negative-cache", func(b *testing.B) {
				token := rand.Text()
				meWithToken(h, token)
				run(b, func() string { return token })
			})
			b.Run("distinct", func(b *testing.B) {
				run(b, rand.Text)
			})
		})
	}
}
