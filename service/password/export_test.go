package password

import "time"

// SetTypical sets the pool's estimate of one hash's duration.
func (p *Pool) SetTypical(d time.Duration) { p.typical.Store(int64(d)) }

// Typical returns the pool's estimate of one hash's duration.
func (p *Pool) Typical() time.Duration { return time.Duration(p.typical.Load()) }
