package redisrate

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// extendCooldown sets the cool-down key to expire ARGV[1] milliseconds from
// now on Redis's clock, unless it already lives at least that long: a
// cool-down is only ever extended, so concurrent 429s seen by several
// processes cannot cut one short. The script runs atomically, which a
// PTTL-then-SET from the client would not. ARGV[2], the sharer's wall-clock
// end in Unix milliseconds, is stored only for people inspecting the key.
//
// Durations rather than timestamps cross the wire: every process measures
// the remaining time from Redis's clock (PTTL), so skew between the
// machines' clocks does not shorten or stretch the pause.
var extendCooldown = redis.NewScript(`
local want = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) >= want then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', want)
return 1
`)

// ShareCooldown makes every Limiter sharing l's key, in this process and
// others, hold its Wait until until: the Client calls it after a 429 with
// Retry-After (it implements heliumid.CooldownSharer). The pause is stored in
// Redis under "heliumid:cooldown:<key>", expiring on its own; it only ever
// grows, never shrinks. A time already past is a no-op.
//
// The pause also holds in this process without Redis, so Waits that fall back
// to the local limiter honour it. An error (matching ErrRedisUnavailable)
// means the other processes were not told; this one waits regardless.
func (l *Limiter) ShareCooldown(ctx context.Context, until time.Time) error {
	if l.invalid != nil {
		return l.invalid
	}
	left := time.Until(until)
	if left <= 0 {
		return nil
	}
	l.mu.Lock()
	if until.After(l.localUntil) {
		l.localUntil = until
	}
	l.mu.Unlock()
	if ctx == nil {
		ctx = context.Background() // the pause matters more than the caller's slip
	}

	// Rounded up to whole milliseconds, plus one for the millisecond Redis's
	// clock may be behind ours when it starts counting: never early.
	ms := int64((left+time.Millisecond-1)/time.Millisecond) + 1
	err := extendCooldown.Run(ctx, l.rdb, []string{l.coolKey}, ms, until.UnixMilli()).Err()
	if err != nil {
		return l.unavailable(fmt.Sprintf("sharing a %v cool-down", left.Round(time.Millisecond)), err,
			"other processes may send before the server's Retry-After; this one still waits it out")
	}
	return nil
}

// localCooldown returns how much of the latest cool-down shared through l is
// left.
func (l *Limiter) localCooldown() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Until(l.localUntil)
}
