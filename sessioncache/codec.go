package sessioncache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
)

// codecFormat is the version of the layout a Codec writes. Change it with
// any change of that layout (a field renamed, retyped or encoded
// differently): an entry of another format must be a miss, never misread.
// Format 1 was the unversioned "<generation>|<JSON>" with the permissions as
// indexes into auth.All(), whose values do not start with a Codec ID.
const codecFormat = 2

// Codec is the serialized form of a CachedSession in a cache shared by
// several processes (Redis), and its identity.
//
// A superadmin session holds every permission on each channel, and decoding
// them as a JSON array of names was a large share of a Redis cache hit
// (docs/benchmarks.md, "Cached `me`"). So a channel's permission list travels as one short string: "i:" and two hex
// digits per permission, its index in the Codec's permission list (names
// separated by commas when one of them is not in that list). An index means
// something only to a process with the same list, and a new permission is
// inserted in the middle of Vendure's order: read with another list, an
// entry would grant shifted permissions. So every value a Codec writes is
// named by its ID, the format version and a hash of the permission list
// ("s2.<16 hex digits>"), and a reader skips, as a miss, every value not
// written under its own ID.
//
// A Codec is immutable and safe for concurrent use.
type Codec struct {
	id    string
	perms []auth.Permission
	index map[auth.Permission]byte
	// native: perms is auth.All(), so indexes are auth.Index, the canonical
	// keys of the intern table, and interned sets hold their encoding.
	native bool
}

// NewCodec returns the codec whose indexes refer to perms, in order. Its ID
// is derived from the list: processes built with different permission
// lists never read each other's entries.
func NewCodec(perms []auth.Permission) *Codec {
	names := make([]string, len(perms))
	for i, p := range perms {
		names[i] = string(p)
	}
	sum := sha256.Sum256([]byte(strings.Join(names, ",")))
	c := &Codec{
		id:    "s" + strconv.Itoa(codecFormat) + "." + hex.EncodeToString(sum[:8]),
		perms: append([]auth.Permission(nil), perms...),
		index: make(map[auth.Permission]byte, len(perms)),
	}
	c.native = len(perms) <= 0x100
	for i, p := range perms {
		if i < 0x100 {
			if _, dup := c.index[p]; !dup {
				c.index[p] = byte(i)
			}
		}
		if j, ok := auth.Index(p); !ok || j != i {
			c.native = false
		}
	}
	if len(perms) != len(auth.All()) {
		c.native = false
	}
	return c
}

// defaultCodec is the codec of this build's permission list, auth.All().
var defaultCodec = NewCodec(auth.All())

// DefaultCodec returns the codec of this build's permission list
// (auth.All()), made once.
func DefaultCodec() *Codec { return defaultCodec }

// ID names the codec: "s", the format version, ".", and the first 8 bytes
// of the SHA-256 of the permission names joined by commas, in hex.
func (c *Codec) ID() string { return c.id }

// errNotThisCodec is what decode returns for a value written under
// another ID; readers treat it as a miss.
var errNotThisCodec = errors.New("sessioncache: entry of another codec")

// The wire form of a CachedSession: the struct's own JSON, except for the
// user's channel permissions, which the codec encodes.
type (
	sessionOut struct {
		*CachedSession
		User *userOut `json:"user,omitempty"`
	}
	userOut struct {
		*CachedUser
		ChannelPermissions setOut `json:"channelPermissions"`
	}
	setOut struct {
		c   *Codec
		set PermissionSet
	}
	sessionIn struct {
		CachedSession
		User *userIn `json:"user,omitempty"`
	}
	userIn struct {
		CachedUser
		ChannelPermissions []channelWire `json:"channelPermissions"`
	}
	// channelWire is one channel of a permission set: its permissions in
	// the codec's compact form, or null for a nil list.
	channelWire struct {
		ID          entity.ID `json:"id"`
		Token       string    `json:"token"`
		Code        string    `json:"code"`
		Permissions *string   `json:"permissions"`
	}
)

// AppendSession appends the codec's encoding of s (without its Token) to
// dst: the JSON of s, with compact permission lists. The caller stores it
// with the codec's ID, and decodes it with this codec only.
func (c *Codec) AppendSession(dst []byte, s *CachedSession) ([]byte, error) {
	out := sessionOut{CachedSession: s}
	if s.User != nil {
		out.User = &userOut{CachedUser: s.User, ChannelPermissions: setOut{c: c, set: s.User.ChannelPermissions}}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return dst, fmt.Errorf("sessioncache: encoding session: %w", err)
	}
	return append(dst, b...), nil
}

// DecodeSession decodes what AppendSession wrote: a new value, whose
// permission set is the interned one of its content.
func (c *Codec) DecodeSession(data []byte) (*CachedSession, error) {
	in := new(sessionIn)
	if err := json.Unmarshal(data, in); err != nil {
		return nil, fmt.Errorf("sessioncache: decoding cached session: %w", err)
	}
	s := &in.CachedSession
	if in.User != nil {
		set, err := c.decodeSet(in.User.ChannelPermissions)
		if err != nil {
			return nil, fmt.Errorf("sessioncache: decoding cached session: %w", err)
		}
		in.User.ChannelPermissions = nil
		s.User = &in.User.CachedUser
		s.User.ChannelPermissions = set
	}
	return s, nil
}

// MarshalJSON encodes the set in the codec's form. The native codec's
// encoding is made once per interned set.
func (o setOut) MarshalJSON() ([]byte, error) {
	if o.set.set == nil {
		return []byte("null"), nil
	}
	if o.c.native {
		return o.set.set.compact, nil // encoding/json copies it
	}
	return o.c.encodeChannels(o.set.set.channels), nil
}

// encodeChannels is the JSON of channels in the codec's form.
func (c *Codec) encodeChannels(channels []Channel) []byte {
	list := make([]channelWire, len(channels))
	for i, ch := range channels {
		list[i] = channelWire{ID: ch.id, Token: ch.token, Code: ch.code}
		if perms := ch.granted.List(); perms != nil {
			s := c.encodePermissions(perms)
			list[i].Permissions = &s
		}
	}
	b, err := json.Marshal(list)
	if err != nil { // cannot happen: strings and numbers
		panic(fmt.Sprintf("sessioncache: encoding a permission set: %v", err))
	}
	return b
}

const indexPrefix = "i:"

// encodePermissions is the compact form of perms: "i:" and their indexes
// in the codec's list, or their names separated by commas when one is not
// in it.
func (c *Codec) encodePermissions(perms []auth.Permission) string {
	idx := make([]byte, 0, len(perms))
	for _, p := range perms {
		i, ok := c.index[p]
		if !ok {
			idx = nil
			break
		}
		idx = append(idx, i)
	}
	if idx != nil || len(perms) == 0 {
		return indexPrefix + hex.EncodeToString(idx)
	}
	var b strings.Builder
	for i, p := range perms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(p))
	}
	return b.String()
}

// decodePermissions decodes what encodePermissions wrote.
func (c *Codec) decodePermissions(b []byte) ([]auth.Permission, error) {
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
			if int(n[0]) >= len(c.perms) {
				return nil, fmt.Errorf("cached permissions: unknown index %d", n[0])
			}
			out = append(out, c.perms[n[0]])
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

// decodeSet returns the interned set of raw (nil for a nil list). Sets
// already interned are found from the encoded form alone: with the native
// codec the permission lists are decoded only for a set not in use yet, so
// a cache hit allocates no permission list.
func (c *Codec) decodeSet(raw []channelWire) (PermissionSet, error) {
	if raw == nil {
		return PermissionSet{}, nil
	}
	var buf [512]byte
	key := buf[:0]
	for _, ch := range raw {
		key = appendChannelKey(key, ch.ID, ch.Token, ch.Code)
		var err error
		if key, err = c.appendEncodedPermissionsKey(key, ch.Permissions); err != nil {
			return PermissionSet{}, err
		}
	}
	if set, ok := permissionSets.lookup(key); ok {
		return set, nil
	}
	channels := make([]Channel, len(raw))
	for i, ch := range raw {
		channels[i] = Channel{id: ch.ID, token: ch.Token, code: ch.Code}
		if ch.Permissions == nil {
			continue
		}
		perms, err := c.decodePermissions([]byte(*ch.Permissions))
		if err != nil {
			return PermissionSet{}, err
		}
		channels[i].granted = auth.Grant(perms)
	}
	return permissionSets.insert(key, channels), nil
}

// appendEncodedPermissionsKey appends the intern key of a permission list
// in the codec's compact form. With the native codec the index form, the
// normal case, maps byte for byte without building the list; otherwise the
// list is decoded first.
func (c *Codec) appendEncodedPermissionsKey(key []byte, enc *string) ([]byte, error) {
	if enc == nil {
		return append(key, keyNilPermissions), nil
	}
	hexs, ok := strings.CutPrefix(*enc, indexPrefix)
	if !ok || !c.native {
		perms, err := c.decodePermissions([]byte(*enc))
		if err != nil {
			return nil, err
		}
		return appendPermissionsKey(key, perms), nil
	}
	return appendIndexKey(key, hexs, len(c.perms))
}
