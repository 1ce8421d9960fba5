package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/service/clientinfo"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/sessioncache"
)

// NewAuthenticatedSession describes a session to create at login.
type NewAuthenticatedSession struct {
	UserID                 entity.ID
	AuthenticationStrategy string
	ActiveOrderID          *entity.ID
	ActiveChannelID        *entity.ID
}

// CreateNewAuthenticatedSession is Vendure's createNewAuthenticatedSession,
// in its own transaction: it creates an authenticated session and caches it
// after commit. AuthService's login runs the same work inside its own
// transaction.
func (s *Service) CreateNewAuthenticatedSession(ctx context.Context, in NewAuthenticatedSession) (*sessioncache.CachedSession, error) {
	var cs *sessioncache.CachedSession
	err := RunInTx(ctx, s.db, func(ctx context.Context, t *Tx) error {
		var err error
		cs, err = s.CreateAuthenticatedInTx(ctx, t, in)
		return err
	})
	return cs, err
}

func (s *Service) CreateAuthenticatedInTx(ctx context.Context, t *Tx, in NewAuthenticatedSession) (*sessioncache.CachedSession, error) {
	token, err := GenerateToken()
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
	withClient(ctx, row)
	if _, err := t.NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create authenticated session: %w", err)
	}
	// The session starts on the login's channel, so the request that would
	// have found it elsewhere (Vendure's AuthGuard, which leaves a new
	// session's channel empty) never comes: the customer joins the channel
	// here.
	if in.ActiveChannelID != nil {
		if err := s.assignCustomer(ctx, t, userID, *in.ActiveChannelID); err != nil {
			return nil, err
		}
	}
	cs, _, err := s.loadByID(ctx, t.SQLTx(), row.ID)
	if err != nil {
		return nil, fmt.Errorf("load new session: %w", err)
	}
	t.OnCommit(func(ctx context.Context) {
		s.cache.set(ctx, row.TokenHash, cs, gen)
		s.recordCreated(true)
	})
	return withToken(cs, token), nil
}

// SetActiveOrder is Vendure's setActiveOrder: it stores orderID as the
// session's active order and re-caches the session. If the session no
// longer exists, it returns the input.
func (s *Service) SetActiveOrder(ctx context.Context, session *sessioncache.CachedSession, orderID entity.ID) (*sessioncache.CachedSession, error) {
	return s.setRef(ctx, session, activeOrder, &orderID)
}

// UnsetActiveOrder is Vendure's unsetActiveOrder: it clears the session's
// active order. It does nothing when the session has none.
func (s *Service) UnsetActiveOrder(ctx context.Context, session *sessioncache.CachedSession) (*sessioncache.CachedSession, error) {
	if session.ActiveOrderID == nil {
		return session, nil
	}
	return s.setRef(ctx, session, activeOrder, nil)
}

// SetActiveChannel is Vendure's setActiveChannel: it stores channelID as
// the session's active channel and re-caches the session.
func (s *Service) SetActiveChannel(ctx context.Context, session *sessioncache.CachedSession, channelID entity.ID) (*sessioncache.CachedSession, error) {
	return s.setRef(ctx, session, activeChannel, &channelID)
}

// sessionRef is a reference a session holds that its setters change.
type sessionRef int

const (
	activeOrder sessionRef = iota
	activeChannel
)

// setRef points one reference of a session at id (nil clears it), reloads
// the session (fresh user and permissions, as Vendure reloads the
// relations) and re-caches it. The write commits on its own, before the
// cache is touched.
//
// A guest session's lifetime follows its active order (see renewal):
// getting one gives it SessionDuration from now, as a login would, so a
// cart lives as long as Vendure keeps it; losing it gives it
// AnonymousSessionDuration from now. A logged-in session's expiry is left
// alone (Vendure does not touch it either). A cache-only guest gets its row
// here (session_guest.go).
func (s *Service) setRef(ctx context.Context, session *sessioncache.CachedSession, ref sessionRef, id *entity.ID) (*sessioncache.CachedSession, error) {
	gen := s.cache.generation()
	now := s.nowUTC()
	update := func(ctx context.Context, db bun.IDB, sessionID entity.ID) (int64, error) {
		q := db.NewUpdate().Model((*entity.Session)(nil)).
			Set("updated_at = ?", now).Where("id = ?", sessionID)
		switch ref {
		case activeOrder:
			q = s.setActiveOrderColumns(q, id, now)
		case activeChannel:
			q = q.Set("active_channel_id = ?", id)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return 0, fmt.Errorf("update session: %w", err)
		}
		return res.RowsAffected()
	}
	sessionID := session.ID
	var (
		n   int64
		err error
	)
	if session.Stored() {
		n, err = update(ctx, s.db, sessionID)
	} else {
		// A cache-only guest gets its row with what it now holds, in one
		// transaction (session_guest.go).
		err = RunInTx(ctx, s.db, func(ctx context.Context, t *Tx) error {
			var err error
			if sessionID, _, err = s.storeGuest(ctx, t, session); err != nil {
				return err
			}
			n, err = update(ctx, t, sessionID)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return session, nil
	}
	cs, hash, err := s.loadByID(ctx, s.db.DB, sessionID)
	if errors.Is(err, outcome.ErrNotFound) {
		return session, nil
	}
	if err != nil {
		return nil, err
	}
	s.cache.set(ctx, hash, cs, gen)
	return withToken(cs, session.Token), nil
}

// EnsureActiveChannel is the channel bookkeeping of a request (Vendure's
// AuthGuard): when the session's active channel is not the request's, it
// stores the new one (SetActiveChannel), and a logged-in user's customer
// profile is made visible on that channel (Config.AssignCustomerFunc,
// the UserService).
func (s *Service) EnsureActiveChannel(ctx context.Context, session *sessioncache.CachedSession, channelID entity.ID) (*sessioncache.CachedSession, error) {
	if session.ActiveChannelID != nil && *session.ActiveChannelID == channelID {
		return session, nil
	}
	updated, err := s.SetActiveChannel(ctx, session, channelID)
	if err != nil {
		return nil, err
	}
	if session.User != nil {
		if err := s.assignCustomer(ctx, s.db, session.User.ID, channelID); err != nil {
			return nil, err
		}
	}
	return updated, nil
}

// setActiveOrderColumns adds to q the active order id (nil clears it) and,
// for a guest, the expiry that goes with it (see renewal): SessionDuration
// from now with an order, AnonymousSessionDuration without.
func (s *Service) setActiveOrderColumns(q *bun.UpdateQuery, id *entity.ID, now time.Time) *bun.UpdateQuery {
	lifetime := s.anonDuration
	if id != nil {
		lifetime = s.duration
	}
	return q.Set("active_order_id = ?", id).
		Set("expires = CASE WHEN user_id IS NULL THEN ? ELSE expires END", now.Add(lifetime))
}

// SetActiveOrderInTx points a session at orderID (nil clears it) in t and
// re-caches the session after commit, read afresh then, so the cache holds
// what was committed. The generation is taken before that read: a logout
// that deletes the session meanwhile revokes the write (cachesync.go).
func (s *Service) SetActiveOrderInTx(ctx context.Context, t *Tx, sessionID entity.ID, orderID *entity.ID) error {
	now := s.nowUTC()
	q := t.NewUpdate().Model((*entity.Session)(nil)).Set("updated_at = ?", now).Where("id = ?", sessionID)
	if _, err := s.setActiveOrderColumns(q, orderID, now).Exec(ctx); err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	t.OnCommit(func(ctx context.Context) { s.recache(ctx, sessionID) })
	return nil
}

// recache reads a session and caches it; a session deleted meanwhile is
// left out, and a failure only costs the next request a database read.
func (s *Service) recache(ctx context.Context, sessionID entity.ID) {
	gen := s.cache.generation()
	cs, hash, err := s.loadByID(ctx, s.db.DB, sessionID)
	if err != nil {
		if !errors.Is(err, outcome.ErrNotFound) {
			s.log.WarnContext(ctx, "re-cache session", "session", sessionID, "err", err)
		}
		return
	}
	s.cache.set(ctx, hash, cs, gen)
}

// ReleaseOrders takes orders away from every session that holds one of
// them as its active order, in t: the rows lose the order (a guest's expiry
// goes back to the guest lifetime, as UnsetActiveOrder), and every cached
// copy is revoked after commit on every instance (the outbox, as a
// deletion), so no instance can serve the old order id from its cache.
// Their next request reads the row afresh.
func (s *Service) ReleaseOrders(ctx context.Context, t *Tx, orderIDs ...entity.ID) error {
	if len(orderIDs) == 0 {
		return nil
	}
	now := s.nowUTC()
	q := t.NewUpdate().Model((*entity.Session)(nil)).Set("updated_at = ?", now).
		Where("active_order_id IN (?)", bun.List(orderIDs))
	var hashes []string
	if err := s.setActiveOrderColumns(q, nil, now).Returning("token_hash").Scan(ctx, &hashes); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("release orders from sessions: %w", err)
	}
	return s.revoke(ctx, t, hashes)
}

// withClient gives a new row the client metadata of the request that
// writes it (clientinfo), and its creation as its last use.
func withClient(ctx context.Context, row *entity.Session) {
	info := clientinfo.From(ctx)
	if info.Address != "" {
		row.ClientAddress = &info.Address
	}
	if info.UserAgent != "" {
		row.UserAgent = &info.UserAgent
	}
	used := row.CreatedAt
	row.LastUsedAt = &used
}
