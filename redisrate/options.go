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
// Redis is down when it fails or does not answer within the probe timeout
// (see WithProbeTimeout): a hung Redis falls back as a refused connection
// does, without each caller spending its deadline finding out. While Redis
// is down, Wait asks it again at most once per second (one caller probes,
// the others keep pacing locally) and returns to the shared cap as soon as
// it answers. Cool-downs shared through this Limiter are still honoured in
// this process.
func WithLocalFallback() Option {
	return func(l *Limiter) { l.fallback = l.limit.local() }
}

// WithMaxCooldown sets the longest shared cool-down Wait sits out (default
// 30 s, like the Client's Retry-After cap). When a process sharing the key has
// set a longer one, Wait fails at once with an error matching
// heliumid.ErrRateLimited rather than holding the caller for it. d must be
// positive. No shared cool-down lasts more than an hour (see ShareCooldown),
// whoever wrote it: one found in Redis with more left counts as an hour and
// is shortened to it. So a d of an hour or more waits out every one.
func WithMaxCooldown(d time.Duration) Option {
	return func(l *Limiter) {
		if d <= 0 {
			l.fail(fmt.Errorf("%w: WithMaxCooldown(%v): the cap must be positive", ErrInvalidConfig, d))
			return
		}
		l.maxCooldown = d
	}
}

// WithProbeTimeout sets how long Wait and ShareCooldown wait for Redis to
// answer before counting it as down (default 500 ms): with WithLocalFallback
// the caller then paces locally, without it Wait fails with an error
// matching ErrRedisUnavailable. go-redis's own timeouts (ReadTimeout times
// its attempts, seconds by default) go on bounding the call left running,
// but no caller waits for them. While Redis counts as down, callers do not
// ask it at all; one asks again at most once a second, and a call that
// answers after the timeout makes the next caller ask at once.
//
// Keep d well below the deadlines of your creates, so that they have time
// left for the fallback, and well above Redis's slowest healthy answer (a
// round trip, or a first dial with TLS), so that a slow moment is not an
// outage. d must be positive.
func WithProbeTimeout(d time.Duration) Option {
	return func(l *Limiter) {
		if d <= 0 {
			l.fail(fmt.Errorf("%w: WithProbeTimeout(%v): the timeout must be positive", ErrInvalidConfig, d))
			return
		}
		l.probeTimeout = d
	}
}

// WithLogger makes the Limiter log through lg when Redis goes down (a
// warning with the Redis error: the local fallback takes over, or, without
// it, creates are refused) and when it answers again (info), and when a
// shared cool-down is clamped to an hour (a warning).
// It logs nothing per Wait. A nil lg disables logging (the default).
func WithLogger(lg *slog.Logger) Option {
	return func(l *Limiter) { l.logger = lg }
}
