// Package service is the root of the business rules; its sub-packages hold
// them, one per domain, with one direction of dependency (each may import
// only those listed before it):
//
//   - outcome: what the services answer besides success (Vendure's
//     ErrorResults as Outcome, refusals, sentinels); imports none of them.
//   - ratelimit: the throttling rules (failed logins, tokens, mails,
//     checkout) and client addresses.
//   - session: the session owner: the only writer of session rows, the
//     session cache, its sync loop and guard, tokens, and the transaction
//     type (Tx) whose after-commit work every service uses.
//   - access: channels, roles, users and the customer-channel link.
//   - account: login and logout (AuthService), registration,
//     verification, passwords and the customer profile.
//   - order: carts, merge at login, checkout and order history.
//   - catalog: product variants.
//   - seed: what the first start needs (access and catalog).
//
// A lower package that must reach a higher one declares a small interface
// or function type where it is used, and app.New passes the higher
// service: session.Config.AssignCustomerFunc (access), account.Carts
// (order), session.Config.AccessSyncFunc (access). docs/design.md draws
// the directions.
//
// Each service is built from a Config struct whose zero fields take
// documented defaults; a missing required field is an error from the
// constructor (package internal/setup). The tests in this directory run
// the services together against every database and cache.
package service
