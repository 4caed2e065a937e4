package redisrate

import (
	"cmp"
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
// a throttle at the held rate steps it just under (two creates bunched),
// a second one cuts it by 30 % (the cap fell). It runs in one Lua script,
// atomically, on Redis's clock, so clock skew between machines does not
// matter.
//
// One truth for both laws: the core's internal/pace/testdata/law.json holds
// the law's constants and a table of cases (successes, 429s, pauses and
// time passing, with the rates and state expected after each), and names,
// case by case, where the fleet's law must differ from the Client's (its
// first estimate, 429s counted together, outcomes of unknown rate; the
// README says why). The core's tests run every case on the Go law; this
// module's (law_test.go) read the same file from the repository, not as
// an import, check the constants below (as adaptArgs gives them to the
// script) against it and run every case on the script on a real
// redis-server. A change to the law or a constant here that is not made in
// the table, and in the Client's law, fails CI.
//
// Feedback does no I/O (it must not block the create that reports): it
// counts, and the counts travel with the next Wait's round trip to Redis,
// which every create makes anyway. A throttle is therefore applied when its
// process next asks for a slot: after its pause, before its next create.
// While Redis is down, nothing is learned and the local fallback paces at
// the configured Limit, as it always did.

// The control law's constants: the core's law table's
// (internal/pace/testdata/law.json), maxRate aside (the configured Limit
// takes its place), and the fleet's own: adaptSameThrottle, adaptStateTTL.
// TestTheFleetsLawHasTheTablesConstants checks them against the table.
const (
	adaptBackoff     = 0.97 // hold at this share of the highest rate that succeeded
	adaptCutHolding  = 0.7  // a second throttle while holding: the cap fell; cut this much more
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

	// adaptJitter: how much sooner than its slot a create may reach the
	// server, relative to the one before it (timers, the trip to Redis,
	// the network). The hold is spaced this much more than the rate that
	// succeeded, so that jitter does not turn into 429s against a strict
	// cap.
	adaptJitter = time.Millisecond

	// adaptStateTTL: a fleet idle this long forgets what it learned and
	// starts again from the configured Limit.
	adaptStateTTL = time.Hour
)

// adaptScript applies one process's report to the fleet's control law.
//
// KEYS[1]: the state hash. ARGV: [1] the configured rate (sessions/s);
// from the reporter, [2] how many ms ago it saw its first unreported 429
// (-1: none) and [3] the rate that create was sent at (0: unknown), [4] how
// many ms ago it saw its latest success (-1: none), [5] the highest rate a
// reported success was sent at (0: unknown), [6] how many successes it saw,
// [7] how many ms of pause it still has to sit out; [8] now in Unix ms
// (empty for Redis's clock; tests pass their own); [9]–[18] the constants
// above; [19] 1 when the call follows a slot just granted (0 otherwise),
// [20] adaptJitter in ms.
//
// It returns the rate to pace at (sessions per second) and, after a slot
// granted, the rate that slot goes out at: one over the time since the
// fleet's previous slot, on Redis's clock, smoothed over the last few. That,
// not the rate asked for, is what the server sees.
var adaptScript = redis.NewScript(`
local cap = tonumber(ARGV[1])
local thrAge, thrRate, okAge, okRate = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local okCount, pause = tonumber(ARGV[6]), tonumber(ARGV[7])
local BACKOFF, CUT, SAME = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local FIRST, MAXEPOCH, APPROACH, DOUBLING = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15])
local MINRATE, SAMETHR, TTL = tonumber(ARGV[16]), tonumber(ARGV[17]), tonumber(ARGV[18])
local granted, JITTER = ARGV[19] == '1', tonumber(ARGV[20])

local now
if ARGV[8] ~= '' then
  now = tonumber(ARGV[8])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end

local f = redis.call('HMGET', KEYS[1], 'on', 'hold', 'ceil', 'probe', 'epoch', 'thr', 'ok', 'win', 'wok', 'last', 'gap', 'ath')
local on = f[1] == '1'
local hold, ceil = tonumber(f[2]) or 0, tonumber(f[3]) or 0
local probe, epoch, thr = tonumber(f[4]) or 0, tonumber(f[5]) or FIRST, tonumber(f[6]) or 0
local ok, win, wok = tonumber(f[7]) or 0, tonumber(f[8]) or 0, tonumber(f[9]) or 0
local last, gap = tonumber(f[10]) or 0, tonumber(f[11]) or 0
local atHold = f[12] == '1'

-- The rate the fleet's slots go out at: one over the time between them,
-- smoothed over the last few (one gap alone is as jittery as the timers
-- that made it). A gap of a second or more is a pause, not a rate.
local sent = 0
if granted then
  local g = now - last
  if last == 0 or g >= 1000 then
    gap = 0
  elseif gap == 0 then
    gap = math.max(g, 0.01)
  else
    gap = 0.7 * gap + 0.3 * math.max(g, 0.01)
  end
  if gap > 0 then sent = 1000 / gap end
  last = now
end

-- under is the rate to hold at below x, a rate that succeeded: a little
-- under it, and spaced far enough under it that the jitter of sending (a
-- timer, a trip to Redis) does not bunch two creates.
local function under(x)
  return math.max(1000 / (1000 / (x * BACKOFF) + JITTER), MINRATE) -- MINRATE for x = 0 too
end

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
-- The highest rate a success since the last throttle went out at (as its
-- slot's reply said); when unknown, the law's rate at the time.
if on and okAge >= 0 and now - okAge >= thr then
  if okRate <= 0 then okRate = rateAt(now - okAge) end
  ok = math.max(ok, okRate)
end

if thrAge >= 0 then
  local t = now - thrAge
  local resume = math.max(t, now + pause)
  if not on then
    -- The first 429: hold under what succeeded in the second before it,
    -- growing from the end of the pause; or, if more, under half the rate
    -- the throttled create went out at, for a first epoch: the cap is
    -- likely near it.
    on = true
    local okd = 0
    if t - win < 1000 then okd = wok end
    hold = under(math.max(okd, thrRate / 2))
    ceil, epoch, thr, ok, atHold = 0, FIRST, t, 0, false
    probe = resume
    if thrRate / 2 > okd then probe = resume + FIRST end
  elseif t - thr >= SAMETHR then
    local r = thrRate
    if r <= 0 then r = rateAt(t) end
    local probing = t >= probe and r > hold
    if not probing and not atHold then
      -- At the held rate: two creates bunched (a strict cap leaves a few
      -- ms of slack), or the cap fell. Step just under it and keep the
      -- ceiling and the probe schedule, growth under way starting again
      -- from the new hold once the pause is over; a second such throttle
      -- tells.
      hold = under(math.min(r, hold))
      atHold, thr = true, t
      probe = math.max(probe, resume)
    elseif not probing then
      hold = math.max(r * CUT, MINRATE)
      epoch = FIRST
      ceil, ok, thr = r, 0, t
      probe = resume + epoch
    else
      atHold = false
      local okr = ok
      if okr == 0 then okr = r * BACKOFF end
      hold = under(math.min(okr, r))
      if ceil > 0 and math.abs(r - ceil) <= SAME * ceil then
        epoch = math.min(2 * epoch, MAXEPOCH)
      else
        epoch = FIRST
      end
      ceil, ok, thr = r, 0, t
      probe = resume + epoch
    end
  end
end

redis.call('HSET', KEYS[1], 'on', on and '1' or '0', 'hold', tostring(hold), 'ceil', tostring(ceil), 'probe', tostring(probe),
  'epoch', tostring(epoch), 'thr', tostring(thr), 'ok', tostring(ok), 'win', tostring(win), 'wok', tostring(wok),
  'last', tostring(last), 'gap', tostring(gap), 'ath', atHold and '1' or '0')
redis.call('PEXPIRE', KEYS[1], TTL)
return {tostring(rateAt(now)), tostring(sent)}
`)

// adaptReport is what this process saw since its last report.
type adaptReport struct {
	throttledAt  time.Time // the first 429 not yet reported; zero: none
	throttleRate float64   // the rate that create was sent at; 0: unknown
	okAt         time.Time // the latest success; zero: none
	okRate       float64   // the highest rate a success was sent at; 0: unknown
	ok           int64     // successes
}

// maxInFlight bounds the record of slots granted and not yet answered (see
// granted): creates that never get a response (a network error, a
// cancelled context) leave their slot in it, and the oldest go first.
const maxInFlight = 256

// slotRing holds the rates of the slots granted and not yet answered,
// oldest first, at most maxInFlight of them (the oldest are dropped). An
// array, not a slice, so that a Limiter stays comparable, as it was in 0.1.
type slotRing struct {
	rates   [maxInFlight]float64
	head, n int
}

func (r *slotRing) push(rate float64) {
	if r.n == maxInFlight {
		r.head, r.n = (r.head+1)%maxInFlight, r.n-1
	}
	r.rates[(r.head+r.n)%maxInFlight] = rate
	r.n++
}

// pop returns the oldest rate, or 0 when there is none.
func (r *slotRing) pop() float64 {
	if r.n == 0 {
		return 0
	}
	rate := r.rates[r.head]
	r.head, r.n = (r.head+1)%maxInFlight, r.n-1
	return rate
}

// granted records the rate a slot was granted at (sessions per second), for
// the Feedback of the create that uses it. Feedback does not say which
// create it is about; creates are answered roughly in the order they went
// out, so each takes the oldest slot not yet answered.
func (l *Limiter) granted(rate float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight.push(rate)
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
	sentAt := l.inFlight.pop()
	if throttled {
		if l.report.throttledAt.IsZero() {
			l.report.throttledAt, l.report.throttleRate = now, sentAt
		}
		return
	}
	l.report.okAt = now
	l.report.okRate = max(l.report.okRate, sentAt)
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

// checkCooldownAndLearn is ask's second step, one round trip to Redis: the
// shared cool-down's time left and, in the same pipeline, this process's
// report applied to the fleet's learned rate, which the next ask paces at.
func (l *Limiter) checkCooldownAndLearn(ctx context.Context, granted bool) (left time.Duration, sentAt float64, err error) {
	now := time.Now()
	clock := ""
	if l.clock != nil {
		clock = strconv.FormatInt((*l.clock)().UnixMilli(), 10)
	}
	args := adaptArgs(l.limit.perSecond(), l.takeReport(), now, l.localCooldown(), clock, granted)
	keys := []string{l.adaptKey}
	coolArgs := []any{maxStoredCooldown.Milliseconds()}
	var learned, cool *redis.Cmd
	// Two commands on two keys, never one script on both: on Redis Cluster
	// the keys may live on different nodes.
	_, err = l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		learned = adaptScript.EvalSha(ctx, p, keys, args...)
		cool = readCooldown.EvalSha(ctx, p, []string{l.coolKey}, coolArgs...)
		return nil
	})
	if err != nil {
		// Redis restarted, or never saw a script (on Cluster, each node
		// has its own cache): send it in full once.
		if noScript(learned) {
			learned = adaptScript.Run(ctx, l.rdb, keys, args...)
		}
		if noScript(cool) {
			cool = readCooldown.Run(ctx, l.rdb, []string{l.coolKey}, coolArgs...)
		}
		err = cmp.Or(learned.Err(), cool.Err())
	}
	if err != nil {
		return 0, 0, err
	}
	if got, err := learned.StringSlice(); err == nil && len(got) == 2 {
		if r := parseRate(got[0]); r > 0 {
			l.mu.Lock()
			l.learned, l.learnedAt = r, now
			l.mu.Unlock()
		}
		sentAt = parseRate(got[1])
	}
	ms, err := cool.Int64()
	if err != nil {
		return 0, 0, err
	}
	// The hour, not the millisecond ShareCooldown adds for Redis's clock:
	// a wait that comes back that millisecond early finds it and sits it
	// out then.
	return min(time.Duration(ms)*time.Millisecond, maxSharedCooldown), sentAt, nil
}

// adaptArgs is adaptScript's ARGV (see there): the configured rate
// (sessions/s), rep as seen at now, the pause still to sit out, the law's
// clock in Unix ms ("" for Redis's), whether a slot was just granted, and
// the law's constants.
func adaptArgs(perSecond float64, rep adaptReport, now time.Time, pause time.Duration, clock string, granted bool) []any {
	return []any{
		strconv.FormatFloat(perSecond, 'g', -1, 64),
		ageMillis(now, rep.throttledAt), rep.throttleRate, ageMillis(now, rep.okAt), rep.okRate, rep.ok,
		max(pause.Milliseconds(), 0), clock,
		adaptBackoff, adaptCutHolding, adaptSameCeiling,
		adaptFirstEpoch.Milliseconds(), adaptMaxEpoch.Milliseconds(), adaptApproach.Milliseconds(), adaptDoubling.Milliseconds(),
		adaptMinRate, adaptSameThrottle.Milliseconds(), adaptStateTTL.Milliseconds(),
		granted, adaptJitter.Milliseconds(),
	}
}

// noScript reports whether cmd failed because Redis did not have its script.
func noScript(cmd redis.Cmder) bool {
	return cmd != nil && redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT")
}

// parseRate reads a rate the script returned; 0 for anything unusable.
func parseRate(s string) float64 {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return 0
	}
	return r
}

// adaptFresh is how old this process's copy of the fleet's rate may be for
// a slot to be asked at it; an older copy (kept through a pause or a lull)
// is refreshed first, in a round trip of its own. A copy the fleet has since
// cut is caught anyway (the slot asked at it goes unused), so the bound only
// limits how long growth goes unseen. Each such round trip makes the next
// slot late by its length, which the server's cap never gives back:
// measured, a 100-ms bound held a fleet of three at 76–81 % of a strict
// cap, this one at 82–83 %.
const adaptFresh = time.Second

// learnedRate is the rate the fleet paces at, as of this process's last
// round trip (0 before the first), and whether that was within adaptFresh.
func (l *Limiter) learnedRate() (rate float64, fresh bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.learned, time.Since(l.learnedAt) < adaptFresh
}

// paced is the GCRA limit for the learned rate r (sessions per second):
// l itself when r does not pace below it.
func (l Limit) paced(r float64) redis_rate.Limit {
	if l.effective(r) >= l.perSecond() {
		return l.gcra()
	}
	// redis_rate counts in whole events per period: thousandths of a
	// session per second keep the rate's precision.
	return redis_rate.Limit{Rate: max(int(math.Round(r*1000)), 1), Period: 1000 * time.Second, Burst: l.burst}
}

// slower reports whether the learned rate now is below the one a slot was
// asked at: the fleet cut its rate meanwhile, and a slot spaced for the old
// one would go out too close to the one before.
func (l Limit) slower(now, asked float64) bool {
	return l.effective(now) < 0.99*l.effective(asked)
}

// effective is the rate a slot asked at r is spaced at.
func (l Limit) effective(r float64) float64 {
	if r <= 0 {
		return l.perSecond()
	}
	return min(r, l.perSecond())
}
