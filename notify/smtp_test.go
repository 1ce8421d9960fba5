package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/internal/testenv"
	"github.com/shopsession/sessionserver/notify"
)

func defaultTemplates(t *testing.T) *notify.Templates {
	t.Helper()
	tpl, err := notify.LoadTemplates("")
	require.NoError(t, err)
	return tpl
}

func verificationMessage() notify.Message {
	return notify.Message{
		ID: "msg_0123", Type: notify.Verification, EmailAddress: "jo@example.com", Token: "tok-123",
		Link:       "https://shop.example.com/verify?token=tok-123&lang=en",
		OccurredAt: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC),
	}
}

// A relay on loopback without TLS (?tls=none): the mail arrives with its
// subject, both parts, the link in each, and the message's id.
func TestSMTPPlainRelay(t *testing.T) {
	t.Parallel()
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{})
	s, err := notify.NewSMTP(notify.SMTPConfig{
		Host: srv.Host, Port: srv.Port, Security: notify.SMTPNoTLS,
		From: "Shop <no-reply@shop.example.com>", Templates: defaultTemplates(t),
	})
	require.NoError(t, err)
	require.NoError(t, s.Send(context.Background(), verificationMessage()))

	got := srv.NextMail(t)
	require.False(t, got.TLS)
	require.Equal(t, "no-reply@shop.example.com", got.From)
	require.Equal(t, []string{"jo@example.com"}, got.To)
	m := testenv.ParseMail(t, got.Data)
	require.Equal(t, "Verify your e-mail address", m.Subject)
	require.Equal(t, "<msg_0123@shop.example.com>", m.Header.Get("Message-ID"))
	require.Contains(t, m.Text, "https://shop.example.com/verify?token=tok-123&lang=en")
	require.Contains(t, m.HTML, `href="https://shop.example.com/verify?token=tok-123&amp;lang=en"`)
}

// smtp:// requires STARTTLS unless told otherwise: a server that does not
// offer it gets no mail, and the error names the server, not the
// credentials.
func TestSMTPStartTLSRequired(t *testing.T) {
	t.Parallel()
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{})
	s, err := notify.NewSMTP(notify.SMTPConfig{
		Host: srv.Host, Port: srv.Port, Username: "mailer", Password: "s3cret-pw",
		From: "no-reply@shop.example.com", Templates: defaultTemplates(t),
	})
	require.NoError(t, err)
	err = s.Send(context.Background(), verificationMessage())
	require.Error(t, err)
	require.Contains(t, err.Error(), srv.Host)
	require.NotContains(t, err.Error(), "s3cret-pw")
	require.NotContains(t, err.Error(), "tok-123")
	require.Empty(t, srv.Pending())
}

// STARTTLS with a self-signed certificate the sender trusts, and SMTP
// AUTH over it; a certificate it does not trust is refused.
func TestSMTPStartTLSSelfSigned(t *testing.T) {
	t.Parallel()
	serverTLS, pool := testenv.SelfSignedTLS(t)
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{TLS: serverTLS, Users: map[string]string{"mailer": "s3cret-pw"}})
	cfg := notify.SMTPConfig{
		Host: srv.Host, Port: srv.Port, Username: "mailer", Password: "s3cret-pw", RootCAs: pool,
		From: "no-reply@shop.example.com", Templates: defaultTemplates(t),
	}
	s, err := notify.NewSMTP(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Send(context.Background(), verificationMessage()))
	got := srv.NextMail(t)
	require.True(t, got.TLS, "delivered over STARTTLS")
	require.Equal(t, "mailer", got.User)

	cfg.RootCAs = nil // the system's roots do not know the certificate
	untrusting, err := notify.NewSMTP(cfg)
	require.NoError(t, err)
	err = untrusting.Send(context.Background(), verificationMessage())
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret-pw")

	cfg.RootCAs, cfg.Password = pool, "wrong-pw"
	wrong, err := notify.NewSMTP(cfg)
	require.NoError(t, err)
	err = wrong.Send(context.Background(), verificationMessage())
	require.Error(t, err)
	require.NotContains(t, err.Error(), "wrong-pw")
	require.Empty(t, srv.Pending())
}

// smtps://: TLS from the first byte.
func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	serverTLS, pool := testenv.SelfSignedTLS(t)
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{TLS: serverTLS, ImplicitTLS: true})
	s, err := notify.NewSMTP(notify.SMTPConfig{
		Host: srv.Host, Port: srv.Port, Security: notify.SMTPTLS, RootCAs: pool,
		From: "no-reply@shop.example.com", Templates: defaultTemplates(t),
	})
	require.NoError(t, err)
	require.NoError(t, s.Send(context.Background(), verificationMessage()))
	require.True(t, srv.NextMail(t).TLS)
}

// A transient refusal is an error (the job retries); the next attempt
// delivers.
func TestSMTPTransientRefusal(t *testing.T) {
	t.Parallel()
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{})
	srv.RejectNext(1)
	s, err := notify.NewSMTP(notify.SMTPConfig{
		Host: srv.Host, Port: srv.Port, Security: notify.SMTPNoTLS,
		From: "no-reply@shop.example.com", Templates: defaultTemplates(t),
	})
	require.NoError(t, err)
	err = s.Send(context.Background(), verificationMessage())
	require.ErrorContains(t, err, "451")
	require.NoError(t, s.Send(context.Background(), verificationMessage()))
	require.Equal(t, "Verify your e-mail address", testenv.ParseMail(t, srv.NextMail(t).Data).Subject)
}

// A recipient the mail cannot carry is a permanent failure.
func TestSMTPBadRecipientIsPermanent(t *testing.T) {
	t.Parallel()
	s, err := notify.NewSMTP(notify.SMTPConfig{
		Host: "127.0.0.1", Port: 25, Security: notify.SMTPNoTLS,
		From: "no-reply@shop.example.com", Templates: defaultTemplates(t),
	})
	require.NoError(t, err)
	m := verificationMessage()
	m.EmailAddress = "not an address"
	var perm *notify.PermanentError
	require.ErrorAs(t, s.Send(context.Background(), m), &perm)
}

func TestNewSMTPRefusesMissingSettings(t *testing.T) {
	t.Parallel()
	_, err := notify.NewSMTP(notify.SMTPConfig{From: "nobody", Security: "sometimes"})
	require.Error(t, err)
	for _, want := range []string{"host", "sender", "templates", "security"} {
		require.True(t, strings.Contains(err.Error(), want), "%q in %v", want, err)
	}
}
