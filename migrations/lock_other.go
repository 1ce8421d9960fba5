//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package migrations

import (
	"os"
	"sync"
)

// processLocks holds, by lock file name, a semaphore that serialises the
// callers of this process: without flock, other processes are not kept out.
var processLocks sync.Map // string -> chan struct{}

func fileSemaphore(f *os.File) chan struct{} {
	sem, _ := processLocks.LoadOrStore(f.Name(), make(chan struct{}, 1))
	return sem.(chan struct{})
}

func tryLockFile(f *os.File) (bool, error) {
	select {
	case fileSemaphore(f) <- struct{}{}:
		return true, nil
	default:
		return false, nil
	}
}

func unlockFile(f *os.File) { <-fileSemaphore(f) }
