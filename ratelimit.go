package heliumid

import (
	"context"
	"sync"
	"time"

	"github.com/heliumid/heliumid-go/internal/ctxwait"
)

// RateLimiter paces session creation so a backend stays under its plan's
// creation cap. Wait blocks until one more session may be created, or returns
// an error when ctx ends first (or, for some limiters, as soon as it knows
// the wait would outlast ctx's deadline).
//
// A *rate.Limiter from golang.org/x/time/rate satisfies it:
//
//	heliumid.WithRateLimiter(rate.NewLimiter(rate.Every(time.Second/5), 1)) // 5 sessions/s
//
// The Client calls Wait before every attempt of CreateVerification, retries
// included. Reads (GetVerification, ListVerifications) are not gated.
type RateLimiter interface {
	Wait(ctx context.Context) error
}

// CooldownSharer is implemented by a RateLimiter that can spread a
// server-imposed pause to other processes (the redisrate module does, through
// Redis). When a create it gated is answered 429 with Retry-After by the
// client's API (not by a middleware, not at a call's own base URL), the
// Client calls ShareCooldown with the time until which the server asked
// callers to wait, bounded by the Client's own Retry-After cap, never a
// call's (see [WithRetryAfterCap]); the limiter's Wait must then not return
// before that time, in any process sharing it. An error from ShareCooldown is logged and otherwise ignored:
// this process waits out the cool-down either way.
type CooldownSharer interface {
	ShareCooldown(ctx context.Context, until time.Time) error
}

// RateFeedback is implemented by a RateLimiter that adapts to what the
// server answers: the Client calls Feedback after every create attempt that
// got a response, with throttled true for a 429. The redisrate module's
// Limiter implements it, so that a fleet whose configured cap is too high
// converges on the real one together. Feedback must not block.
type RateFeedback interface {
	Feedback(throttled bool)
}

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
		if err := ctxwait.Sleep(ctx, left); err != nil {
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
	if left > maxWait || ctxwait.OutlastsDeadline(ctx, left) {
		e := cause.clone() // the caller's own: it may keep or change it
		e.RetryAfter = left
		e.attempts = 0
		e.kind = ErrRateLimited
		e.Message = "an earlier 429 paused this client for " + humanDuration(left) + " more, longer than the Retry-After cap or the context allows"
		return left, e
	}
	return left, nil
}
