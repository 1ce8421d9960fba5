package entity

import (
	"time"

	"github.com/uptrace/bun"
)

// DefaultChannelCode is the code of the channel created at first start.
const DefaultChannelCode = "__default_channel__"

// Channel is a sales channel. A request selects one by its token.
type Channel struct {
	bun.BaseModel `bun:"table:channel,alias:ch"`

	ID                     ID            `bun:"id,pk,autoincrement"`
	CreatedAt              time.Time     `bun:"created_at,notnull"`
	UpdatedAt              time.Time     `bun:"updated_at,notnull"`
	Code                   string        `bun:"code,notnull"`
	Token                  string        `bun:"token,notnull"`
	DefaultLanguageCode    LanguageCode  `bun:"default_language_code,notnull"`
	AvailableLanguageCodes LanguageCodes `bun:"available_language_codes,notnull,type:text"`
	DefaultCurrencyCode    CurrencyCode  `bun:"default_currency_code,notnull"`
	AvailableCurrencyCodes CurrencyCodes `bun:"available_currency_codes,notnull,type:text"`
	PricesIncludeTax       bool          `bun:"prices_include_tax,notnull"`
	TrackInventory         bool          `bun:"track_inventory,notnull"`
	OutOfStockThreshold    int32         `bun:"out_of_stock_threshold,notnull"`
	DefaultTaxZoneID       *ID           `bun:"default_tax_zone_id"`
	DefaultShippingZoneID  *ID           `bun:"default_shipping_zone_id"`

	// The zones the ids name, when loaded (ChannelService's snapshot loads
	// them, so every channel a request sees has them).
	DefaultTaxZone      *Zone `bun:"rel:belongs-to,join:default_tax_zone_id=id"`
	DefaultShippingZone *Zone `bun:"rel:belongs-to,join:default_shipping_zone_id=id"`
}

// The Admin API's result unions that have Channel as a member: gqlgen
// generates each union as an interface of its Is<Union> method, and binds
// Channel to this type, so a *Channel is returned as either.

// IsCreateChannelResult makes Channel a member of that union.
func (*Channel) IsCreateChannelResult() {}

// IsUpdateChannelResult makes Channel a member of that union.
func (*Channel) IsUpdateChannelResult() {}

// ChannelScope is the channel scoping of the Admin API, in one place: on
// the default channel an administrator reaches every row (customers,
// orders, sessions, the audit log); on another channel only the rows that
// belong to it. channelID is the request's channel; onChannel is the
// condition that a row belongs to a channel, with one placeholder for its
// id (a customer: its customer_channel row; an order: its channel_id; a
// session: its active channel). The request's channel is compared with the
// default channel in the statement, so the rule needs no channel snapshot.
func ChannelScope(q bun.QueryBuilder, channelID ID, onChannel string) bun.QueryBuilder {
	return q.Where("(EXISTS (SELECT 1 FROM channel AS scope_channel WHERE scope_channel.id = ? AND scope_channel.code = ?) OR "+onChannel+")",
		channelID, DefaultChannelCode, channelID)
}
