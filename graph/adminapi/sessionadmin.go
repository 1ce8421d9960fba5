package adminapi

import (
	"context"

	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/session"
)

// sessionScope is what of the sessions the caller may read, or end (end
// true): session.AdminScope of its permissions on the request's channel.
func (r *Resolver) sessionScope(ctx context.Context, end bool) session.Scope {
	rc := requestctx.FromContext(ctx)
	ch := rc.ChannelID()
	sc := session.AdminScope(rc.Session().PermissionsOn(ch), end, ch, ch == r.Channels.Default().ID)
	sc.Actor = actor(rc)
	return sc
}

// deletionResult is the answer of an operation that ended n sessions.
func deletionResult(n int, err error) (*model.SessionDeletionResult, error) {
	if err != nil {
		return nil, err
	}
	return &model.SessionDeletionResult{Count: n}, nil
}
