// Package audit is the log of administrative changes: who created,
// changed or deleted which channel, role, administrator or customer, who
// ended which sessions and who erased whose personal data, with the time,
// the request's channel and the client address.
//
// An entry is written by the service that makes the change, in the change's
// own transaction (Record takes it), so a change is never committed without
// its entry and an entry never describes a change that rolled back.
//
// What an entry keeps outlives what it names: the actor's identifier is
// copied, and no foreign key ties an entry to a row. An entry holds no
// personal data of whom it concerns: its Detail names the fields that
// changed and the values of access settings (roles, permissions,
// channels), never a name, an address or a password, so erasing a
// customer's personal data leaves none behind in the log.
package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/shopsession/sessionserver/entity"
)

// Action is what was done.
type Action string

// The actions. SessionsEnded is an administrator ending sessions (the
// Detail says how many); Erased is a customer's personal data erased.
const (
	Created       Action = "CREATED"
	Updated       Action = "UPDATED"
	Deleted       Action = "DELETED"
	SessionsEnded Action = "SESSIONS_ENDED"
	Erased        Action = "ERASED"
)

// The kinds of entity an entry concerns.
const (
	Channel       = "Channel"
	Role          = "Role"
	Administrator = "Administrator"
	Customer      = "Customer"
	Session       = "Session"
	User          = "User"
	Order         = "Order"
)

// Actor is who made a change: an administrator's user, its identifier as
// it was at the time, the client's address and the request's channel.
// The zero Actor is the server itself (the seed, the app, a job).
type Actor struct {
	UserID        *entity.ID
	Identifier    string
	ClientAddress string
	ChannelID     *entity.ID
}

// Entry is one change: an action on an entity (EntityID nil when the
// action concerns no single row), and its detail.
type Entry struct {
	Action     Action
	EntityType string
	EntityID   *entity.ID
	// Detail says what changed, in words or as "field: value" pairs: no
	// personal data (see the package comment).
	Detail string
}

// Row is an entry as stored and listed.
type Row struct {
	bun.BaseModel `bun:"table:audit_entry,alias:a"`

	ID              entity.ID  `bun:"id,pk,autoincrement"`
	CreatedAt       time.Time  `bun:"created_at,notnull"`
	ActorUserID     *entity.ID `bun:"actor_user_id"`
	ActorIdentifier string     `bun:"actor_identifier,notnull"`
	ClientAddress   string     `bun:"client_address,notnull"`
	ChannelID       *entity.ID `bun:"channel_id"`
	Action          Action     `bun:"action,notnull"`
	EntityType      string     `bun:"entity_type,notnull"`
	EntityID        *entity.ID `bun:"entity_id"`
	Detail          string     `bun:"detail,notnull"`
}

// Record writes an entry by an actor at now, through db: the transaction
// of the change it describes.
func Record(ctx context.Context, db bun.IDB, now time.Time, by Actor, e Entry) error {
	row := &Row{
		CreatedAt:       now.UTC(),
		ActorUserID:     by.UserID,
		ActorIdentifier: by.Identifier,
		ClientAddress:   by.ClientAddress,
		ChannelID:       by.ChannelID,
		Action:          e.Action,
		EntityType:      e.EntityType,
		EntityID:        e.EntityID,
		Detail:          e.Detail,
	}
	if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("audit %s %s: %w", e.Action, e.EntityType, err)
	}
	return nil
}

// IDOf is a pointer to id, for Entry.EntityID.
func IDOf(id entity.ID) *entity.ID { return &id }

// EraseClientAddresses blanks the client address of up to batchSize
// entries written before cutoff, oldest first, and returns how many it
// changed (the metadata retention: SESSION_METADATA_RETENTION). The
// entries themselves stay. It walks audit_entry_created_idx.
func EraseClientAddresses(ctx context.Context, db bun.IDB, cutoff time.Time, batchSize int) (int64, error) {
	res, err := db.NewRaw(`UPDATE audit_entry SET client_address = '' WHERE id IN (
		SELECT id FROM audit_entry WHERE created_at < ? AND client_address <> '' ORDER BY created_at, id LIMIT ?)`,
		cutoff.UTC(), batchSize).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("erase audit client addresses: %w", err)
	}
	return res.RowsAffected()
}
