package sessioncache

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
)

// channelPermissionsJSON is the cached form of ChannelPermissions. A
// superadmin session holds ~90 permissions per channel, and decoding them as
// a JSON array of strings was ~40% of the CPU of a Redis cache hit (a long
// comma-separated string still ~20%). So the list, in its order, travels as
// one short string:
//
//   - "i:" + two hex digits per permission, its index in auth.All(), when
//     every permission is a known one (the normal case);
//   - otherwise the names separated by commas.
//
// A nil list is null.
type channelPermissionsJSON struct {
	ID          entity.ID `json:"id"`
	Token       string    `json:"token"`
	Code        string    `json:"code"`
	Permissions *string   `json:"permissions"`
}

const indexPrefix = "i:"

// MarshalJSON implements json.Marshaler.
func (c ChannelPermissions) MarshalJSON() ([]byte, error) {
	raw := channelPermissionsJSON{ID: c.ID, Token: c.Token, Code: c.Code}
	if c.Permissions != nil {
		s := encodePermissions(c.Permissions)
		raw.Permissions = &s
	}
	return json.Marshal(raw)
}

func encodePermissions(perms []auth.Permission) string {
	idx := make([]byte, 0, len(perms))
	for _, p := range perms {
		i, ok := auth.Index(p)
		if !ok || i > 0xff {
			idx = nil
			break
		}
		idx = append(idx, byte(i))
	}
	if idx != nil || len(perms) == 0 {
		return indexPrefix + hex.EncodeToString(idx)
	}
	var b bytes.Buffer
	for i, p := range perms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(p))
	}
	return b.String()
}

// UnmarshalJSON implements json.Unmarshaler.
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
	perms, err := decodePermissions([]byte(*raw.Permissions))
	c.Permissions = perms
	return err
}

func decodePermissions(b []byte) ([]auth.Permission, error) {
	if rest, ok := bytes.CutPrefix(b, []byte(indexPrefix)); ok {
		if len(rest)%2 != 0 {
			return nil, fmt.Errorf("cached permissions: odd index list %q", b)
		}
		out := make([]auth.Permission, 0, len(rest)/2)
		for i := 0; i < len(rest); i += 2 {
			var n [1]byte
			if _, err := hex.Decode(n[:], rest[i:i+2]); err != nil {
				return nil, fmt.Errorf("cached permissions: %w", err)
			}
			p, ok := auth.ByIndex(int(n[0]))
			if !ok {
				return nil, fmt.Errorf("cached permissions: unknown index %d", n[0])
			}
			out = append(out, p)
		}
		return out, nil
	}
	out := make([]auth.Permission, 0, bytes.Count(b, []byte{','})+1)
	for len(b) > 0 {
		name, rest, _ := bytes.Cut(b, []byte{','})
		out = append(out, auth.Intern(name))
		b = rest
	}
	return out, nil
}
