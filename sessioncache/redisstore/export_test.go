package redisstore

// Internals the external tests (package sessioncache_test, which can
// import the conformance kit without an import cycle) need to see.

// EscapeGlob is escapeGlob.
var EscapeGlob = escapeGlob

// KeyPrefix returns the prefix r puts in front of every key.
func (r *Store) KeyPrefix() string { return r.keyPrefix }
