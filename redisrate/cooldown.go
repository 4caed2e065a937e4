package redisrate

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// extendCooldown sets the cool-down key to expire ARGV[1] milliseconds from
// now on Redis's clock, unless it already lives at least that long: a
// cool-down is only ever extended, so concurrent 429s seen by several
// processes cannot cut one short. The script runs atomically, which a
// PTTL-then-SET from the client would not. ARGV[2], the sharer's wall-clock
// end in Unix milliseconds, is stored only for people inspecting the key.
// A key living longer than ARGV[3] ms (maxStoredCooldown; written by another
// writer, or by a 0.1 process, which stored whatever the server asked) is
// shortened to ARGV[3] ms, as readCooldown does.
//
// Durations rather than timestamps cross the wire: every process measures
// the remaining time from Redis's clock (PTTL), so skew between the
// machines' clocks does not shorten or stretch the pause.
var extendCooldown = redis.NewScript(`
local want, most = tonumber(ARGV[1]), tonumber(ARGV[3])
local left = redis.call('PTTL', KEYS[1])
if left > most then
` + clampCooldown + `
  return 0
end
if left >= want then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', want)
return 1
`)

// readCooldown returns how many milliseconds the cool-down key has left
// (PTTL: -2 when there is none, -1 when it never expires, which no writer of
// this package makes and Wait ignores), at most ARGV[1] (maxStoredCooldown).
// A key living longer is shortened to ARGV[1] ms, in the same atomic step:
// whoever wrote it (a 0.1 process during a rolling upgrade stored whatever
// Retry-After the server sent, a year included), the fleet is held no longer
// than ShareCooldown itself would hold it, and not held again after.
var readCooldown = redis.NewScript(`
local most = tonumber(ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left > most then
` + clampCooldown + `
  return most
end
return left
`)

// clampCooldown is the Lua that shortens the key KEYS[1] to expire most ms
// from now; its value, the end for people inspecting it, becomes that end on
// Redis's clock, in Unix milliseconds.
const clampCooldown = `
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('SET', KEYS[1], string.format('%d', now + most), 'PX', most)`

// ShareCooldown makes every Limiter sharing l's key, in this process and
// others, hold its Wait until until: the Client calls it after a 429 with
// Retry-After (it implements heliumid.CooldownSharer). The pause is stored in
// Redis under "heliumid:cooldown:<key>", expiring on its own; it only ever
// grows, never shrinks. A time already past is a no-op.
//
// No pause longer than one hour is stored, in Redis or in this process: a
// later until is clamped to an hour from now (with WithLogger, a warning
// says so), after which the next create finds out whether the server's
// window is still closed. A Retry-After of years, sent by mistake or
// malice, would otherwise stop the whole fleet for as long. A longer pause
// found in Redis (stored by a 0.1 process, which did not clamp, or by any
// other writer) is shortened to an hour by the first Wait or ShareCooldown
// that meets it.
//
// The pause also holds in this process without Redis, so Waits that fall back
// to the local limiter honour it. An error (matching ErrRedisUnavailable)
// means the other processes were not told; this one waits regardless. Like
// Wait, ShareCooldown waits for Redis at most the probe timeout, and not at
// all while Redis counts as down.
func (l *Limiter) ShareCooldown(ctx context.Context, until time.Time) error {
	if l.invalid != nil {
		return l.invalid
	}
	if ctx == nil {
		ctx = context.Background() // the pause matters more than the caller's slip
	}
	now := time.Now()
	left := until.Sub(now) // saturates instead of overflowing for any until
	if left <= 0 {
		return nil
	}
	if left > maxSharedCooldown {
		if l.logger != nil {
			l.logger.LogAttrs(ctx, slog.LevelWarn, "redisrate: shared cool-down clamped to one hour",
				slog.String("key", l.key), slog.String("asked_until", until.UTC().Format(time.RFC3339)),
				slog.String("stored", human(maxSharedCooldown)))
		}
		left, until = maxSharedCooldown, now.Add(maxSharedCooldown)
	}
	l.mu.Lock()
	if until.After(l.localUntil) {
		l.localUntil = until
	}
	l.mu.Unlock()

	op := "sharing a " + human(left) + " cool-down"
	const notShared = "other processes may send before the server's Retry-After; this one still waits it out"
	skip, probe := l.skipRedis()
	if skip {
		return l.unavailable(op, l.whyDown(), notShared)
	}
	// Rounded up to whole milliseconds, plus one for the millisecond Redis's
	// clock may be behind ours when it starts counting: never early.
	ms := int64((left+time.Millisecond-1)/time.Millisecond) + 1
	err := l.call(ctx, probe, func(ctx context.Context) error {
		return extendCooldown.Run(ctx, l.rdb, []string{l.coolKey}, ms, until.UnixMilli(), maxStoredCooldown.Milliseconds()).Err()
	})
	if err != nil {
		if ctx.Err() == nil {
			l.markDown(ctx, err)
		}
		return l.unavailable(op, err, notShared)
	}
	l.markUp(ctx)
	return nil
}

// localCooldown returns how much of the latest cool-down shared through l is
// left.
func (l *Limiter) localCooldown() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Until(l.localUntil)
}
