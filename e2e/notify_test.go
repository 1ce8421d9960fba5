package e2e_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/app"
	"github.com/shopsession/sessionserver/config"
	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/jobs"
	"github.com/shopsession/sessionserver/notify"
)

// jobWatch receives the settling of an app's notify jobs (River's
// events), so a test waits for a delivery instead of sleeping.
type jobWatch struct{ events <-chan *river.Event }

// notifyJobs subscribes to a's notify jobs; call it before the request
// that enqueues the job.
func notifyJobs(t *testing.T, a *app.App) *jobWatch {
	t.Helper()
	events, cancel := a.Jobs.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	t.Cleanup(cancel)
	return &jobWatch{events: events}
}

// wait returns the next event of a notify job and requires its job's
// state (a failed attempt that will run again: retryable, or available
// when its retry is due at once). It fails the test after a minute, a
// guard, not a timing assertion.
func (w *jobWatch) wait(t *testing.T, state rivertype.JobState) *river.Event {
	t.Helper()
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	for {
		select {
		case e := <-w.events:
			if e.Job.Kind != jobs.NotifyQueue {
				continue
			}
			if state == rivertype.JobStateRetryable && e.Job.State == rivertype.JobStateAvailable {
				return e
			}
			require.Equal(t, state, e.Job.State, "notify job %d: %v", e.Job.ID, e.Job.Errors)
			return e
		case <-timer.C:
			t.Fatalf("no notify job settled within a minute")
		}
	}
}

// The storefront pages the tests configure.
const (
	verifyPage = "https://shop.example.com/verify?token={token}"
	resetPage  = "https://shop.example.com/account/reset?token={token}"
)

// withSMTP sends the messages as mail to srv, a relay on loopback without
// TLS (?tls=none).
func withSMTP(srv *testenv.SMTPServer) envOption {
	return func(c *config.Config) {
		c.Notify.SMTPURL = fmt.Sprintf("smtp://%s:%d?tls=none", srv.Host, srv.Port)
		c.Notify.MailFrom = "Shop <no-reply@shop.example.com>"
		c.Notify.VerifyURL, c.Notify.PasswordResetURL = verifyPage, resetPage
	}
}

// tokenFromLink returns the token of the first link to the page a link
// template names in text.
func tokenFromLink(t *testing.T, text, template string) string {
	t.Helper()
	prefix := regexp.QuoteMeta(template[:len(template)-len(notify.TokenPlaceholder)])
	m := regexp.MustCompile(prefix + `([^\s"<&]+)`).FindStringSubmatch(text)
	require.Len(t, m, 2, "no link to %s in:\n%s", template, text)
	token, err := url.QueryUnescape(m[1])
	require.NoError(t, err)
	return token
}

// A customer registers through the Shop API; the notify job mails the
// verification link; the token parsed out of the mail verifies the
// account, which then logs in. A password reset goes the same way, and
// the password-changed notice follows it.
func TestNotifyBySMTP(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{})
		e := newEnv(t, backend{name: dialect, dialect: dialect, cache: "memory"}, withSMTP(srv))
		shop := e.shop(testenv.Bearer)
		const email = "mail.user@example.com"

		require.True(t, do(t, shop, registerMutation, register(email, "mail-user-pw")).Success)
		mail := srv.NextMail(t)
		require.Equal(t, []string{email}, mail.To)
		require.Equal(t, "no-reply@shop.example.com", mail.From)
		m := testenv.ParseMail(t, mail.Data)
		require.Equal(t, "Verify your e-mail address", m.Subject)
		token := tokenFromLink(t, m.Text, verifyPage)
		require.Equal(t, token, tokenFromLink(t, m.HTML, verifyPage), "the HTML part links the same token")
		require.Equal(t, "CurrentUser", do(t, shop, verifyMutation, map[string]any{"token": token}).Typename)
		login(t, e.shop(testenv.Bearer), email, "mail-user-pw")

		require.True(t, do(t, shop, requestResetMutation, map[string]any{"emailAddress": email}).Success)
		m = testenv.ParseMail(t, srv.NextMail(t).Data)
		require.Equal(t, "Reset your password", m.Subject)
		res := do(t, shop, resetMutation, map[string]any{"token": tokenFromLink(t, m.Text, resetPage), "password": "mail-user-pw-2"})
		require.Equal(t, "CurrentUser", res.Typename)
		m = testenv.ParseMail(t, srv.NextMail(t).Data)
		require.Equal(t, "Your password was changed", m.Subject)
		login(t, e.shop(testenv.Bearer), email, "mail-user-pw-2")
		require.Equal(t, "InvalidCredentialsError", decodeLogin(t, e.shop(testenv.Bearer).Do(loginMutation, creds(email, "mail-user-pw"))).Login.Typename)

		// An unknown address gets no mail; the next mail is the next
		// registration's.
		require.True(t, do(t, shop, requestResetMutation, map[string]any{"emailAddress": "nobody@example.com"}).Success)
		require.True(t, do(t, shop, registerMutation, register("second@example.com", "second-pw")).Success)
		require.Equal(t, []string{"second@example.com"}, srv.NextMail(t).To)
	})
}

// A mail server that refuses a mail for now gets it again: the job
// retries, and the token of the mail that arrives works.
func TestNotifySMTPRetries(t *testing.T) {
	t.Parallel()
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{})
	srv.RejectNext(1)
	e := newEnv(t, backend{name: "sqlite", dialect: "sqlite", cache: "memory"}, withSMTP(srv), func(c *config.Config) {
		c.Notify.RetryDelay = time.Millisecond
	})
	done := notifyJobs(t, e.app)
	shop := e.shop(testenv.Bearer)
	require.True(t, do(t, shop, registerMutation, register("retry@example.com", "retry-pw")).Success)
	failed := done.wait(t, rivertype.JobStateRetryable)
	require.Contains(t, failed.Job.Errors[0].Error, "451")
	require.Equal(t, 2, done.wait(t, rivertype.JobStateCompleted).Job.Attempt)
	m := testenv.ParseMail(t, srv.NextMail(t).Data)
	require.Equal(t, "CurrentUser", do(t, shop, verifyMutation, map[string]any{"token": tokenFromLink(t, m.Text, verifyPage)}).Typename)
}

// webhookReceiver is a storefront's endpoint: it checks each request's
// signature as docs/notifications.md shows, answers with the next of its
// statuses (the last repeats), and keeps what it got.
type webhookReceiver struct {
	url    string
	secret string
	got    chan webhookDelivery

	mu       sync.Mutex
	statuses []int
}

type webhookDelivery struct {
	id      string
	payload notify.WebhookPayload
	status  int
}

func newWebhookReceiver(t *testing.T, secret string, statuses ...int) *webhookReceiver {
	t.Helper()
	key, err := notify.WebhookKey(secret)
	require.NoError(t, err)
	r := &webhookReceiver{secret: secret, got: make(chan webhookDelivery, 16), statuses: statuses}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		id := req.Header.Get("webhook-id")
		ts, err := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
		want := notify.Sign(key, id, ts, body)
		if err != nil || !hmac.Equal([]byte(want), []byte(req.Header.Get("webhook-signature"))) {
			w.WriteHeader(http.StatusUnauthorized)
			r.got <- webhookDelivery{id: id, status: http.StatusUnauthorized}
			return
		}
		var p notify.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		status := r.statuses[0]
		if len(r.statuses) > 1 {
			r.statuses = r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		r.got <- webhookDelivery{id: id, payload: p, status: status}
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/hooks/shop"
	return r
}

// next returns the next request the receiver got, within a minute (a
// guard).
func (r *webhookReceiver) next(t *testing.T) webhookDelivery {
	t.Helper()
	select {
	case d := <-r.got:
		require.NotEqual(t, http.StatusUnauthorized, d.status, "the signature verifies")
		return d
	case <-time.After(time.Minute):
		t.Fatalf("webhook: no request within a minute")
		return webhookDelivery{}
	}
}

func withWebhook(r *webhookReceiver) envOption {
	return func(c *config.Config) {
		c.Notify.WebhookURL, c.Notify.WebhookSecret = r.url, r.secret
		c.Notify.VerifyURL, c.Notify.PasswordResetURL = verifyPage, resetPage
		c.Notify.RetryDelay = time.Millisecond
		c.Notify.NewSignIn = true
	}
}

// The webhook gets each message signed; a receiver that answers 500 and
// then 200 gets the registration twice, with one id, and the token of the
// delivery it accepted verifies the account (the refused one's no longer
// works). With NOTIFY_NEW_SIGN_IN a login is announced, and an
// administrator's change of the e-mail address is told to the previous
// address.
func TestNotifyByWebhook(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, dialect string) {
		rcv := newWebhookReceiver(t, "a-webhook-secret-of-32-bytes-len", http.StatusInternalServerError, http.StatusOK)
		e := newEnv(t, backend{name: dialect, dialect: dialect, cache: "memory"}, withWebhook(rcv))
		done := notifyJobs(t, e.app)
		shop := e.shop(testenv.Bearer)
		const email = "hooked@example.com"

		require.True(t, do(t, shop, registerMutation, register(email, "hooked-pw")).Success)
		refused, accepted := rcv.next(t), rcv.next(t)
		require.Equal(t, http.StatusInternalServerError, refused.status)
		require.Equal(t, http.StatusOK, accepted.status)
		require.Equal(t, refused.id, accepted.id, "one message, delivered twice")
		require.Equal(t, accepted.id, accepted.payload.ID)
		p := accepted.payload
		require.Equal(t, notify.Verification, p.Type)
		require.Equal(t, email, p.EmailAddress)
		require.Equal(t, "https://shop.example.com/verify?token="+url.QueryEscape(p.Token), p.Link)
		require.True(t, p.OccurredAt.Equal(e.clock.Now()), "occurredAt is the registration's time")
		done.wait(t, rivertype.JobStateRetryable)
		require.Equal(t, 2, done.wait(t, rivertype.JobStateCompleted).Job.Attempt)

		require.Equal(t, "VERIFICATION_TOKEN_INVALID_ERROR",
			do(t, shop, verifyMutation, map[string]any{"token": refused.payload.Token}).ErrorCode, "the refused delivery's token was replaced")
		require.Equal(t, "CurrentUser", do(t, shop, verifyMutation, map[string]any{"token": p.Token}).Typename)

		other := e.shop(testenv.Bearer)
		other.Header = map[string]string{"User-Agent": "NotifyTest/1.0"}
		login(t, other, email, "hooked-pw")
		signIn := rcv.next(t).payload
		require.Equal(t, notify.NewSignIn, signIn.Type)
		require.Equal(t, email, signIn.EmailAddress)
		require.Empty(t, signIn.Token)
		require.Equal(t, "NotifyTest/1.0", signIn.UserAgent)
		require.Equal(t, "127.0.0.1", signIn.ClientAddress)

		var me struct {
			ActiveCustomer struct{ ID string } `json:"activeCustomer"`
		}
		other.Do(`query { activeCustomer { id } }`, nil).Decode(t, &me)
		admin := e.admin(testenv.Bearer)
		login(t, admin, "superadmin", "superadmin")
		r := admin.Do(`mutation Update($input: UpdateCustomerInput!) { updateCustomer(input: $input) { __typename } }`,
			map[string]any{"input": map[string]any{"id": me.ActiveCustomer.ID, "emailAddress": "moved@example.com"}})
		require.Empty(t, r.Errors)
		changed := rcv.next(t).payload
		require.Equal(t, notify.EmailAddressChanged, changed.Type)
		require.Equal(t, email, changed.EmailAddress, "the previous address is told")
	})
}

// APP_ENV=production refuses to start with the log notifier it would
// infer; NOTIFIER=log starts it, and its log line says a message was
// sent, never its token.
func TestProductionRefusesLogNotifier(t *testing.T) {
	t.Parallel()
	// Production also refuses the default superadmin password: this test
	// is about the notifier, so its superadmin has another.
	production := func(c *config.Config) {
		c.AppEnv = config.EnvProduction
		c.SuperadminPassword = "not-the-default-password"
	}
	cfg := config.Defaults()
	production(&cfg)
	_, err := app.New(context.Background(), cfg, app.Options{DB: testenv.SQLiteDB(t)})
	require.ErrorContains(t, err, "NOTIFIER: APP_ENV=production needs a notifier that reaches customers")

	s := newLoggedServer(t, "sqlite", func(c *config.Config) {
		production(c)
		c.Notify.Notifier = config.NotifierLog
		c.Notify.VerifyURL = verifyPage
	})
	done := notifyJobs(t, s.app)
	require.True(t, do(t, s.client(t, app.ShopPath), registerMutation, register("prod@example.com", "prod-pw")).Success)
	done.wait(t, rivertype.JobStateCompleted)
	lines := s.logs.linesWith(`msg="notification (log notifier)"`, "type=verification")
	require.Len(t, lines, 1)
	require.Contains(t, lines[0], "emailAddress=p***@example.com")
	require.NotContains(t, s.logs.String(), "token=")
	require.NotContains(t, s.logs.String(), "shop.example.com/verify")
	require.False(t, regexp.MustCompile(`[0-9a-f]{64}`).MatchString(s.logs.String()), "no token in the log")
}
