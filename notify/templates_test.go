package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/notify"
)

// Every type has a default mail with a subject, a text and an HTML part;
// the token types carry the link when there is one, the token otherwise.
func TestDefaultTemplates(t *testing.T) {
	t.Parallel()
	tpl := defaultTemplates(t)
	for _, typ := range notify.Types {
		m := notify.Message{
			ID: "msg_1", Type: typ, EmailAddress: "jo@example.com", OccurredAt: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC),
			ClientAddress: "192.0.2.7", UserAgent: "Firefox <script>",
		}
		if typ.HasToken() {
			m.Token = "tok-123"
		}
		mail, err := tpl.Render(m)
		require.NoError(t, err, typ)
		require.NotEmpty(t, mail.Subject, typ)
		require.NotContains(t, mail.Subject, "\n")
		require.NotEmpty(t, mail.Text, typ)
		require.NotEmpty(t, mail.HTML, typ)
		require.NotContains(t, mail.HTML, "<script>", "the HTML part escapes what it inserts")
		if typ.HasToken() {
			require.Contains(t, mail.Text, "tok-123", typ)
			m.Link = "https://shop.example.com/x?token=tok-123"
			mail, err = tpl.Render(m)
			require.NoError(t, err)
			require.Contains(t, mail.Text, m.Link, typ)
		} else {
			require.Contains(t, mail.Text, "2026-12-01 10:30 UTC", typ)
		}
	}
}

// A file in MAIL_TEMPLATES_DIR replaces the default of its name; a
// replaced text without an HTML file sends text only.
func TestTemplateOverrides(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, src string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600))
	}
	write("verification.txt", `{{define "subject"}}Welcome to
  Our Shop{{end}}Confirm: {{.Link}}`)
	write("password-reset.html", `<a href="{{.Link}}">reset</a>`)
	tpl, err := notify.LoadTemplates(dir)
	require.NoError(t, err)

	mail, err := tpl.Render(notify.Message{Type: notify.Verification, Token: "t", Link: "https://s.example/v?token=t"})
	require.NoError(t, err)
	require.Equal(t, notify.Mail{Subject: "Welcome to Our Shop", Text: "Confirm: https://s.example/v?token=t"}, mail)

	mail, err = tpl.Render(notify.Message{Type: notify.PasswordReset, Token: "t", Link: "https://s.example/r?token=t&a=b"})
	require.NoError(t, err)
	require.Equal(t, "Reset your password", mail.Subject, "the default text stays")
	require.Equal(t, `<a href="https://s.example/r?token=t&amp;a=b">reset</a>`, mail.HTML)
}

// A mistake in the templates stops the server at start: unknown fields,
// a missing subject, a file name that is no template's.
func TestTemplateMistakes(t *testing.T) {
	t.Parallel()
	for name, files := range map[string]map[string]string{
		"unknown field": {"verification.txt": `{{define "subject"}}x{{end}}{{.Password}}`},
		"no subject":    {"password-reset.txt": `Reset: {{.Link}}`},
		"empty subject": {"new-sign-in.txt": `{{define "subject"}} {{end}}x`},
		"parse error":   {"new-sign-in.html": `{{if}}`},
		"unknown name":  {"welcome.txt": `{{define "subject"}}x{{end}}`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for n, src := range files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(src), 0o600))
			}
			_, err := notify.LoadTemplates(dir)
			require.Error(t, err)
		})
	}
	_, err := notify.LoadTemplates(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
}

// Links put the URL-escaped token where the template says.
func TestLinks(t *testing.T) {
	t.Parallel()
	l := notify.Links{Verify: "https://shop.example.com/verify?token={token}", PasswordReset: "https://shop.example.com/reset/{token}"}
	require.Equal(t, "https://shop.example.com/verify?token=a%2Bb%26c%3Dd", l.For(notify.Verification, "a+b&c=d"))
	require.Equal(t, "https://shop.example.com/reset/abc", l.For(notify.PasswordReset, "abc"))
	require.Empty(t, l.For(notify.PasswordChanged, "abc"))
	require.Empty(t, notify.Links{}.For(notify.Verification, "abc"))

	var got notify.Message
	s := notify.WithLinks(notify.SenderFunc(func(_ context.Context, m notify.Message) error { got = m; return nil }), l)
	require.NoError(t, s.Send(context.Background(), notify.Message{Type: notify.Verification, Token: "abc"}))
	require.Equal(t, "https://shop.example.com/verify?token=abc", got.Link)
}

// The log notifier shows tokens in development only; the address is
// masked either way.
func TestLogSender(t *testing.T) {
	t.Parallel()
	m := verificationMessage()
	for _, show := range []bool{true, false} {
		var buf bytes.Buffer
		s := notify.Log{Logger: slog.New(slog.NewTextHandler(&buf, nil)), ShowTokens: show}
		require.NoError(t, s.Send(context.Background(), m))
		out := buf.String()
		require.Contains(t, out, `msg="notification (log notifier)"`)
		require.Contains(t, out, "type=verification")
		require.Contains(t, out, "emailAddress=j***@example.com")
		require.NotContains(t, out, "jo@example.com")
		if show {
			require.Contains(t, out, "token=tok-123")
		} else {
			require.NotContains(t, out, "tok-123")
		}
	}
}
