package notify_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/notify"
)

// received is one request a test receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver answers each request with the next status of statuses (the
// last one repeats) and passes the request on.
func receiver(t *testing.T, statuses ...int) (*httptest.Server, <-chan received) {
	t.Helper()
	ch := make(chan received, 16)
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- received{r.Header.Clone(), body}
		w.WriteHeader(statuses[min(n, len(statuses)-1)])
		n++
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

// verify checks a request's signature as a receiver would (docs/notifications.md).
func verify(t *testing.T, secret string, r received) notify.WebhookPayload {
	t.Helper()
	key, err := notify.WebhookKey(secret)
	require.NoError(t, err)
	ts, err := strconv.ParseInt(r.header.Get(notify.HeaderWebhookTimestamp), 10, 64)
	require.NoError(t, err)
	want := notify.Sign(key, r.header.Get(notify.HeaderWebhookID), ts, r.body)
	require.True(t, hmac.Equal([]byte(want), []byte(r.header.Get(notify.HeaderWebhookSignature))), "signature")
	var p notify.WebhookPayload
	require.NoError(t, json.Unmarshal(r.body, &p))
	return p
}

func TestWebhookSignsAndSends(t *testing.T) {
	t.Parallel()
	srv, got := receiver(t, http.StatusNoContent)
	now := time.Unix(1_800_000_000, 0)
	w, err := notify.NewWebhook(notify.WebhookConfig{URL: srv.URL + "/hooks", Secret: "a-secret-of-16-bytes+", NowFunc: func() time.Time { return now }})
	require.NoError(t, err)
	require.NoError(t, w.Send(context.Background(), verificationMessage()))

	r := <-got
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.Equal(t, "msg_0123", r.header.Get(notify.HeaderWebhookID))
	require.Equal(t, "1800000000", r.header.Get(notify.HeaderWebhookTimestamp))
	p := verify(t, "a-secret-of-16-bytes+", r)
	require.Equal(t, notify.WebhookPayload{
		ID: "msg_0123", Type: notify.Verification, EmailAddress: "jo@example.com", Token: "tok-123",
		Link: "https://shop.example.com/verify?token=tok-123&lang=en", OccurredAt: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC),
	}, p)
	require.JSONEq(t, `{"id":"msg_0123","type":"verification","emailAddress":"jo@example.com","token":"tok-123",
		"link":"https://shop.example.com/verify?token=tok-123&lang=en","occurredAt":"2026-12-01T10:30:00Z"}`, string(r.body))

	// A tampered body does not verify.
	r.body = append(r.body[:len(r.body)-1], ' ', '}')
	key, _ := notify.WebhookKey("a-secret-of-16-bytes+")
	require.NotEqual(t, r.header.Get(notify.HeaderWebhookSignature), notify.Sign(key, "msg_0123", now.Unix(), r.body))
}

// A Standard Webhooks secret (whsec_ and base64) signs with its decoded
// key; a malformed one is refused.
func TestWebhookStandardSecret(t *testing.T) {
	t.Parallel()
	key, err := notify.WebhookKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(t, err)
	require.Len(t, key, 24)
	// Standard Webhooks' published test vector.
	body := []byte(`{"test": 2432232314}`)
	require.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", notify.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body))
	_, err = notify.WebhookKey("whsec_not base64!")
	require.Error(t, err)
	_, err = notify.WebhookKey("")
	require.Error(t, err)
}

// Anything but a 2xx is a failure: a 5xx, a redirect (not followed). The
// error names the URL without its query and user info, and no token.
func TestWebhookFailures(t *testing.T) {
	t.Parallel()
	srv, got := receiver(t, http.StatusInternalServerError, http.StatusFound)
	w, err := notify.NewWebhook(notify.WebhookConfig{URL: srv.URL + "/hooks?key=query-secret", Secret: "a-secret-of-16-bytes+"})
	require.NoError(t, err)
	for _, status := range []string{"500", "302"} {
		err = w.Send(context.Background(), verificationMessage())
		require.ErrorContains(t, err, status)
		require.ErrorContains(t, err, srv.URL+"/hooks")
		require.NotContains(t, err.Error(), "query-secret")
		require.NotContains(t, err.Error(), "tok-123")
		<-got
	}
}

// No answer within the timeout is a failure; the error names no secret
// of the URL.
func TestWebhookTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	w, err := notify.NewWebhook(notify.WebhookConfig{
		URL: "http://user:url-password@" + srv.Listener.Addr().String() + "/hooks?key=query-secret", Secret: "a-secret-of-16-bytes+",
		Timeout: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	err = w.Send(context.Background(), verificationMessage())
	require.Error(t, err)
	require.NotContains(t, err.Error(), "url-password")
	require.NotContains(t, err.Error(), "query-secret")
}

func TestNewWebhookRefusesBadSettings(t *testing.T) {
	t.Parallel()
	_, err := notify.NewWebhook(notify.WebhookConfig{URL: "ftp://example.com/", Secret: "x"})
	require.Error(t, err)
	_, err = notify.NewWebhook(notify.WebhookConfig{URL: "https://example.com/"})
	require.Error(t, err)
}
