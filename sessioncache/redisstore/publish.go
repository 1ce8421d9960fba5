package redisstore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
)

// Every write of a Store is announced on a Redis pub/sub channel, so that
// a process keeping copies of entries in its own memory (Tiered) drops
// them: a Set announces its key (the copy elsewhere is older), a Delete its
// keys, a Clear the floor it raised. The announcement is made by Redis
// itself after the write, in the same script or pipeline, so a message is
// never received before the write it announces is visible, and a write that
// failed is announced by the retry that applies it (the outbox, for
// revocations).
//
// Every Store announces, whatever strategy its process runs, so that
// instances running "redis" and "redis+memory" of this build can share a
// Redis: a revocation made by either reaches the memory of the other.
//
// An announcement Redis refuses for want of permission (NOPERM: a Redis 7
// ACL user has no channels unless given them) is skipped and the write
// stands: the same user cannot subscribe either, so no process of it reads
// a memory tier (Tiered never confirms its subscription), and a "redis"
// deployment without the permission works as before. Processes sharing a
// prefix must use users with the same channel permissions.
//
// A message is text, one of:
//
//	1|<sender>|e|<len>:<key><len>:<key>…   drop these keys
//	1|<sender>|c|<floor>                   drop everything (a Clear)
//	1|<sender>|m|<sequence>                a marker, for its sender only
//
// <sender> names the Store that wrote it (its process skips its own
// drops). A marker is what a Tiered publishes to confirm its subscription
// (Confirm): every other process ignores it. A receiver that cannot read a
// message (another version, a damaged one) drops everything it holds, so a
// format change is never a missed invalidation.

// invalidationsChannel is the suffix of the channel name after the key
// prefix: several caches sharing a Redis do not hear each other.
const invalidationsChannel = "invalidations"

// messageVersion starts every message.
const messageVersion = "1"

// errBadMessage reports a message a receiver cannot read.
var errBadMessage = errors.New("sessioncache: unreadable invalidation message")

// newSender returns a random name for a Store's messages.
func newSender() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

// evictMessage returns the message that drops keys.
func (r *Store) evictMessage(keys ...string) string {
	n := len(r.messagePrefix) + 2
	for _, k := range keys {
		n += len(k) + 4
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(r.messagePrefix)
	b.WriteString("e|")
	for _, k := range keys {
		b.WriteString(strconv.Itoa(len(k)))
		b.WriteByte(':')
		b.WriteString(k)
	}
	return b.String()
}

// clearMessagePrefix is the message that drops everything, without the
// floor: clearScript appends it.
func (r *Store) clearMessagePrefix() string { return r.messagePrefix + "c|" }

// markerMessage returns the marker of sequence seq.
func (r *Store) markerMessage(seq uint64) string {
	return r.messagePrefix + "m|" + strconv.FormatUint(seq, 10)
}

// invalidation is a message read back: a drop of keys, a clear, or a
// marker.
type invalidation struct {
	sender string
	clear  bool
	floor  uint64 // with clear
	marker bool
	seq    uint64   // with marker
	keys   []string // without clear or marker
}

// parseMessage reads a message; see the top of this file.
func parseMessage(m string) (invalidation, error) {
	var v invalidation
	version, rest, ok := strings.Cut(m, "|")
	if !ok || version != messageVersion {
		return v, errBadMessage
	}
	v.sender, rest, ok = strings.Cut(rest, "|")
	if !ok {
		return v, errBadMessage
	}
	kind, rest, ok := strings.Cut(rest, "|")
	if !ok {
		return v, errBadMessage
	}
	switch kind {
	case "m":
		seq, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			return v, errBadMessage
		}
		v.marker, v.seq = true, seq
		return v, nil
	case "c":
		floor, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			return v, errBadMessage
		}
		v.clear, v.floor = true, floor
		return v, nil
	case "e":
		for rest != "" {
			size, tail, ok := strings.Cut(rest, ":")
			n, err := strconv.Atoi(size)
			if !ok || err != nil || n < 0 || n > len(tail) {
				return v, errBadMessage
			}
			v.keys = append(v.keys, tail[:n])
			rest = tail[n:]
		}
		return v, nil
	default:
		return v, errBadMessage
	}
}
