package heliumid

import (
	"context"
	"time"
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
