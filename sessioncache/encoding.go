package sessioncache

import (
	"bytes"
	"encoding/json"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
)

// channelPermissionsJSON is the cached form of ChannelPermissions: the
// permissions travel as one comma-separated string. A superadmin session
// holds ~90 permissions per channel; decoding them as a JSON array of
// strings was ~40% of the CPU of a Redis cache hit.
type channelPermissionsJSON struct {
	ID          entity.ID `json:"id"`
	Token       string    `json:"token"`
	Code        string    `json:"code"`
	Permissions *string   `json:"permissions"` // null for a nil list
}

// MarshalJSON implements json.Marshaler.
func (c ChannelPermissions) MarshalJSON() ([]byte, error) {
	raw := channelPermissionsJSON{ID: c.ID, Token: c.Token, Code: c.Code}
	if c.Permissions != nil {
		var b bytes.Buffer
		for i, p := range c.Permissions {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(string(p))
		}
		joined := b.String()
		raw.Permissions = &joined
	}
	return json.Marshal(raw)
}

// UnmarshalJSON implements json.Unmarshaler. Known permission names are
// interned (no allocation per permission).
func (c *ChannelPermissions) UnmarshalJSON(data []byte) error {
	var raw channelPermissionsJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	c.ID, c.Token, c.Code = raw.ID, raw.Token, raw.Code
	if raw.Permissions == nil {
		c.Permissions = nil
		return nil
	}
	rest := []byte(*raw.Permissions)
	c.Permissions = make([]auth.Permission, 0, bytes.Count(rest, []byte{','})+1)
	if len(rest) == 0 {
		return nil
	}
	for {
		i := bytes.IndexByte(rest, ',')
		if i < 0 {
			c.Permissions = append(c.Permissions, auth.Intern(rest))
			return nil
		}
		c.Permissions = append(c.Permissions, auth.Intern(rest[:i]))
		rest = rest[i+1:]
	}
}
