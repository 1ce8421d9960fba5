package entity

import (
	"time"

	"github.com/uptrace/bun"
)

// Session types (the discriminator column).
const (
	SessionAnonymous     = "anonymous"
	SessionAuthenticated = "authenticated"
)

// Session is one session row. The raw token is never stored: TokenHash is
// the lower-case hex SHA-256 of it.
type Session struct {
	bun.BaseModel `bun:"table:session,alias:s"`

	ID                     ID        `bun:"id,pk,autoincrement"`
	CreatedAt              time.Time `bun:"created_at,notnull"`
	UpdatedAt              time.Time `bun:"updated_at,notnull"`
	TokenHash              string    `bun:"token_hash,notnull"`
	Type                   string    `bun:"type,notnull"`
	Expires                time.Time `bun:"expires,notnull"`
	Invalidated            bool      `bun:"invalidated,notnull"`
	ActiveOrderID          *ID       `bun:"active_order_id"`
	ActiveChannelID        *ID       `bun:"active_channel_id"`
	UserID                 *ID       `bun:"user_id"`
	AuthenticationStrategy *string   `bun:"authentication_strategy"`
	// LastUsedAt is when the session was last used, written at most once
	// a minute (nil until then).
	LastUsedAt *time.Time `bun:"last_used_at"`
	// ClientAddress and UserAgent are those of the request that wrote the
	// row (a lazy guest's: the request that first stored it), nil when
	// unknown or erased after the metadata retention.
	ClientAddress *string `bun:"client_address"`
	UserAgent     *string `bun:"user_agent"`
}

// IsExpired reports whether the session has expired at now.
func (s *Session) IsExpired(now time.Time) bool { return !s.Expires.After(now) }

// SessionCacheOutbox is one eviction the shared session cache must apply:
// the cache key (token hash) of a deleted session, or, with TokenHash nil,
// a clear of the whole cache. See session.Service.
type SessionCacheOutbox struct {
	bun.BaseModel `bun:"table:session_cache_outbox,alias:sco"`

	ID        ID         `bun:",pk,autoincrement"`
	TokenHash *string    `bun:"token_hash"`
	CreatedAt time.Time  `bun:",notnull"`
	AppliedAt *time.Time `bun:"applied_at"`
}
