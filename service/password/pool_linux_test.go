package password_test

import (
	"context"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/service/password"
)

// threadNice returns the nice value of the calling goroutine's thread, or
// -100 when it cannot be read.
func threadNice() int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if err != nil {
		return -100
	}
	return 20 - raw // the raw system call answers 20 - nice
}

// niceProbe is a Hasher that reports the nice value of the thread each
// call runs on.
type niceProbe struct{ seen chan int }

func (p niceProbe) Hash(context.Context, string) (string, error) {
	p.seen <- threadNice()
	return "probe", nil
}

func (p niceProbe) Check(context.Context, string, string) (bool, error) {
	p.seen <- threadNice()
	return true, nil
}

func (p niceProbe) Strength(string) password.Strength { return password.Current }

// TestPoolHashesAtLowerPriority: hashes run on threads niced 5 below the
// caller's, and the caller's thread keeps its priority.
func TestPoolHashesAtLowerPriority(t *testing.T) {
	t.Parallel()
	base := threadNice()
	require.GreaterOrEqual(t, base, -20)
	probe := niceProbe{seen: make(chan int, 2)}
	p := password.NewPool(probe, 1)

	ok, err := p.Check(context.Background(), "probe", "secret")
	require.NoError(t, err)
	require.True(t, ok)
	_, err = p.Hash(context.Background(), "secret")
	require.NoError(t, err)
	want := min(19, base+5)
	require.Equal(t, want, <-probe.seen, "check")
	require.Equal(t, want, <-probe.seen, "hash")
	require.Equal(t, base, threadNice(), "the caller's thread is untouched")
}
