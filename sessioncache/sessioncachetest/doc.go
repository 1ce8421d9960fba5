// Package sessioncachetest is the conformance kit of sessioncache.Strategy:
// Exercise, the suite every strategy must pass (it runs on Memory, Noop,
// redisstore.Store and redisstore.Tiered; run it on any new strategy), the
// sessions it stores (FullSession, AnonymousSession), and a Spy that
// records the calls a strategy receives, for tests of the code that uses a
// cache.
package sessioncachetest
