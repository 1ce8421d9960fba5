package notify

import (
	"context"
	"log/slog"

	"github.com/shopsession/sessionserver/auth"
)

// Log is the Sender of NOTIFIER=log: it writes each message to the log
// at INFO instead of delivering it, the address masked (auth.MaskIdentifier).
// With ShowTokens (development) the line carries the token and the link,
// so a developer can finish a registration or a reset by hand; without it
// (APP_ENV=production) it only says that a message of a type was sent,
// and no token reaches the log.
type Log struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// ShowTokens puts tokens and links in the log. Anyone who reads the
	// log can use them: never in production.
	ShowTokens bool
}

var _ Sender = Log{}

// LogMessage is the log line's message.
const LogMessage = "notification (log notifier)"

// Send logs m.
func (l Log) Send(ctx context.Context, m Message) error {
	logger := l.Logger
	if logger == nil {
		logger = slog.Default()
	}
	attrs := []any{"type", string(m.Type), "id", m.ID, "emailAddress", auth.MaskIdentifier(m.EmailAddress)}
	if l.ShowTokens && m.Token != "" {
		attrs = append(attrs, "token", m.Token)
		if m.Link != "" {
			attrs = append(attrs, "link", m.Link)
		}
	}
	logger.InfoContext(ctx, LogMessage, attrs...)
	return nil
}
