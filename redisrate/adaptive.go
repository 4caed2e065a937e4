package redisrate

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// The fleet's adaptive rate. A Limit configured above the server's real cap
// (Helium ID publishes none) would make the fleet collect a 429, and a
// one-second pause for every process, again and again. So the Limiter learns
// one rate for the whole fleet from the outcomes the Client reports through
// Feedback, and keeps it in Redis under "heliumid:adaptive:<key>" beside the
// GCRA state: every process paces at the same learned rate, never above the
// configured Limit.
//
// The control law is the Client's own (heliumid.WithAdaptiveRate): nothing
// changes before the first 429; then the rate holds just under the highest
// rate at which creates succeeded and probes above it less and less often
// (epochs doubling from 2 s to 32 s) while the ceiling stays within 10 %;
// a throttle at the held rate (the cap fell) cuts it by 30 %. It runs in one
// Lua script, atomically, on Redis's clock, so clock skew between machines
// does not matter.
//
// Feedback does no I/O (it must not block the create that reports): it
// counts, and the counts travel with the next Wait's round trip to Redis,
// which every create makes anyway. A throttle is therefore applied when its
// process next asks for a slot: after its pause, before its next create.
// While Redis is down, nothing is learned and the local fallback paces at
// the configured Limit, as it always did.

// The control law's constants, as in the core's adaptive.go.
const (
	adaptBackoff     = 0.97 // hold at this share of the highest rate that succeeded
	adaptCutHolding  = 0.7  // a throttle while holding: the cap fell; cut this much more
	adaptSameCeiling = 0.10 // a ceiling within this share of the last is the same cap
	adaptFirstEpoch  = 2 * time.Second
	adaptMaxEpoch    = 32 * time.Second
	adaptApproach    = time.Second            // from the hold back up to the last ceiling
	adaptDoubling    = 500 * time.Millisecond // above the ceiling: the rate doubles this often
	adaptMinRate     = 0.5                    // sessions per second, at the least

	// adaptSameThrottle: throttles seen within this long of the one the
	// fleet last reacted to belong to it (creates already in flight, or
	// seen by another process). Helium ID's Retry-After is at least one
	// second, so creates sent after the pause come later than this.
	adaptSameThrottle = time.Second

	// adaptStateTTL: a fleet idle this long forgets what it learned and
	// starts again from the configured Limit.
	adaptStateTTL = time.Hour
)

// adaptScript applies one process's report and returns the rate to pace at,
// in thousandths of a session per second.
//
// KEYS[1]: the state hash. ARGV: [1] the configured rate (sessions/s),
// [2] how many ms ago the reporter saw its first unreported 429 (-1: none),
// [3] how many ms ago it saw its latest success (-1: none), [4] how many
// successes it saw since its last report, [5] how many ms of pause the
// reporter still has to sit out, [6] now in Unix ms (” for Redis's clock;
// tests pass their own) and [7]–[16] the constants above.
var adaptScript = redis.NewScript(`
local cap = tonumber(ARGV[1])
local thrAge, okAge, okCount, pause = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local BACKOFF, CUT, SAME = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local FIRST, MAXEPOCH, APPROACH, DOUBLING = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local MINRATE, SAMETHR, TTL = tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16])

local now
if ARGV[6] ~= '' then
  now = tonumber(ARGV[6])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local f = redis.call('HMGET', KEYS[1], 'on', 'hold', 'ceil', 'probe', 'epoch', 'thr', 'ok', 'win', 'wok')
local on = f[1] == '1'
local hold, ceil = tonumber(f[2]) or 0, tonumber(f[3]) or 0
local probe, epoch, thr = tonumber(f[4]) or 0, tonumber(f[5]) or FIRST, tonumber(f[6]) or 0
local ok, win, wok = tonumber(f[7]) or 0, tonumber(f[8]) or 0, tonumber(f[9]) or 0

local function rateAt(t)
  if not on then return cap end
  if t < probe then return math.min(hold, cap) end
  local grown, r = t - probe, hold
  if ceil > hold then
    if grown < APPROACH then
      return math.min(hold + (ceil - hold) * grown / APPROACH, cap)
    end
    r, grown = ceil, grown - APPROACH
  end
  return math.min(r * math.pow(2, grown / DOUBLING), cap)
end

-- Successes, fleet-wide, in the current second: the first estimate.
if okCount > 0 then
  if now - win >= 1000 then win, wok = now, 0 end
  wok = wok + okCount
end
if on and okAge >= 0 and now - okAge >= thr then
  ok = math.max(ok, rateAt(now - okAge))
end

if thrAge >= 0 then
  local t = now - thrAge
  local resume = math.max(t, now + pause)
  if not on then
    on = true
    hold = 0
    if now - win < 1000 then hold = wok end
    hold = math.max(hold, MINRATE)
    ceil, epoch, thr, ok = 0, FIRST, t, 0
    probe = resume
  elseif t - thr >= SAMETHR then
    local r = rateAt(t)
    local probing = t >= probe and r > hold
    if not probing then
      hold = math.max(r * CUT, MINRATE)
      epoch = FIRST
    else
      local okr = ok
      if okr == 0 then okr = r * BACKOFF end
      hold = math.max(math.min(okr, r) * BACKOFF, MINRATE)
      if ceil > 0 and math.abs(r - ceil) <= SAME * ceil then
        epoch = math.min(2 * epoch, MAXEPOCH)
      else
        epoch = FIRST
      end
    end
    ceil, ok, thr = r, 0, t
    probe = resume + epoch
  end
end

local o = '0'
if on then o = '1' end
redis.call('HSET', KEYS[1], 'on', o, 'hold', tostring(hold), 'ceil', tostring(ceil), 'probe', tostring(probe),
  'epoch', tostring(epoch), 'thr', tostring(thr), 'ok', tostring(ok), 'win', tostring(win), 'wok', tostring(wok))
redis.call('PEXPIRE', KEYS[1], TTL)
return tostring(rateAt(now))
`)

// adaptReport is what this process saw since its last report.
type adaptReport struct {
	throttledAt time.Time // the first 429 not yet reported; zero: none
	okAt        time.Time // the latest success; zero: none
	ok          int64     // successes
}

// Feedback records the outcome of one create attempt that got a response:
// throttled for a 429. The Client calls it after every such attempt (it
// implements heliumid.RateFeedback). It does no I/O and never blocks: the
// outcome reaches Redis with this process's next Wait, and from then on
// every process sharing the key paces at the rate the fleet learned.
func (l *Limiter) Feedback(throttled bool) {
	if l.invalid != nil {
		return
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if throttled {
		if l.report.throttledAt.IsZero() {
			l.report.throttledAt = now
		}
		return
	}
	l.report.okAt = now
	l.report.ok++
}

// takeReport returns what to tell Redis and clears it.
func (l *Limiter) takeReport() adaptReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.report
	l.report = adaptReport{}
	return r
}

// ageMillis is how long before now t was, in ms; -1 for the zero time.
func ageMillis(now, t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return max(now.Sub(t).Milliseconds(), 0)
}

// perSecond is the configured Limit in sessions per second.
func (l Limit) perSecond() float64 {
	return float64(l.n) / l.period.Seconds()
}

// paced is the GCRA limit for the learned rate r (sessions per second):
// l itself when r does not pace below it.
func (l Limit) paced(r float64) redis_rate.Limit {
	if r <= 0 || r >= l.perSecond() {
		return l.gcra()
	}
	// redis_rate counts in whole events per period: thousandths of a
	// session per second keep the rate's precision.
	return redis_rate.Limit{Rate: max(int(math.Round(r*1000)), 1), Period: 1000 * time.Second, Burst: l.burst}
}

// checkCooldownAndLearn is ask's second step, one round trip to Redis: the
// shared cool-down's time left and, in the same pipeline, this process's
// report applied to the fleet's learned rate, which the next ask paces at.
func (l *Limiter) checkCooldownAndLearn(ctx context.Context) (time.Duration, error) {
	now := time.Now()
	rep := l.takeReport()
	pause := max(l.localCooldown().Milliseconds(), 0)
	clock := ""
	if l.clock != nil {
		clock = strconv.FormatInt(l.clock().UnixMilli(), 10)
	}
	args := []any{
		strconv.FormatFloat(l.limit.perSecond(), 'g', -1, 64),
		ageMillis(now, rep.throttledAt), ageMillis(now, rep.okAt), rep.ok, pause, clock,
		adaptBackoff, adaptCutHolding, adaptSameCeiling,
		adaptFirstEpoch.Milliseconds(), adaptMaxEpoch.Milliseconds(), adaptApproach.Milliseconds(), adaptDoubling.Milliseconds(),
		adaptMinRate, adaptSameThrottle.Milliseconds(), adaptStateTTL.Milliseconds(),
	}
	keys := []string{l.adaptKey}
	var learned *redis.Cmd
	var left *redis.DurationCmd
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		learned = adaptScript.EvalSha(ctx, p, keys, args...)
		left = p.PTTL(ctx, l.coolKey)
		return nil
	})
	if err != nil && redis.HasErrorPrefix(learned.Err(), "NOSCRIPT") && left.Err() == nil {
		// Redis restarted, or never saw the script: send it in full once.
		learned = adaptScript.Run(ctx, l.rdb, keys, args...)
		err = learned.Err()
	}
	if err != nil {
		return 0, err
	}
	if s, err := learned.Text(); err == nil {
		if r, err := strconv.ParseFloat(s, 64); err == nil && r > 0 && !math.IsInf(r, 0) {
			l.mu.Lock()
			l.learned = r
			l.mu.Unlock()
		}
	}
	return left.Val(), nil
}

// learnedRate is the rate the fleet paces at, as of this process's last
// round trip (0 before the first).
func (l *Limiter) learnedRate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.learned
}
