package redisrate

import (
	"fmt"
	"log/slog"
	"time"
)

// Option configures a Limiter; pass options to New. An invalid value does not
// panic: the Limiter then refuses every Wait with an error matching
// ErrInvalidConfig.
type Option func(*Limiter)

// WithLocalFallback makes Wait fall back to an in-process pace with the same
// Limit while Redis cannot be reached, instead of failing (fail-closed, the
// default).
//
// Each process then creates up to the cap on its own, so N processes
// together may create up to N times the cap until Redis answers again; never
// more in any one period, including the periods in which Redis fails and
// comes back, since the slots a process takes from Redis around an outage
// count against its own pace too. The server's 429s, and the Client's
// cool-down after them, are then the backstop. Choose it when creating sessions matters more than staying
// under the cap during an outage.
//
// While Redis is down, Wait asks it again at most once per second (one caller
// probes, the others keep pacing locally) and returns to the shared cap as
// soon as it answers. Cool-downs shared through this Limiter are still
// honoured in this process.
func WithLocalFallback() Option {
	return func(l *Limiter) { l.fallback = l.limit.local() }
}

// WithMaxCooldown sets the longest shared cool-down Wait sits out (default
// 30 s, like the Client's Retry-After cap). When a process sharing the key has
// set a longer one, Wait fails at once with an error matching
// heliumid.ErrRateLimited rather than holding the caller for it. d must be
// positive. No shared cool-down lasts more than an hour (see ShareCooldown),
// so a d of an hour or more waits out every one.
func WithMaxCooldown(d time.Duration) Option {
	return func(l *Limiter) {
		if d <= 0 {
			l.fail(fmt.Errorf("%w: WithMaxCooldown(%v): the cap must be positive", ErrInvalidConfig, d))
			return
		}
		l.maxCooldown = d
	}
}

// WithLogger makes the Limiter log through lg when it switches to the local
// fallback (a warning with the Redis error) and back to the shared cap (info).
// It logs nothing per Wait. A nil lg disables logging (the default).
func WithLogger(lg *slog.Logger) Option {
	return func(l *Limiter) { l.logger = lg }
}
