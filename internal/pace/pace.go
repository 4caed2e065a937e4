// Package pace is the adaptive pacing of session creation that
// heliumid.WithAdaptiveRate documents: after a create's first 429 it paces
// every create at a rate learned from the server's answers, cut on
// throttles and grown back while creates succeed, holding just under the
// highest rate that succeeded and probing above it less and less often
// while the cap stays where it was. Reads are never paced.
//
// The same law runs in Lua for a fleet in the redisrate module
// (redisrate/adaptive.go); a change here is made there too.
package pace

import (
	"container/heap"
	"context"
	"math"
	"sync"
	"time"
)

// The control law's constants.
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
	maxRate     = 1e5
)

// Pacer is a Client's adaptive pacing of creates; its zero value is ready,
// and paces nothing until the first throttle. Its Wait is a queue served at
// the learned rate, highest attempt first; it starts no goroutine: the
// waiter at the head sleeps until its slot, then hands the head to the next.
type Pacer struct {
	mu sync.Mutex
	on bool // a create has been answered 429

	// The control law. The rate at time t is hold until probeAt, then grows:
	// back to ceiling over approach, then doubling every doubling.
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

	next    time.Time // the earliest time the next create may go
	granted time.Time // when the last one went
	queue   queue
	seq     uint64
}

// Slot is what a create was granted: when, and at what rate. Give it back
// to Observe with the create's outcome.
type Slot struct {
	at   time.Time
	rate float64 // 0: not paced
}

// Active reports whether creates are paced now: a create has been
// answered 429.
func (p *Pacer) Active() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.on
}

// Rates returns the rate the pacer holds and the ceiling it last found
// (creates per second; 0 before the first paced throttle), for tests and
// diagnostics.
func (p *Pacer) Rates() (hold, ceiling float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hold, p.ceiling
}

// rateAt is the control law's rate at t.
func (p *Pacer) rateAt(t time.Time) float64 {
	if t.Before(p.probeAt) {
		return p.hold
	}
	grown := t.Sub(p.probeAt)
	r := p.hold
	if p.ceiling > p.hold {
		if grown < approach {
			return p.hold + (p.ceiling-p.hold)*float64(grown)/float64(approach)
		}
		r, grown = p.ceiling, grown-approach
	}
	return min(r*math.Exp2(float64(grown)/float64(doubling)), maxRate)
}

// Wait holds a create's attempt (1 for the first) until its slot: after
// the pause that pausedUntil reports (a 429's cool-down, which the caller
// has already checked can be waited out), at the learned rate, behind the
// waiters on later attempts. It fails with ctx's error when ctx ends.
func (p *Pacer) Wait(ctx context.Context, attempt int, pausedUntil func() time.Time) (Slot, error) {
	p.mu.Lock()
	w := &waiter{attempt: attempt, seq: p.seq, wake: make(chan struct{}, 1)}
	p.seq++
	heap.Push(&p.queue, w)
	p.wakeHead()
	for {
		var sleep <-chan time.Time
		var timer *time.Timer
		if p.queue[0] == w {
			now := time.Now()
			until := pausedUntil()
			at := p.next
			if until.After(at) {
				at = until
			}
			if !now.Before(at) {
				heap.Pop(&p.queue)
				// The rate this create goes at is what the server sees:
				// one over the gap since the one before.
				sentAt := maxRate
				if gap := now.Sub(p.granted); gap > 0 {
					sentAt = min(float64(time.Second)/float64(gap), maxRate)
				}
				p.granted = now
				p.next = now.Add(time.Duration(float64(time.Second) / p.rateAt(now)))
				p.wakeHead()
				p.mu.Unlock()
				return Slot{at: now, rate: sentAt}, nil
			}
			timer = time.NewTimer(at.Sub(now))
			sleep = timer.C
		}
		p.mu.Unlock()
		var err error
		select {
		case <-sleep:
		case <-w.wake:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if timer != nil {
			timer.Stop()
		}
		p.mu.Lock()
		if err != nil {
			heap.Remove(&p.queue, w.index)
			p.wakeHead()
			p.mu.Unlock()
			return Slot{}, err
		}
	}
}

// wakeHead tells the waiter at the head of the queue to look again: it may
// have just become the head, or the head's slot may have moved.
func (p *Pacer) wakeHead() {
	if len(p.queue) > 0 {
		select {
		case p.queue[0].wake <- struct{}{}:
		default: // already told
		}
	}
}

// Observe learns from a create that got a response, sent in slot (the zero
// Slot when it was not paced): throttled for a 429, whose pause (bounded by
// the Retry-After cap) ends at pausedUntil.
func (p *Pacer) Observe(slot Slot, throttled bool, pausedUntil time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	switch {
	case !throttled && !p.on:
		if now.Sub(p.second) >= time.Second {
			p.second, p.successes = now, 0
		}
		p.successes++
	case !throttled:
		p.okRate = max(p.okRate, slot.rate)
	case !p.on:
		// The first 429: start from what succeeded in the last second,
		// growing from the end of the pause.
		p.on = true
		p.hold = float64(p.successes)
		if now.Sub(p.second) >= time.Second {
			p.hold = 0
		}
		p.hold = under(p.hold) // under never gives less than minRate
		p.ceiling, p.epoch, p.throttle, p.atHold = 0, firstEpoch, now, false
		p.probeAt = later(now, pausedUntil)
		p.next = p.probeAt
	case slot.at.Before(p.throttle) || slot.rate == 0:
		// Sent before the throttle the client already reacted to (in
		// flight at the time), or not paced: nothing new.
	default:
		p.throttled(slot.rate, now, pausedUntil)
	}
}

// throttled applies a 429 of a create sent at rate.
func (p *Pacer) throttled(rate float64, now, pausedUntil time.Time) {
	probing := !now.Before(p.probeAt) && rate > p.hold
	same := p.ceiling > 0 && math.Abs(rate-p.ceiling) <= sameCeiling*p.ceiling
	if !probing && !p.atHold {
		// Throttled at the rate it held: the network bunched two creates
		// (a strict cap leaves a few ms of slack), or the cap fell. Step
		// just under it and keep to the probe schedule; a second such
		// throttle tells which.
		p.hold = under(min(rate, p.hold))
		p.atHold, p.throttle = true, now
		p.probeAt = later(p.probeAt, pausedUntil)
		return
	}
	switch {
	case !probing:
		// Throttled at the held rate again: the cap fell. Cut harder and
		// look again soon.
		p.hold = max(rate*cutHolding, minRate)
		p.epoch = firstEpoch
	default:
		// Probing found the ceiling: hold under the highest rate that
		// succeeded on the way up. The same ceiling again means the cap
		// holds, so probe it less often; a new one (the cap rose, or fell)
		// is learned quickly.
		ok := p.okRate
		if ok == 0 {
			ok = rate * backoff // nothing succeeded on the way up
		}
		p.hold = under(min(ok, rate))
		p.atHold = false
		if same {
			p.epoch = min(2*p.epoch, maxEpoch)
		} else {
			p.epoch = firstEpoch
		}
	}
	p.ceiling = rate
	p.okRate, p.throttle = 0, now
	p.probeAt = later(now, pausedUntil).Add(p.epoch)
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
