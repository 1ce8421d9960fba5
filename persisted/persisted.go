// Package persisted holds GraphQL documents by id, so that a client can send
// an id instead of a document:
//   - automatic persisted queries (APQ, Apollo's protocol): a client
//     registers a document under its SHA-256 hash by sending both once, and
//     afterwards sends the hash alone. The documents live in a Store: this
//     process's Memory, or Redis shared by every instance (Redis, behind a
//     Fallback to Memory while Redis fails);
//   - registered documents (an allow-list): Documents, loaded from a file
//     at start (Load), from a JSON manifest or a .graphql file.
//
// Every store is bounded: Memory by the bytes it holds (least recently used
// first out), Redis by the bytes registered per TTL, and neither takes a
// document longer than MaxDocumentBytes.
package persisted

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// MaxDocumentBytes is the longest document a Store takes: longer ones are
// not stored (Add does nothing), and their clients send them whole each
// time. A storefront's documents are a few KB, an admin UI's largest a few
// tens of KB.
const MaxDocumentBytes = 64 << 10

// DefaultCacheBytes is APQ_CACHE_BYTES's default: the bytes of documents a
// Memory holds, and that may be registered in Redis per TTL.
const DefaultCacheBytes = 8 << 20

// Store holds documents registered by clients (APQ), by their hash (Hash).
// Get's error and Add's are for a store that could not be reached; a
// document that is not there is a miss (ok false, nil error).
type Store interface {
	Get(ctx context.Context, hash string) (doc string, ok bool, err error)
	Add(ctx context.Context, hash, doc string) error
}

// ErrFull is Redis.Add's error when the bytes registered in the current
// TTL window already reached the budget: the document is not stored there
// (a Fallback stores it in memory instead).
var ErrFull = errors.New("persisted: the Redis store's budget for this window is spent")

// Hash is the id of a document in APQ: the lowercase hex SHA-256 of its
// text, byte for byte.
func Hash(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// IsHash reports whether s has the form of a Hash: 64 lowercase hex
// digits (Apollo clients send lowercase).
func IsHash(s string) bool { return isHex(s, sha256.Size*2) }

// isHex reports whether s is n lowercase hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// entryBytes is what an entry counts against a byte budget: its hash, its
// document and a fixed overhead for the bookkeeping around them.
func entryBytes(hash, doc string) int64 { return int64(len(hash) + len(doc) + 64) }
