// Package sessioncachetest is the conformance kit of sessioncache.Strategy:
// the suite every strategy must pass, and a Spy that records the calls a
// strategy receives, for tests of the code that uses a cache.
package sessioncachetest
