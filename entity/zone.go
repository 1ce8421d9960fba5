package entity

import (
	"time"

	"github.com/uptrace/bun"
)

// DefaultZoneName is the name of the zone seeded at first start and set as
// the default tax and shipping zone of the default channel.
const DefaultZoneName = "Default Zone"

// Zone is Vendure's Zone as far as a Channel names one (its default tax
// and shipping zones). Members (countries, provinces) are not kept.
type Zone struct {
	bun.BaseModel `bun:"table:zone,alias:z"`

	ID        ID        `bun:"id,pk,autoincrement"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
	Name      string    `bun:"name,notnull"`
}
