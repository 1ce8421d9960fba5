// Package service holds the business rules: sessions, authentication,
// channels, roles and users. Resolvers call it; it calls bun and the session
// cache. Every rule lives here once.
package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/sessioncache"
)

// AnonymousIdleLifetime is how long an anonymous session without an order
// survives without a row write before CleanExpiredSessions removes it.
const AnonymousIdleLifetime = 7 * 24 * time.Hour

// maxTokenLength bounds what a client may send as a token; real tokens are 64
// hex characters.
const maxTokenLength = 512

// SessionConfig configures a SessionService.
type SessionConfig struct {
	// DB is the database. Required.
	DB *bun.DB
	// Cache is the session cache. Defaults to sessioncache.Noop.
	Cache sessioncache.Strategy
	// Prober is set when the cache is shared between processes (Redis):
	// evictions then go through the outbox and SyncCache probes it. Defaults
	// to Cache itself if it implements sessioncache.Prober (a test that wraps
	// the cache passes the wrapped one here).
	Prober sessioncache.Prober
	// Logger logs cache failures. Defaults to slog.Default().
	Logger *slog.Logger
	// NowFunc returns the current time. Defaults to time.Now.
	NowFunc func() time.Time
	// SessionDuration is how long a new session lives, and the sliding-expiry
	// window. Defaults to 1 year (365.25 days).
	SessionDuration time.Duration
	// CacheTTL is how long a cached session is trusted before it is refreshed
	// from the database. Defaults to 300 s.
	CacheTTL time.Duration
}

// SessionService is Vendure's SessionService: it creates, finds, renews,
// changes and deletes sessions, and keeps the session cache in step.
type SessionService struct {
	db       *bun.DB
	cache    *cacheGuard
	prober   sessioncache.Prober // the cache, when it is shared (Redis); else nil
	log      *slog.Logger
	now      func() time.Time
	duration time.Duration
	cacheTTL time.Duration

	syncMu        sync.Mutex // one SyncCache at a time
	cacheIdentity string     // the shared cache's last Probe answer
}

// NewSessionService returns a SessionService.
func NewSessionService(cfg SessionConfig) (*SessionService, error) {
	if cfg.DB == nil {
		return nil, errors.New("session service: DB is required")
	}
	if cfg.Cache == nil {
		cfg.Cache = sessioncache.Noop{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.SessionDuration <= 0 {
		cfg.SessionDuration = auth.DefaultSessionDuration
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = auth.DefaultSessionCacheTTL
	}
	prober := cfg.Prober
	if prober == nil {
		prober, _ = cfg.Cache.(sessioncache.Prober)
	}
	return &SessionService{
		db: cfg.DB, log: cfg.Logger, now: cfg.NowFunc,
		cache:    &cacheGuard{cache: cfg.Cache, log: cfg.Logger, now: cfg.NowFunc},
		prober:   prober,
		duration: cfg.SessionDuration, cacheTTL: cfg.CacheTTL,
	}, nil
}

// HashToken returns the lower-case hex SHA-256 of a session token: the value
// stored in session.token_hash and used as the cache key.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// generateToken returns 32 random bytes as 64 lower-case hex characters.
func generateToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate session token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func (s *SessionService) nowUTC() time.Time { return s.now().UTC() }

// CreateAnonymousSession creates a guest session on channelID (nil for none)
// and caches it. It commits on its own, outside any request transaction, so
// the guest keeps it even if the request fails later.
func (s *SessionService) CreateAnonymousSession(ctx context.Context, channelID *entity.ID) (*sessioncache.CachedSession, error) {
	token, err := generateToken()
	if err != nil {
		return nil, err
	}
	gen := s.cache.generation()
	now := s.nowUTC()
	row := &entity.Session{
		CreatedAt: now, UpdatedAt: now,
		TokenHash:       HashToken(token),
		Type:            entity.SessionAnonymous,
		Expires:         now.Add(s.duration),
		ActiveChannelID: channelID,
	}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create anonymous session: %w", err)
	}
	cs := s.serialize(row, nil, now)
	s.cache.set(ctx, row.TokenHash, cs, gen)
	return withToken(cs, token), nil
}

// NewAuthenticatedSession describes a session to create at login.
type NewAuthenticatedSession struct {
	UserID                 entity.ID
	AuthenticationStrategy string
	ActiveOrderID          *entity.ID
	ActiveChannelID        *entity.ID
}

// CreateNewAuthenticatedSession creates and caches an authenticated session.
// It is the public form of createNewAuthenticatedSession, in its own
// transaction.
func (s *SessionService) CreateNewAuthenticatedSession(ctx context.Context, in NewAuthenticatedSession) (*sessioncache.CachedSession, error) {
	var cs *sessioncache.CachedSession
	err := runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
		var err error
		cs, err = s.createNewAuthenticatedSession(ctx, t, in)
		return err
	})
	return cs, err
}

func (s *SessionService) createNewAuthenticatedSession(ctx context.Context, t *tx, in NewAuthenticatedSession) (*sessioncache.CachedSession, error) {
	token, err := generateToken()
	if err != nil {
		return nil, err
	}
	// Taken before the row exists, so a logout that deletes it after commit
	// revokes this write too, however late it lands.
	gen := s.cache.generation()
	now := s.nowUTC()
	strategy := in.AuthenticationStrategy
	userID := in.UserID
	row := &entity.Session{
		CreatedAt: now, UpdatedAt: now,
		TokenHash:              HashToken(token),
		Type:                   entity.SessionAuthenticated,
		Expires:                now.Add(s.duration),
		ActiveOrderID:          in.ActiveOrderID,
		ActiveChannelID:        in.ActiveChannelID,
		UserID:                 &userID,
		AuthenticationStrategy: &strategy,
	}
	if _, err := t.NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create authenticated session: %w", err)
	}
	cs, err := s.load(ctx, t, "s.id = ?", row.ID)
	if err != nil {
		return nil, fmt.Errorf("load new session: %w", err)
	}
	t.onCommit(func(ctx context.Context) { s.cache.set(ctx, row.TokenHash, cs, gen) })
	return withToken(cs, token), nil
}

// GetSessionFromToken returns the session for a token, or ErrNotFound.
//
// A fresh, unexpired cache entry is returned as is: no database access. On a
// miss, a stale entry or an expired one, the session is read with one indexed
// query; an expired, invalidated or deleted-user session is not found (and its
// stale cache entry is evicted, unlike Vendure). A found session whose expiry
// is less than half of SessionDuration away is extended (sliding expiry),
// then cached with a new cacheExpiry.
func (s *SessionService) GetSessionFromToken(ctx context.Context, token string) (*sessioncache.CachedSession, error) {
	if token == "" || len(token) > maxTokenLength {
		return nil, ErrNotFound
	}
	key := HashToken(token)
	now := s.now()
	cached := s.cache.get(ctx, key)
	if cached != nil && !cached.IsStale(now) && !cached.IsExpired(now) {
		return withToken(cached, token), nil
	}
	gen := s.cache.generation() // before the read: see the revocation invariant
	cs, err := s.findSessionByTokenHash(ctx, key)
	if errors.Is(err, ErrNotFound) {
		if cached != nil {
			s.cache.delete(ctx, key)
		}
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.cache.set(ctx, key, cs, gen)
	return withToken(cs, token), nil
}

// findSessionByTokenHash reads a live session and applies sliding expiry.
func (s *SessionService) findSessionByTokenHash(ctx context.Context, hash string) (*sessioncache.CachedSession, error) {
	cs, err := s.load(ctx, s.db, "s.token_hash = ?", hash)
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	if cs.IsExpired(now) {
		return nil, ErrNotFound
	}
	if cs.Expires.Sub(now) < s.duration/2 {
		expires := now.Add(s.duration)
		if _, err := s.db.NewUpdate().Model((*entity.Session)(nil)).
			Set("expires = ?", expires).Set("updated_at = ?", now).
			Where("id = ?", cs.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("extend session: %w", err)
		}
		cs.Expires = expires
	}
	return cs, nil
}

// sessionRow is one row of the session lookup: a session with one
// (role, channel) pair of its user, if any.
type sessionRow struct {
	ID                     entity.ID  `bun:"id"`
	TokenHash              string     `bun:"token_hash"`
	Expires                time.Time  `bun:"expires"`
	ActiveOrderID          *entity.ID `bun:"active_order_id"`
	ActiveChannelID        *entity.ID `bun:"active_channel_id"`
	SessionUserID          *entity.ID `bun:"session_user_id"`
	AuthenticationStrategy *string    `bun:"authentication_strategy"`
	UserID                 *entity.ID `bun:"user_id"`
	Identifier             *string    `bun:"identifier"`
	Verified               *bool      `bun:"verified"`
	AdministratorID        *entity.ID `bun:"administrator_id"`
	RoleID                 *entity.ID `bun:"role_id"`
	Permissions            *string    `bun:"permissions"`
	ChannelID              *entity.ID `bun:"channel_id"`
	ChannelToken           *string    `bun:"channel_token"`
	ChannelCode            *string    `bun:"channel_code"`
}

// sessionQuery reads a session, its user, whether the user is an
// administrator, and every (role, channel) pair of the user, in one query.
const sessionQuery = `SELECT s.id, s.token_hash, s.expires, s.active_order_id, s.active_channel_id,
	s.user_id AS session_user_id, s.authentication_strategy,
	u.id AS user_id, u.identifier, u.verified, adm.id AS administrator_id,
	r.id AS role_id, r.permissions, ch.id AS channel_id, ch.token AS channel_token, ch.code AS channel_code
FROM session AS s
LEFT JOIN "user" AS u ON u.id = s.user_id AND u.deleted_at IS NULL
LEFT JOIN administrator AS adm ON adm.user_id = u.id AND adm.deleted_at IS NULL
LEFT JOIN user_role AS ur ON ur.user_id = u.id
LEFT JOIN role AS r ON r.id = ur.role_id
LEFT JOIN role_channel AS rc ON rc.role_id = r.id
LEFT JOIN channel AS ch ON ch.id = rc.channel_id
WHERE s.invalidated = ? AND `

// load reads one session by a condition on alias s (not checking expiry) and
// serializes it. A session whose user is gone is not found.
func (s *SessionService) load(ctx context.Context, db bun.IDB, where string, arg any) (*sessioncache.CachedSession, error) {
	cs, _, err := s.loadWithHash(ctx, db, where, arg)
	return cs, err
}

// loadWithHash is load that also returns the session's token hash (its cache key).
func (s *SessionService) loadWithHash(ctx context.Context, db bun.IDB, where string, arg any) (*sessioncache.CachedSession, string, error) {
	var rows []sessionRow
	if err := db.NewRaw(sessionQuery+where+" ORDER BY r.id, ch.id", false, arg).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("find session: %w", err)
	}
	if len(rows) == 0 {
		return nil, "", ErrNotFound
	}
	first := rows[0]
	if first.SessionUserID != nil && first.UserID == nil {
		return nil, "", ErrNotFound // the user was deleted
	}
	row := &entity.Session{
		ID: first.ID, TokenHash: first.TokenHash, Expires: first.Expires,
		ActiveOrderID: first.ActiveOrderID, ActiveChannelID: first.ActiveChannelID,
		UserID: first.UserID, AuthenticationStrategy: first.AuthenticationStrategy,
	}
	var user *sessioncache.CachedUser
	if first.UserID != nil {
		user = &sessioncache.CachedUser{
			ID:              *first.UserID,
			Identifier:      deref(first.Identifier),
			Verified:        deref(first.Verified),
			IsAdministrator: first.AdministratorID != nil,
		}
		user.ChannelPermissions = channelPermissions(rows)
	}
	return s.serialize(row, user, s.nowUTC()), first.TokenHash, nil
}

// channelPermissions merges the (role, channel) rows of a user into one entry
// per channel: the union of the permissions of every role on that channel, in
// role order then permission order, sorted by channel id (rows arrive ordered
// by role id, then channel id).
func channelPermissions(rows []sessionRow) []sessioncache.ChannelPermissions {
	out := []sessioncache.ChannelPermissions{}
	index := map[entity.ID]int{}
	seen := map[entity.ID]map[auth.Permission]struct{}{}
	for _, r := range rows {
		if r.ChannelID == nil || r.Permissions == nil {
			continue
		}
		i, ok := index[*r.ChannelID]
		if !ok {
			i = len(out)
			index[*r.ChannelID] = i
			seen[*r.ChannelID] = map[auth.Permission]struct{}{}
			out = append(out, sessioncache.ChannelPermissions{
				ID: *r.ChannelID, Token: deref(r.ChannelToken), Code: deref(r.ChannelCode),
				Permissions: []auth.Permission{},
			})
		}
		var list entity.StringList
		_ = list.Scan(*r.Permissions)
		for _, p := range list {
			perm := auth.Permission(p)
			if _, dup := seen[*r.ChannelID][perm]; dup {
				continue
			}
			seen[*r.ChannelID][perm] = struct{}{}
			out[i].Permissions = append(out[i].Permissions, perm)
		}
	}
	sortByID(out)
	return out
}

func sortByID(cps []sessioncache.ChannelPermissions) {
	for i := 1; i < len(cps); i++ {
		for j := i; j > 0 && cps[j].ID < cps[j-1].ID; j-- {
			cps[j], cps[j-1] = cps[j-1], cps[j]
		}
	}
}

// SerializeSession builds the CachedSession of a session row and its user,
// with a new cacheExpiry of now + CacheTTL.
func (s *SessionService) SerializeSession(row *entity.Session, user *sessioncache.CachedUser) *sessioncache.CachedSession {
	return s.serialize(row, user, s.nowUTC())
}

func (s *SessionService) serialize(row *entity.Session, user *sessioncache.CachedUser, now time.Time) *sessioncache.CachedSession {
	cs := &sessioncache.CachedSession{
		CacheExpiry:     float64(now.Add(s.cacheTTL).UnixNano()) / 1e9,
		ID:              row.ID,
		Expires:         row.Expires.UTC(),
		ActiveOrderID:   row.ActiveOrderID,
		ActiveChannelID: row.ActiveChannelID,
	}
	if user != nil {
		cs.User = user
		cs.AuthenticationStrategy = deref(row.AuthenticationStrategy)
	}
	return cs
}

// SetActiveOrder stores orderID as the session's active order and re-caches
// the session. If the session no longer exists, it returns the input.
func (s *SessionService) SetActiveOrder(ctx context.Context, session *sessioncache.CachedSession, orderID entity.ID) (*sessioncache.CachedSession, error) {
	return s.update(ctx, session, "active_order_id = ?", orderID)
}

// UnsetActiveOrder clears the session's active order. It does nothing when
// the session has none.
func (s *SessionService) UnsetActiveOrder(ctx context.Context, session *sessioncache.CachedSession) (*sessioncache.CachedSession, error) {
	if session.ActiveOrderID == nil {
		return session, nil
	}
	return s.update(ctx, session, "active_order_id = NULL")
}

// SetActiveChannel stores channelID as the session's active channel and
// re-caches the session.
func (s *SessionService) SetActiveChannel(ctx context.Context, session *sessioncache.CachedSession, channelID entity.ID) (*sessioncache.CachedSession, error) {
	return s.update(ctx, session, "active_channel_id = ?", channelID)
}

// update changes one column of a session, reloads it (fresh user and
// permissions, as Vendure reloads the relations) and re-caches it after the
// write has committed.
func (s *SessionService) update(ctx context.Context, session *sessioncache.CachedSession, set string, args ...any) (*sessioncache.CachedSession, error) {
	gen := s.cache.generation()
	now := s.nowUTC()
	res, err := s.db.NewUpdate().Model((*entity.Session)(nil)).
		Set(set, args...).Set("updated_at = ?", now).
		Where("id = ?", session.ID).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("update session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return session, nil
	}
	cs, hash, err := s.loadWithHash(ctx, s.db, "s.id = ?", session.ID)
	if errors.Is(err, ErrNotFound) {
		return session, nil
	}
	if err != nil {
		return nil, err
	}
	s.cache.set(ctx, hash, cs, gen)
	return withToken(cs, session.Token), nil
}

// DeleteSessionsByUser deletes every authenticated session of a user and
// revokes them in the cache (see the revocation invariant in cachesync.go).
func (s *SessionService) DeleteSessionsByUser(ctx context.Context, userID entity.ID) error {
	return runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
		return s.deleteSessionsWhere(ctx, t, "user_id = ?", userID)
	})
}

// DeleteSessionsByActiveOrderID deletes every session, of either kind, whose
// active order is orderID, and revokes them in the cache (see the revocation
// invariant in cachesync.go).
func (s *SessionService) DeleteSessionsByActiveOrderID(ctx context.Context, orderID entity.ID) error {
	return runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
		return s.deleteSessionsWhere(ctx, t, "active_order_id = ?", orderID)
	})
}

func (s *SessionService) deleteSessionsWhere(ctx context.Context, t *tx, where string, arg any) error {
	var hashes []string
	if err := t.NewDelete().Model((*entity.Session)(nil)).Where(where, arg).
		Returning("token_hash").Scan(ctx, &hashes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return s.revoke(ctx, t, hashes)
}

// CleanExpiredSessions deletes expired sessions, and anonymous sessions with
// no active order whose row has not been written for 7 days, in batches of
// batchSize until none remain (Vendure deletes one batch per run). It evicts
// each from the cache and returns how many it deleted.
func (s *SessionService) CleanExpiredSessions(ctx context.Context, batchSize int) (int, error) {
	if batchSize < 1 {
		return 0, fmt.Errorf("clean expired sessions: batch size must be at least 1, got %d", batchSize)
	}
	now := s.nowUTC()
	idleBefore := now.Add(-AnonymousIdleLifetime)
	total := 0
	for {
		var victims []struct {
			ID        entity.ID `bun:"id"`
			TokenHash string    `bun:"token_hash"`
		}
		err := s.db.NewSelect().Model((*entity.Session)(nil)).Column("id", "token_hash").
			WhereOr("expires < ?", now).
			WhereOr("user_id IS NULL AND active_order_id IS NULL AND updated_at < ?", idleBefore).
			Limit(int64(batchSize)).Scan(ctx, &victims)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return total, fmt.Errorf("find expired sessions: %w", err)
		}
		if len(victims) == 0 {
			return total, nil
		}
		ids := make([]entity.ID, len(victims))
		hashes := make([]string, len(victims))
		for i, v := range victims {
			ids[i], hashes[i] = v.ID, v.TokenHash
		}
		if err := runInTx(ctx, s.db, func(ctx context.Context, t *tx) error {
			if _, err := t.NewDelete().Model((*entity.Session)(nil)).Where("id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
				return fmt.Errorf("delete expired sessions: %w", err)
			}
			return s.revoke(ctx, t, hashes)
		}); err != nil {
			return total, err
		}
		total += len(victims)
		s.log.DebugContext(ctx, "cleaned expired sessions", "batch", len(victims), "total", total)
		if len(victims) < batchSize {
			return total, nil
		}
	}
}

// withToken returns a copy of cs that carries the raw token of the request.
func withToken(cs *sessioncache.CachedSession, token string) *sessioncache.CachedSession {
	c := *cs
	c.Token = token
	return &c
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// evictUserOnCommit queues the eviction of every cached session of a user.
func (s *SessionService) evictUserOnCommit(ctx context.Context, t *tx, userID entity.ID) error {
	var hashes []string
	if err := t.NewSelect().Model((*entity.Session)(nil)).Column("token_hash").
		Where("user_id = ?", userID).Scan(ctx, &hashes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find sessions of user: %w", err)
	}
	return s.revoke(ctx, t, hashes)
}

// EnsureActiveChannel is the channel bookkeeping of a request (Vendure's
// AuthGuard): when the session's active channel is not the request's, it
// stores the new one, and a logged-in user's customer profile is made
// visible on that channel (concurrent duplicates are ignored).
func (s *SessionService) EnsureActiveChannel(ctx context.Context, session *sessioncache.CachedSession, channelID entity.ID) (*sessioncache.CachedSession, error) {
	if session.ActiveChannelID != nil && *session.ActiveChannelID == channelID {
		return session, nil
	}
	updated, err := s.SetActiveChannel(ctx, session, channelID)
	if err != nil {
		return nil, err
	}
	if session.User != nil {
		if _, err := s.db.NewRaw(`INSERT INTO customer_channel (customer_id, channel_id)
SELECT id, ? FROM customer WHERE user_id = ? AND deleted_at IS NULL
ON CONFLICT DO NOTHING`, channelID, session.User.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("assign customer to channel: %w", err)
		}
	}
	return updated, nil
}
