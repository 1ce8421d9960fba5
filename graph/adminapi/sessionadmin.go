package adminapi

import (
	"context"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/session"
)

// sessionScope is what of the sessions the caller may read, or end (end
// true): session.AdminScope of its permissions on the request's channel.
func (r *Resolver) sessionScope(ctx context.Context, end bool) session.Scope {
	rc := requestctx.FromContext(ctx)
	ch := rc.ChannelID()
	sc := session.AdminScope(rc.Session().PermissionsOn(ch), end, ch)
	sc.Actor = actor(rc)
	if s := rc.Session(); s != nil {
		sc.CallerSessionID = s.ID
	}
	return sc
}

// audited is the caller as the audit log records its own sessions' ends.
func audited(ctx context.Context) *audit.Actor {
	a := actor(requestctx.FromContext(ctx))
	return &a
}

// deletionResult is the answer of an operation that ended n sessions.
func deletionResult(n int, err error) (*model.SessionDeletionResult, error) {
	if err != nil {
		return nil, err
	}
	return &model.SessionDeletionResult{Count: n}, nil
}

// requestChannel is the request's channel, which scopes the Admin API's
// lists (entity.ChannelScope).
func requestChannel(ctx context.Context) *entity.ID {
	ch := requestctx.FromContext(ctx).ChannelID()
	return &ch
}
