package password

import (
	"runtime"
	"syscall"
)

// lowerThreadPriority locks the calling goroutine to its OS thread and
// raises that thread's nice value by niceIncrement (at most 19). On Linux
// the nice value belongs to the thread. The goroutine must then exit
// without unlocking: Go ends the thread with it, so no lowered thread ever
// runs another goroutine. It is best effort: an error leaves the priority
// as it was.
func lowerThreadPriority() {
	runtime.LockOSThread()
	tid := syscall.Gettid()
	// The raw system call answers 20 - nice (man 2 getpriority).
	raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		return
	}
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, min(19, 20-raw+niceIncrement))
}
