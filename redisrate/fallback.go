package redisrate

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/heliumid/heliumid-go"
)

// With WithLocalFallback, l.fallback is this process's own pace: a token
// bucket at the same Limit. It keeps the whole fleet at most N × the cap in
// any one period, Redis up, down, or in between, because every slot this
// process uses is counted in it:
//
//   - a slot the local pace grants alone (Redis down) waits for its token;
//   - a slot Redis grants is charged to it too, without waiting (Redis
//     already keeps the fleet at the cap, so this process's share always
//     fits its own bucket, give or take clock jitter). When Redis then
//     fails, the local pace starts from what this process just used, not
//     from a full bucket: the period that holds the failure holds at most
//     one cap per process, not one cap per process plus Redis's;
//   - for one period after the last slot the local pace granted alone (see
//     guarded), a slot Redis grants is used only if the local pace has a
//     token too: a process that used its whole cap locally just before
//     Redis came back does not add Redis's cap on top in the same period.
//
// So in any one period each process either used only Redis's slots (at most
// one cap for the fleet together) or stayed within its own bucket (one cap
// each): N processes never exceed N × the cap.

// waitLocal grants a slot from the local pace alone, Redis being down. The
// slot's time is reserved before the wait, and counted in lastLocal at once,
// so that callers still waiting for a local slot keep the guard on for
// callers that meanwhile found Redis back.
func (l *Limiter) waitLocal(ctx context.Context) error {
	now := time.Now()
	r := l.fallback.ReserveN(now, 1) // always OK: 1 is within every valid burst
	d := r.DelayFrom(now)
	if outlastsDeadline(ctx, d) {
		r.CancelAt(now)
		return l.errLocalDeadline(d)
	}
	l.mu.Lock()
	if at := now.Add(d); at.After(l.lastLocal) {
		l.lastLocal = at
	}
	l.mu.Unlock()
	if err := sleep(ctx, d); err != nil {
		r.CancelAt(time.Now()) // the guard stays on: erring long is safe
		return err
	}
	return nil
}

// sleepLocal waits d for the local pace, or fails at once with an error
// matching heliumid.ErrRateLimited when that would outlast ctx's deadline.
func (l *Limiter) sleepLocal(ctx context.Context, d time.Duration) error {
	if outlastsDeadline(ctx, d) {
		return l.errLocalDeadline(d)
	}
	return sleep(ctx, d)
}

// guarded reports whether now is within one period of the last slot the
// local pace granted alone: a Redis slot must then fit the local pace too.
func (l *Limiter) guarded(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.lastLocal.IsZero() && now.Before(l.lastLocal.Add(l.limit.period))
}

// untilLocalSlot returns how long, while guarded, to wait before the local
// pace has a token; 0 when it has one or no guard applies. Nothing is taken:
// chargeLocal takes the token once Redis granted the slot.
func (l *Limiter) untilLocalSlot() time.Duration {
	if l.fallback == nil {
		return 0
	}
	now := time.Now()
	if !l.guarded(now) {
		return 0
	}
	missing := 1 - l.fallback.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(missing / float64(l.fallback.Limit()) * float64(time.Second)))
}

// chargeLocal counts a slot Redis granted against the local pace, and reports
// whether it may be used: always, except while guarded without a local token.
func (l *Limiter) chargeLocal() bool {
	if l.fallback == nil {
		return true
	}
	now := time.Now()
	if l.guarded(now) {
		return l.fallback.AllowN(now, 1)
	}
	l.fallback.ReserveN(now, 1) // counted, never waited for: Redis decided
	return true
}

// errLocalDeadline refuses a local wait that would outlast the deadline.
func (l *Limiter) errLocalDeadline(d time.Duration) error {
	return fmt.Errorf("%w: redisrate: this process's own pace for key %q (the local fallback at %v) asks to wait %s, past the context's deadline",
		heliumid.ErrRateLimited, l.key, l.limit, human(d))
}
