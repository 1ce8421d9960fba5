package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
)

// TestHealth: GET /health answers 200 {"status":"ok"} while the database
// answers a ping, and 503 {"status":"error","database":"down"} when it
// does not, on each database; other methods are refused by the router.
func TestHealth(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *bun.DB) {
		cfg := config.Defaults()
		cfg.BcryptCost = 4
		a, err := app.New(t.Context(), cfg, app.Options{DB: db})
		require.NoError(t, err)
		t.Cleanup(func() { _ = a.Close() })
		srv := httptest.NewServer(a.Handler())
		t.Cleanup(srv.Close)

		get := func(method string) (int, string, string) {
			req, err := http.NewRequest(method, srv.URL+"/health", nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
		}

		status, contentType, body := get(http.MethodGet)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "application/json", contentType)
		require.Equal(t, `{"status":"ok"}`+"\n", body)

		status, _, _ = get(http.MethodPost)
		require.Equal(t, http.StatusMethodNotAllowed, status)

		require.NoError(t, db.Close()) // app.Options.DB is the caller's to close
		status, contentType, body = get(http.MethodGet)
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "application/json", contentType)
		require.Equal(t, `{"status":"error","database":"down"}`+"\n", body)
	})
}
