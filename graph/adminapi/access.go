package adminapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/graph/adminapi/model"
	"github.com/shopsession/sessionserver/graph/gqlauth"
	"github.com/shopsession/sessionserver/requestctx"
	"github.com/shopsession/sessionserver/service/access"
	"github.com/shopsession/sessionserver/service/audit"
	"github.com/shopsession/sessionserver/service/outcome"
)

// caller is who the request is, for the access services' ...As methods:
// its session's permissions, the channel of the request, and who it is
// for the audit log.
func caller(ctx context.Context) access.Caller {
	rc := requestctx.FromContext(ctx)
	c := access.Caller{Grants: rc.Session(), ChannelID: rc.ChannelID(), Actor: actor(rc)}
	if s := rc.Session(); s != nil {
		c.SessionID = s.ID
	}
	return c
}

// activeAdministrator is the user of the request's session when it is an
// administrator, as its cached session says: a customer's or a guest's
// request is answered without reading the database.
func activeAdministrator(ctx context.Context) (entity.ID, bool) {
	s := requestctx.FromContext(ctx).Session()
	if s == nil || s.User == nil || !s.User.IsAdministrator {
		return 0, false
	}
	return s.User.ID, true
}

// actor is who the request is for the audit log: its session's user (none
// for a guest's or no session), the client address and the request's
// channel.
func actor(rc *requestctx.RequestContext) audit.Actor {
	ch := rc.ChannelID()
	a := audit.Actor{ClientAddress: rc.ClientAddress(), ChannelID: &ch}
	if s := rc.Session(); s != nil && s.User != nil {
		id := s.User.ID
		a.UserID, a.Identifier = &id, s.User.Identifier
	}
	return a
}

// errorResult is the ErrorResult member of the Admin API for the outcome
// in err's chain (outcome.As), with the outcome's errorCode and its text as
// message. ok is false when err holds no outcome the Admin API has a member
// for. TestEveryAdminOutcomeHasAMember holds it to the Admin API's outcomes.
func errorResult(err error) (member any, ok bool) {
	o, ok := outcome.As(err)
	if !ok {
		return nil, false
	}
	code, msg := gqlauth.ErrorCode(o.ErrorCode()), o.Error()
	switch e := o.(type) {
	case *outcome.EmailAddressConflictError:
		return &model.EmailAddressConflictError{ErrorCode: code, Message: msg}, true
	case *outcome.LanguageNotAvailableError:
		return &model.LanguageNotAvailableError{ErrorCode: code, Message: msg, LanguageCode: e.LanguageCode}, true
	}
	return nil, false
}

// result is v as a member of union U when err is nil, else the member of
// U for err's outcome, else err itself (a fault or a refusal, which the
// error presenter answers).
func result[U any, V any](v V, err error) (U, error) {
	var zero U
	if err == nil {
		u, _ := any(v).(U)
		return u, nil
	}
	if m, ok := errorResult(err); ok {
		if u, fits := m.(U); fits {
			return u, nil
		}
	}
	return zero, err
}

// deletion is Vendure's DeletionResponse for a delete's error: DELETED
// without one, NOT_DELETED with the reason of an *outcome.NotDeletedError;
// any other error stays one.
func deletion(err error) (*model.DeletionResponse, error) {
	if err == nil {
		return &model.DeletionResponse{Result: model.DeletionResultDeleted}, nil
	}
	if nd, ok := errors.AsType[*outcome.NotDeletedError](err); ok {
		reason := nd.Error()
		return &model.DeletionResponse{Result: model.DeletionResultNotDeleted, Message: &reason}, nil
	}
	return nil, err
}

// deletions is the answer of a deleteXs mutation: a DeletionResponse per
// id for the service's answers (nil, or what kept the id), or its error.
func deletions(results []error, err error) ([]*model.DeletionResponse, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*model.DeletionResponse, len(results))
	for i, res := range results {
		if out[i], err = deletion(res); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newChannel maps CreateChannelInput. The deprecated currencyCode stands
// in for defaultCurrencyCode; one of them is required, as in Vendure.
func newChannel(in model.CreateChannelInput) (access.NewChannel, error) {
	currency := in.DefaultCurrencyCode
	if currency == nil {
		currency = in.CurrencyCode
	}
	if currency == nil {
		return access.NewChannel{}, fmt.Errorf("%w: Either a defaultCurrencyCode or currencyCode must be provided", outcome.ErrInvalidInput)
	}
	return access.NewChannel{
		Code: in.Code, Token: in.Token,
		DefaultLanguageCode: in.DefaultLanguageCode, AvailableLanguageCodes: in.AvailableLanguageCodes,
		DefaultCurrencyCode: *currency, AvailableCurrencyCodes: in.AvailableCurrencyCodes,
		PricesIncludeTax: in.PricesIncludeTax, TrackInventory: in.TrackInventory,
		OutOfStockThreshold: int32Ptr(in.OutOfStockThreshold),
		DefaultTaxZoneID:    &in.DefaultTaxZoneID, DefaultShippingZoneID: &in.DefaultShippingZoneID,
		SellerID: in.SellerID,
	}, nil
}

// channelChange maps UpdateChannelInput; the deprecated currencyCode
// stands in for defaultCurrencyCode.
func channelChange(in model.UpdateChannelInput) access.ChannelChange {
	currency := in.DefaultCurrencyCode
	if currency == nil {
		currency = in.CurrencyCode
	}
	return access.ChannelChange{
		ID: in.ID, Code: in.Code, Token: in.Token,
		DefaultLanguageCode: in.DefaultLanguageCode, AvailableLanguageCodes: in.AvailableLanguageCodes,
		DefaultCurrencyCode: currency, AvailableCurrencyCodes: in.AvailableCurrencyCodes,
		PricesIncludeTax: in.PricesIncludeTax, TrackInventory: in.TrackInventory,
		OutOfStockThreshold: int32Ptr(in.OutOfStockThreshold),
		DefaultTaxZoneID:    in.DefaultTaxZoneID, DefaultShippingZoneID: in.DefaultShippingZoneID,
		SellerID: in.SellerID,
	}
}

// int32Ptr narrows an Int argument, which the Int scalar holds to 32 bits.
func int32Ptr(v *int) *int32 {
	if v == nil {
		return nil
	}
	n := int32(*v) //nolint:gosec // the Int scalar refuses values outside 32 bits
	return &n
}
