package pace

import (
	"math"
	"time"
)

// The control law's constants: the one table of them. testdata/law.json
// holds the same table, which the fleet's law in redisrate is checked
// against too; TestLawConstantsAreTheTables fails when the two part.
const (
	backoff     = 0.97             // hold at this share of the highest rate that succeeded
	jitter      = time.Millisecond // and space creates this much more than that rate
	cutHolding  = 0.7              // throttled twice while holding (the cap fell): cut this much more
	sameCeiling = 0.10             // a ceiling within this share of the last is the same cap
	firstEpoch  = 2 * time.Second  // hold this long after a throttle at a new ceiling
	maxEpoch    = 32 * time.Second
	approach    = time.Second            // from the hold back up to the last ceiling
	doubling    = 500 * time.Millisecond // above the ceiling (or with none yet): the rate doubles this often
	minRate     = 0.5                    // creates per second, at the least
	maxRate     = 1e5                    // and at the most: not paced
)

// law is the control law's state: what it learned from the outcomes of
// creates. Its zero value is the law before the first 429, which paces
// nothing. It changes only through step, a pure function of the state, an
// outcome and the time: the Pacer and the law cases (testdata/law.json)
// drive the same step.
//
// The rate at time t is hold until probeAt, then grows: back to ceiling
// over approach, then doubling every doubling (see rateAt).
type law struct {
	on       bool // a create has been answered 429
	hold     float64
	ceiling  float64 // the rate of the last throttle; 0 before the first paced one
	probeAt  time.Time
	epoch    time.Duration
	okRate   float64   // the highest rate a create succeeded at since the last throttle
	throttle time.Time // when the last throttle was seen: 429s of creates sent before it belong to it
	atHold   bool      // the last throttle came while holding

	// Before the first 429: successes in the current second, for the first
	// estimate.
	second    time.Time
	successes int
}

// outcome is one create's answer, as the law hears it.
type outcome struct {
	throttled bool // answered 429
	// The slot the create was sent in: when, and at what rate (the zero
	// time and 0 when it was not paced).
	sentAt time.Time
	rate   float64
	// A 429's pause (bounded by the Retry-After cap) ends at pausedUntil;
	// the zero time when there is none.
	pausedUntil time.Time
}

// step returns the law after hearing o at now.
func (l law) step(o outcome, now time.Time) law {
	switch {
	case !o.throttled && !l.on:
		if now.Sub(l.second) >= time.Second {
			l.second, l.successes = now, 0
		}
		l.successes++
	case !o.throttled:
		l.okRate = max(l.okRate, o.rate)
	case !l.on:
		// The first 429: start from what succeeded in the last second,
		// growing from the end of the pause.
		l.on = true
		l.hold = float64(l.successes)
		if now.Sub(l.second) >= time.Second {
			l.hold = 0
		}
		l.hold = under(l.hold) // under never gives less than minRate
		l.ceiling, l.epoch, l.throttle, l.atHold = 0, firstEpoch, now, false
		l.probeAt = later(now, o.pausedUntil)
	case o.sentAt.Before(l.throttle) || o.rate == 0:
		// Sent before the throttle the law already reacted to (in flight
		// at the time), or not paced: nothing new.
	default:
		l = l.throttled(o.rate, now, o.pausedUntil)
	}
	return l
}

// throttled applies a 429 of a create sent at rate, seen at now, whose
// pause ends at pausedUntil: the law resumes (grows, or counts an epoch)
// from the later of the two.
func (l law) throttled(rate float64, now, pausedUntil time.Time) law {
	resume := later(now, pausedUntil)
	probing := !now.Before(l.probeAt) && rate > l.hold
	same := l.ceiling > 0 && math.Abs(rate-l.ceiling) <= sameCeiling*l.ceiling
	if !probing && !l.atHold {
		// Throttled at the rate it held: the network bunched two creates
		// (a strict cap leaves a few ms of slack), or the cap fell. Step
		// just under it and keep to the probe schedule, growth under way
		// starting again from the new hold once the pause is over; a
		// second such throttle tells which.
		l.hold = under(min(rate, l.hold))
		l.atHold, l.throttle = true, now
		l.probeAt = later(l.probeAt, resume)
		return l
	}
	switch {
	case !probing:
		// Throttled at the held rate again: the cap fell. Cut harder and
		// look again soon.
		l.hold = max(rate*cutHolding, minRate)
		l.epoch = firstEpoch
	default:
		// Probing found the ceiling: hold under the highest rate that
		// succeeded on the way up. The same ceiling again means the cap
		// holds, so probe it less often; a new one (the cap rose, or fell)
		// is learned quickly.
		ok := l.okRate
		if ok == 0 {
			ok = rate * backoff // nothing succeeded on the way up
		}
		l.hold = under(min(ok, rate))
		l.atHold = false
		if same {
			l.epoch = min(2*l.epoch, maxEpoch)
		} else {
			l.epoch = firstEpoch
		}
	}
	l.ceiling = rate
	l.okRate, l.throttle = 0, now
	l.probeAt = resume.Add(l.epoch)
	return l
}

// rateAt is the law's rate at t: maxRate (not paced) before the first 429.
func (l law) rateAt(t time.Time) float64 {
	if !l.on {
		return maxRate
	}
	if t.Before(l.probeAt) {
		return l.hold
	}
	grown := t.Sub(l.probeAt)
	r := l.hold
	if l.ceiling > l.hold {
		if grown < approach {
			return l.hold + (l.ceiling-l.hold)*float64(grown)/float64(approach)
		}
		r, grown = l.ceiling, grown-approach
	}
	return min(r*math.Exp2(float64(grown)/float64(doubling)), maxRate)
}

// under is the rate to hold at below r, a rate that succeeded: a little
// under it, and spaced jitter more, so that the jitter of sending (a
// timer, the network) does not bunch two creates into a 429 against a
// strict cap.
func under(r float64) float64 {
	return max(1/(1/(r*backoff)+jitter.Seconds()), minRate)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
