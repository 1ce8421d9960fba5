package sessioncache_test

import (
	"context"
	"testing"

	"github.com/shopsession/sessionserver/sessioncache"
	"github.com/shopsession/sessionserver/sessioncache/sessioncachetest"
)

// BenchmarkMemoryGet measures a Memory hit, with a key as SessionService
// makes them (64 hex digits, stored as their 32 bytes) and with any other
// key (hashed first).
func BenchmarkMemoryGet(b *testing.B) {
	for name, key := range map[string]string{"hex-key": memsizeKey(1), "other-key": "key"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			m, err := sessioncache.NewMemoryWithOptions(sessioncache.MemoryOptions{MaxEntries: 1000})
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Set(ctx, key, sessioncachetest.FullSession(), m.Generation()); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				s, err := m.Get(ctx, key)
				if s == nil || err != nil {
					b.Fatalf("Get = %v, %v", s, err)
				}
			}
		})
	}
}
