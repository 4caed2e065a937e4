package heliumid

import (
	"context"
	"sync"
	"time"
)

// cooldown is a Client's pause of one request class after a 429 with
// Retry-After: every request of that class waits until the same instant,
// instead of each goroutine sending on and collecting its own 429.
type cooldown struct {
	mu    sync.Mutex
	until time.Time
	cause *APIError // the 429 that set until (a copy no caller holds), for the fail-fast error
}

// extend moves the end of the pause to until, unless it already ends later.
func (cd *cooldown) extend(until time.Time, cause *APIError) {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	if until.After(cd.until) {
		cd.until, cd.cause = until, cause
	}
}

// end is when the pause ends.
func (cd *cooldown) end() time.Time {
	until, _ := cd.current()
	return until
}

func (cd *cooldown) current() (time.Time, *APIError) {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	return cd.until, cd.cause
}

// wait blocks until the pause is over (see check).
func (cd *cooldown) wait(ctx context.Context, maxWait time.Duration) error {
	for {
		left, err := cd.check(ctx, maxWait)
		if err != nil || left <= 0 {
			return err
		}
		if err := sleep(ctx, left); err != nil {
			return err
		}
		// Another caller may have extended the pause meanwhile: look again.
	}
}

// check returns how much of the pause is left. When that is longer than
// maxWait, or would outlast ctx's deadline, it returns an error matching
// ErrRateLimited whose RetryAfter is the time left, so the caller fails at
// once rather than waiting in vain.
func (cd *cooldown) check(ctx context.Context, maxWait time.Duration) (time.Duration, error) {
	until, cause := cd.current()
	left := time.Until(until)
	if left <= 0 {
		return 0, nil
	}
	if left > maxWait || outlastsDeadline(ctx, left) {
		e := cause.clone() // the caller's own: it may keep or change it
		e.RetryAfter = left
		e.attempts = 0
		e.kind = ErrRateLimited
		e.Message = "an earlier 429 paused this client for " + humanDuration(left) + " more, longer than the Retry-After cap or the context allows"
		return left, e
	}
	return left, nil
}
