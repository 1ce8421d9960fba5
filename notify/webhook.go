package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The webhook's headers, as Standard Webhooks (standardwebhooks.com)
// names them.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// WebhookSecretPrefix marks a secret given as Standard Webhooks does:
// "whsec_" and the key in base64. Any other secret is the key as is.
const WebhookSecretPrefix = "whsec_"

// WebhookConfig configures a webhook sender.
type WebhookConfig struct {
	// URL receives each message as a JSON POST. Required.
	URL string
	// Secret signs each request (Sign). Required.
	Secret string
	// Timeout bounds one request, from connecting to the end of the
	// answer's headers. Defaults to DefaultTimeout.
	Timeout time.Duration
	// Client sends the requests. Defaults to a client that follows no
	// redirect (a 3xx answer is a failure) and has Timeout.
	Client *http.Client
	// NowFunc gives the webhook-timestamp. Defaults to time.Now.
	NowFunc func() time.Time
}

// Webhook POSTs each message, signed, to one URL. A 2xx answer delivers
// it; anything else, or no answer within the timeout, is an error, which
// the job retries.
type Webhook struct {
	cfg    WebhookConfig
	key    []byte
	target string // the URL for errors: no user info, query or fragment
}

var _ Sender = (*Webhook)(nil)

// WebhookPayload is the JSON body of a webhook request.
type WebhookPayload struct {
	ID            string    `json:"id"`
	Type          Type      `json:"type"`
	EmailAddress  string    `json:"emailAddress"`
	Token         string    `json:"token,omitempty"`
	Link          string    `json:"link,omitempty"`
	OccurredAt    time.Time `json:"occurredAt"`
	ClientAddress string    `json:"clientAddress,omitempty"`
	UserAgent     string    `json:"userAgent,omitempty"`
}

// NewWebhook returns a webhook sender, or an error naming what is wrong
// (never the secret).
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("webhook: the URL must be an absolute http or https URL")
	}
	key, err := WebhookKey(cfg.Secret)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout: cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return &Webhook{cfg: cfg, key: key, target: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()}, nil
}

// WebhookKey returns the signing key of a secret: the base64 after
// WebhookSecretPrefix, or the secret's bytes.
func WebhookKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("webhook: a secret is required")
	}
	if rest, ok := strings.CutPrefix(secret, WebhookSecretPrefix); ok {
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("webhook: a secret that starts with %s must be base64", WebhookSecretPrefix)
		}
		return key, nil
	}
	return []byte(secret), nil
}

// Sign returns the webhook-signature of a request: "v1," and the base64
// HMAC-SHA256, under key, of id, ".", timestamp (Unix seconds) and ".",
// followed by the body, as Standard Webhooks signs.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Send POSTs m to the URL. The error names the URL without its user
// info and query, never the secret or the token.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(WebhookPayload{
		ID: m.ID, Type: m.Type, EmailAddress: m.EmailAddress, Token: m.Token, Link: m.Link,
		OccurredAt: m.OccurredAt.UTC(), ClientAddress: m.ClientAddress, UserAgent: m.UserAgent,
	})
	if err != nil {
		return fmt.Errorf("webhook payload: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.target, err)
	}
	ts := w.cfg.NowFunc().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sessionserver-webhook")
	req.Header.Set(HeaderWebhookID, m.ID)
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderWebhookSignature, Sign(w.key, m.ID, ts, body))
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		// url.Error repeats the URL, query and all: only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook %s: %w", w.target, err)
	}
	defer resp.Body.Close()
	// Read a little of the answer, so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook %s answered %s", w.target, resp.Status)
	}
	return nil
}
