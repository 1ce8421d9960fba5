// Package service holds the business rules: sessions, authentication,
// channels, roles and users. Resolvers call it; it calls bun and the session
// cache. Every rule lives here once.
//
// Each service is built from a Config struct (SessionConfig, AuthConfig,
// ChannelConfig, RoleConfig, UserConfig) whose zero fields take documented
// defaults; a missing required field is an error from the constructor.
//
// SessionService follows Vendure's SessionService method by method; its
// files are split by concept: session.go (construction), token.go,
// session_lookup.go (GetSessionFromToken, serialization),
// session_write.go (creating and changing sessions), session_delete.go
// (deletions and clean-up), cachesync.go and cacheguard.go (the cache and
// the revocation invariant).
package service
