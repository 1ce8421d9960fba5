package sessioncachetest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
	"github.com/shopsession/sessionserver/sessioncache"
)

// The cases of Exercise about removing entries: Delete, Clear, the
// generation that keeps a write in flight from undoing them, and all of it
// at once from many goroutines.

func (x suite) delete(t *testing.T, s sessioncache.Strategy) {
	set(t, s, "a", FullSession())
	set(t, s, "b", AnonymousSession())
	require.NoError(t, s.Delete(t.Context(), "a"))
	require.Nil(t, get(t, s, "a"))
	x.requireStored(t, AnonymousSession(), get(t, s, "b"), "other key after Delete")
}

func (x suite) deleteMissing(t *testing.T, s sessioncache.Strategy) {
	require.NoError(t, s.Delete(t.Context(), "missing"))
}

func (x suite) deleteMany(t *testing.T, s sessioncache.Strategy) {
	for i := range 5 {
		set(t, s, "k"+strconv.Itoa(i), FullSession())
	}
	require.NoError(t, s.Delete(t.Context(), "k0", "k2", "k4", "missing"))
	require.NoError(t, s.Delete(t.Context()), "Delete of no key")
	for i := range 5 {
		got := get(t, s, "k"+strconv.Itoa(i))
		if i%2 == 0 {
			require.Nil(t, got, "k%d was deleted", i)
		} else {
			x.requireStored(t, FullSession(), got, fmt.Sprintf("k%d was not deleted", i))
		}
	}
}

func (x suite) clear(t *testing.T, s sessioncache.Strategy) {
	for i := range 10 {
		set(t, s, "k"+strconv.Itoa(i), FullSession())
	}
	require.NoError(t, s.Clear(t.Context()))
	for i := range 10 {
		require.Nil(t, get(t, s, "k"+strconv.Itoa(i)), "k%d after Clear", i)
	}
	require.NoError(t, s.Clear(t.Context()), "Clear of an empty cache")
	set(t, s, "k0", AnonymousSession())
	x.requireStored(t, AnonymousSession(), get(t, s, "k0"), "Set after Clear")
}

// A write whose generation was taken before a Delete of its key (a login
// or a lookup that read the session before a logout deleted it) must not
// bring the key back.
func (x suite) setAfterDeleteWithOlderGeneration(t *testing.T, s sessioncache.Strategy) {
	ctx := t.Context()
	set(t, s, "k", FullSession())
	before := s.Generation()
	require.NoError(t, s.Delete(ctx, "k"))
	require.NoError(t, s.Set(ctx, "k", FullSession(), before))
	require.Nil(t, get(t, s, "k"), "a write in flight during Delete resurrected the key")

	// Other keys written with that generation are not affected.
	require.NoError(t, s.Set(ctx, "other", AnonymousSession(), before))
	x.requireStored(t, AnonymousSession(), get(t, s, "other"), "another key")
}

// A write whose generation was taken after a Delete of its key (the
// revoked user's next request, which reads the session again) is stored:
// a revocation does not turn the key into a permanent miss. A write in
// flight from before the Delete still cannot replace it, however late it
// arrives.
func (x suite) setAfterDeleteWithNewerGeneration(t *testing.T, s sessioncache.Strategy) {
	ctx := t.Context()
	set(t, s, "k", FullSession())
	before := s.Generation()
	require.NoError(t, s.Delete(ctx, "k"))
	require.NoError(t, s.Set(ctx, "k", AnonymousSession(), s.Generation()))
	x.requireStored(t, AnonymousSession(), get(t, s, "k"), "a write whose data was read after Delete")

	require.NoError(t, s.Set(ctx, "k", FullSession(), before))
	x.requireStored(t, AnonymousSession(), get(t, s, "k"), "a write in flight during Delete, arriving after a newer one")

	// A second Delete revokes the key again, for writes from before it.
	between := s.Generation()
	require.NoError(t, s.Delete(ctx, "k"))
	require.NoError(t, s.Set(ctx, "k", FullSession(), between))
	require.Nil(t, get(t, s, "k"), "a write from before the second Delete")
	require.NoError(t, s.Set(ctx, "k", FullSession(), s.Generation()))
	x.requireStored(t, FullSession(), get(t, s, "k"), "a write after the second Delete")
}

// Clear is a generation change: entries written before are gone, and a
// write whose generation was taken before the Clear is not readable.
func (x suite) setAfterClearWithOlderGeneration(t *testing.T, s sessioncache.Strategy) {
	ctx := t.Context()
	before := s.Generation()
	require.NoError(t, s.Clear(ctx))
	require.NoError(t, s.Set(ctx, "k", FullSession(), before))
	require.Nil(t, get(t, s, "k"), "a write that predates Clear is readable")

	set(t, s, "k", FullSession())
	x.requireStored(t, FullSession(), get(t, s, "k"), "a write after Clear")
}

func (x suite) concurrent(t *testing.T, s sessioncache.Strategy) {
	const goroutines, perGoroutine = 16, 40
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			errs <- x.concurrentWorker(t.Context(), s, g, perGoroutine)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// concurrentWorker sets and gets its own keys and a key shared by every
// worker, and reports the first inconsistency. It returns errors rather
// than failing the test, which only the test's goroutine may do.
func (x suite) concurrentWorker(ctx context.Context, s sessioncache.Strategy, g, n int) error {
	for i := range n {
		key := fmt.Sprintf("g%d-%d", g, i)
		v := FullSession()
		v.ID = entity.ID(g*1000 + i)
		if err := s.Set(ctx, key, v, s.Generation()); err != nil {
			return err
		}
		if err := s.Set(ctx, "shared", v, s.Generation()); err != nil {
			return err
		}
		got, err := s.Get(ctx, key)
		if err != nil {
			return err
		}
		switch {
		case x.storesNothing && got != nil:
			return fmt.Errorf("Get(%s) = %+v from a strategy that stores nothing", key, got)
		case !x.storesNothing && (got == nil || got.ID != v.ID || got.User == nil || got.User.Identifier != v.User.Identifier):
			return fmt.Errorf("Get(%s) = %+v, want ID %d", key, got, v.ID)
		}
		got, err = s.Get(ctx, "shared")
		if err != nil {
			return err
		}
		switch {
		case x.storesNothing && got != nil:
			return fmt.Errorf("Get(shared) = %+v from a strategy that stores nothing", got)
		case !x.storesNothing && (got == nil || got.ID%1000 >= entity.ID(n) || got.User.ChannelPermissions.Len() != 2):
			return fmt.Errorf("Get(shared) = %+v, not a value any worker set", got)
		}
		if i%10 == 9 {
			if err := s.Delete(ctx, key); err != nil {
				return err
			}
		}
	}
	return nil
}
