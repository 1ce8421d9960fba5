package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The notifier is the one NOTIFIER names, or the one whose URL is set, or
// the log.
func TestNotifierKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{nil, NotifierLog},
		{map[string]string{"NOTIFIER": ""}, NotifierLog},
		{map[string]string{"SMTP_URL": "smtp://mail.example.com", "MAIL_FROM": "shop@example.com"}, NotifierSMTP},
		{map[string]string{"NOTIFY_WEBHOOK_URL": "https://hooks.example.com/x", "NOTIFY_WEBHOOK_SECRET": "0123456789abcdef"}, NotifierWebhook},
		{map[string]string{"NOTIFIER": "Webhook", "NOTIFY_WEBHOOK_URL": "https://hooks.example.com/x", "NOTIFY_WEBHOOK_SECRET": "whsec_MTIz"}, NotifierWebhook},
		{map[string]string{"NOTIFIER": "log"}, NotifierLog},
	} {
		c, err := Load(env(tc.vars))
		require.NoError(t, err, "%v", tc.vars)
		require.Equal(t, tc.want, c.Notify.Kind(), "%v", tc.vars)
	}
}

// Production refuses the log notifier unless NOTIFIER=log names it.
func TestProductionRefusesInferredLogNotifier(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{"APP_ENV": "production"}))
	require.ErrorContains(t, err, "NOTIFIER: APP_ENV=production needs a notifier that reaches customers")
	c, err := Load(env(map[string]string{"APP_ENV": "production", "NOTIFIER": "log"}))
	require.NoError(t, err)
	require.Equal(t, NotifierLog, c.Notify.Kind())
	_, err = Load(env(map[string]string{"APP_ENV": "production", "SMTP_URL": "smtps://mail.example.com", "MAIL_FROM": "shop@example.com"}))
	require.NoError(t, err)

	bad := Defaults()
	bad.AppEnv = EnvProduction
	require.ErrorContains(t, bad.Validate(), "APP_ENV=production needs a notifier")
}

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]SMTPURL{
		"smtp://mail.example.com":                   {Host: "mail.example.com", Port: 587, Security: "starttls"},
		"smtp://u%40x:p%3Ass@mail.example.com:2525": {Host: "mail.example.com", Port: 2525, Username: "u@x", Password: "p:ss", Security: "starttls"},
		"smtps://user:pw@mail.example.com":          {Host: "mail.example.com", Port: 465, Username: "user", Password: "pw", Security: "tls"},
		"smtp://127.0.0.1?tls=none":                 {Host: "127.0.0.1", Port: 25, Security: "none"},
		"smtp://[::1]:1025/?tls=none":               {Host: "::1", Port: 1025, Security: "none"},
		"smtp://relay:2500?tls=none":                {Host: "relay", Port: 2500, Security: "none"},
		"smtp://mailer@mail.example.com":            {Host: "mail.example.com", Port: 587, Username: "mailer", Security: "starttls"},
	} {
		got, err := ParseSMTPURL(raw)
		require.NoError(t, err, raw)
		require.Equal(t, want, got, raw)
	}
	for _, raw := range []string{
		"http://mail.example.com", "mail.example.com:25", "smtp://", "smtp://mail.example.com/path",
		"smtp://mail.example.com?tls=off", "smtps://mail.example.com?tls=none", "smtp://mail.example.com?auth=plain",
		"smtp://mail.example.com:0", "smtp://mail.example.com:99999", "smtp://:pw@mail.example.com", "smtp://%zz",
	} {
		_, err := ParseSMTPURL(raw)
		require.Error(t, err, raw)
	}
}

// Each mistake is reported, naming its variable, without a secret: the
// SMTP password and the webhook secret never appear.
func TestNotifyProblems(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		vars map[string]string
		want []string
	}{
		"unknown notifier": {map[string]string{"NOTIFIER": "pigeon"}, []string{`NOTIFIER: "pigeon" is not a notifier`}},
		"both urls": {map[string]string{
			"SMTP_URL": "smtp://mail.example.com", "MAIL_FROM": "s@example.com",
			"NOTIFY_WEBHOOK_URL": "https://h.example.com", "NOTIFY_WEBHOOK_SECRET": "0123456789abcdef",
		}, []string{"NOTIFIER: is unset while both SMTP_URL and NOTIFY_WEBHOOK_URL are set", "SMTP_URL: is set but the notifier is log"}},
		"smtp needs its settings": {map[string]string{"NOTIFIER": "smtp"}, []string{"SMTP_URL: is empty", "MAIL_FROM: is empty"}},
		"bad smtp url": {map[string]string{"SMTP_URL": "smtp://mailer:hunter2-secret@mail.example.com?tls=maybe", "MAIL_FROM": "not an address"},
			[]string{`SMTP_URL: "smtp://mailer:xxxxx@mail.example.com?tls=maybe" has a tls parameter`, `MAIL_FROM: "not an address" is not an address`}},
		"webhook needs its settings": {map[string]string{"NOTIFIER": "webhook"}, []string{"NOTIFY_WEBHOOK_URL: is empty", "NOTIFY_WEBHOOK_SECRET: is empty"}},
		"short secret": {map[string]string{"NOTIFY_WEBHOOK_URL": "ftp://h.example.com", "NOTIFY_WEBHOOK_SECRET": "hunter2-secret"},
			[]string{`NOTIFY_WEBHOOK_URL: "ftp://h.example.com" is not an http(s) URL`, "NOTIFY_WEBHOOK_SECRET: is 14 bytes long"}},
		"unused settings": {map[string]string{
			"NOTIFIER": "webhook", "NOTIFY_WEBHOOK_URL": "https://h.example.com", "NOTIFY_WEBHOOK_SECRET": "0123456789abcdef",
			"SMTP_URL": "smtp://mailer:hunter2-secret@mail.example.com", "MAIL_FROM": "s@example.com", "MAIL_TEMPLATES_DIR": "/tmp",
		}, []string{"SMTP_URL: is set but the notifier is webhook", "MAIL_FROM: is set but", "MAIL_TEMPLATES_DIR: is set but"}},
		"links": {map[string]string{"VERIFY_URL": "https://shop.example.com/verify", "PASSWORD_RESET_URL": "/reset?token={token}"},
			[]string{`VERIFY_URL: "https://shop.example.com/verify" is not a link template`, "PASSWORD_RESET_URL:"}},
		"retries": {map[string]string{"NOTIFY_MAX_ATTEMPTS": "0", "NOTIFY_RETRY_DELAY": "0", "NOTIFY_TIMEOUT": "-1s"},
			[]string{"NOTIFY_MAX_ATTEMPTS: 0 is too small", "NOTIFY_RETRY_DELAY: 0s is not positive", `NOTIFY_TIMEOUT: "-1s" is negative`}},
		"unparsable": {map[string]string{"NOTIFY_MAX_ATTEMPTS": "many", "NOTIFY_NEW_SIGN_IN": "sometimes", "NOTIFY_RETRY_DELAY": "soon"},
			[]string{"NOTIFY_MAX_ATTEMPTS: \"many\"", "NOTIFY_NEW_SIGN_IN: \"sometimes\"", "NOTIFY_RETRY_DELAY: "}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(tc.vars))
			msgs := problems(t, err)
			all := strings.Join(msgs, "\n")
			for _, want := range tc.want {
				require.Contains(t, all, want)
			}
			require.NotContains(t, all, "hunter2-secret")
		})
	}
}
