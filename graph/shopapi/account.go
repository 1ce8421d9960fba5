package shopapi

import (
	"context"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/gqlauth"
	"github.com/shopsession/sessionserver/graph/shopapi/model"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/account"
)

// result is an account mutation's answer in its union U: ok when err is
// nil, else err's ErrorResult member (errorResult). An error U has no
// member for (a fault, or an outcome this mutation cannot have) is returned
// as the error, which the error presenter hides.
func result[U any](ok U, err error) (U, error) {
	if err == nil {
		return ok, nil
	}
	return member[U](err)
}

// success is the Success an account mutation answers when it has nothing
// more to say (the address-hiding ones always do).
func success() *gqlauth.Success { return &gqlauth.Success{Success: true} }

// activeUserID is the logged-in user, or 0 (which owns nothing).
func activeUserID(ctx context.Context) entity.ID {
	id, _ := requestctx.FromContext(ctx).ActiveUserID()
	return id
}

// currentSessionID is the id of the request's session row, or 0 (none, or
// a guest's that lives in the cache only).
func currentSessionID(ctx context.Context) entity.ID {
	if s := requestctx.FromContext(ctx).Session(); s != nil {
		return s.ID
	}
	return 0
}

// registration maps registerCustomerAccount's input, on the request's
// channel. Absent fields are "", as Vendure stores them.
func registration(ctx context.Context, in model.RegisterCustomerInput) account.Registration {
	return account.Registration{
		EmailAddress: in.EmailAddress, Title: deref(in.Title), FirstName: deref(in.FirstName),
		LastName: deref(in.LastName), PhoneNumber: deref(in.PhoneNumber), Password: deref(in.Password),
		ChannelID: requestctx.FromContext(ctx).ChannelID(),
	}
}

// customerUpdate maps updateCustomer's input; an absent field is left as it is.
func customerUpdate(in model.UpdateCustomerInput) account.CustomerUpdate {
	return account.CustomerUpdate{Title: in.Title, FirstName: in.FirstName, LastName: in.LastName, PhoneNumber: in.PhoneNumber}
}

// deref is *s, or "" for nil (Vendure treats a null password as none).
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
