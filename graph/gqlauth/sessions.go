package gqlauth

import (
	"context"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/outcome"
	"github.com/shopsession/sessionserver/service/session"
)

// OwnSessions is what the self-service session operations of both APIs
// (activeSessions, revokeSession, revokeOtherSessions) call: the session
// service.
type OwnSessions interface {
	ListOwnSessions(ctx context.Context, self session.Self) ([]*session.Info, error)
	RevokeOwnSession(ctx context.Context, self session.Self, id entity.ID) (bool, error)
	RevokeOtherOwnSessions(ctx context.Context, self session.Self) (int, error)
}

// sessionOwner is the caller of a self-service session operation: the
// logged-in user of the request's session, and that session. A guest, a
// request without a session and, on the Admin API, a user that is not an
// administrator (as me) are FORBIDDEN. audited is who the audit log
// records the change under (nil: not recorded).
func sessionOwner(ctx context.Context, audited *audit.Actor) (session.Self, error) {
	rc := requestctx.FromContext(ctx)
	s := rc.Session()
	if s == nil || s.User == nil || s.ID == 0 {
		return session.Self{}, outcome.ErrForbidden
	}
	if rc.APIType() == auth.AdminAPI && !s.User.IsAdministrator {
		return session.Self{}, outcome.ErrForbidden
	}
	return session.Self{UserID: s.User.ID, SessionID: s.ID, Audit: audited}, nil
}

// ActiveSessions is activeSessions: the caller's own live sessions, its
// current one marked.
func ActiveSessions(ctx context.Context, svc OwnSessions) ([]*session.Info, error) {
	self, err := sessionOwner(ctx, nil)
	if err != nil {
		return nil, err
	}
	return svc.ListOwnSessions(ctx, self)
}

// RevokeSession is revokeSession: it ends one of the caller's own sessions
// (success false when the caller has none with that id, whoever's it is),
// and clears the request's token when that was the current one (a
// logout).
func RevokeSession(ctx context.Context, svc OwnSessions, id entity.ID, audited *audit.Actor) (*Success, error) {
	self, err := sessionOwner(ctx, audited)
	if err != nil {
		return nil, err
	}
	ended, err := svc.RevokeOwnSession(ctx, self, id)
	if err != nil {
		return nil, err
	}
	if ended && id == self.SessionID {
		requestctx.FromContext(ctx).ClearSession()
	}
	return &Success{Success: ended}, nil
}

// RevokeOtherSessions is revokeOtherSessions: it ends every other session
// of the caller and returns how many ended.
func RevokeOtherSessions(ctx context.Context, svc OwnSessions, audited *audit.Actor) (int, error) {
	self, err := sessionOwner(ctx, audited)
	if err != nil {
		return 0, err
	}
	return svc.RevokeOtherOwnSessions(ctx, self)
}
