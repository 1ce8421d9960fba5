//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package migrations

import (
	"errors"
	"os"
	"syscall"
)

// tryLockFile takes an exclusive flock on f unless another open file holds
// one; it reports whether it did. Locks taken through different opens of
// one file exclude each other in one process too.
func tryLockFile(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		default:
			return false, err
		}
	}
}

// unlockFile does nothing: closing f releases its flock, and the kernel
// closes it when the process exits.
func unlockFile(*os.File) {}
