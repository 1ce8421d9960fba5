package sessioncache

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"weak"

	"github.com/shopsession/sessionserver/auth"
	"github.com/shopsession/sessionserver/entity"
)

// permissionSets is the process's one intern table of permission sets, so
// that the memory cache, the Redis decoder and the database lookup all hand
// out the same value for the same content.
var permissionSets = internTable{sets: map[string]weak.Pointer[permissionSet]{}}

// internTable maps the canonical key of a set's content to the set, through
// a weak pointer: the table alone does not keep a set alive. Once no cached
// session, request or other holder uses a set, the collector frees it and
// a cleanup removes its key, so the table holds only sets in use and cannot
// grow without bound however many distinct sets come and go (e.g. roles
// edited over months). Go's unique package does the same for comparable
// values; a set holds slices, so it is not one, hence this small table.
type internTable struct {
	mu   sync.Mutex
	sets map[string]weak.Pointer[permissionSet]
}

// lookup returns the live set under key, if any. It does not allocate.
func (t *internTable) lookup(key []byte) (PermissionSet, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if wp, ok := t.sets[string(key)]; ok {
		if s := wp.Value(); s != nil {
			return PermissionSet{set: s}, true
		}
	}
	return PermissionSet{}, false
}

// insert interns channels (which the caller hands over and must not keep)
// under key, unless another caller got there first: then that set wins.
func (t *internTable) insert(key []byte, channels []Channel) PermissionSet {
	s := &permissionSet{channels: channels, compact: defaultCodec.encodeChannels(channels)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if wp, ok := t.sets[string(key)]; ok {
		if old := wp.Value(); old != nil {
			return PermissionSet{set: old}
		}
	}
	k := string(key)
	t.sets[k] = weak.Make(s)
	runtime.AddCleanup(s, t.forget, k)
	return PermissionSet{set: s}
}

// forget removes key once its set is gone, unless a new set with the same
// content was interned under it in the meantime.
func (t *internTable) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if wp, ok := t.sets[key]; ok && wp.Value() == nil {
		delete(t.sets, key)
	}
}

// len returns the number of keys in the table (for tests).
func (t *internTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sets)
}

// The canonical key of a set is, per channel in order: the ID (varint), the
// token and the code (each uvarint length + bytes), then the permissions:
//
//	0                                  nil list
//	1, uvarint n, n bytes              every permission known: its index in auth.All()
//	2, uvarint n, n × (uvarint len, name)   otherwise
//
// Every part is length-prefixed, so different contents never share a key.
const (
	keyNilPermissions   = 0
	keyIndexPermissions = 1
	keyNamedPermissions = 2
)

func appendChannelKey(key []byte, id entity.ID, token, code string) []byte {
	key = binary.AppendVarint(key, int64(id))
	key = binary.AppendUvarint(key, uint64(len(token)))
	key = append(key, token...)
	key = binary.AppendUvarint(key, uint64(len(code)))
	return append(key, code...)
}

func appendPermissionsKey(key []byte, perms []auth.Permission) []byte {
	if perms == nil {
		return append(key, keyNilPermissions)
	}
	start := len(key)
	key = append(key, keyIndexPermissions)
	key = binary.AppendUvarint(key, uint64(len(perms)))
	for _, p := range perms {
		i, ok := auth.Index(p)
		if !ok || i > 0xff {
			return appendNamedPermissionsKey(key[:start], perms)
		}
		key = append(key, byte(i))
	}
	return key
}

func appendNamedPermissionsKey(key []byte, perms []auth.Permission) []byte {
	key = append(key, keyNamedPermissions)
	key = binary.AppendUvarint(key, uint64(len(perms)))
	for _, p := range perms {
		key = binary.AppendUvarint(key, uint64(len(p)))
		key = append(key, p...)
	}
	return key
}

// appendIndexKey appends the key of a permission list in the compact
// index form (hexs, the hex digits after "i:") whose indexes are those of
// auth.All(): byte for byte. n is the length of the list they index.
func appendIndexKey(key []byte, hexs string, n int) ([]byte, error) {
	if len(hexs)%2 != 0 {
		return nil, fmt.Errorf("cached permissions: odd index list %q", hexs)
	}
	key = append(key, keyIndexPermissions)
	key = binary.AppendUvarint(key, uint64(len(hexs)/2))
	for i := 0; i < len(hexs); i += 2 {
		var b [1]byte
		if _, err := hex.Decode(b[:], []byte(hexs[i:i+2])); err != nil {
			return nil, fmt.Errorf("cached permissions: %w", err)
		}
		if int(b[0]) >= n {
			return nil, fmt.Errorf("cached permissions: unknown index %d", b[0])
		}
		key = append(key, b[0])
	}
	return key, nil
}
