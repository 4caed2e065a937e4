package heliumid

import (
	"container/heap"
	"context"
	"math"
	"sync"
	"time"
)

// WithAdaptiveRate turns the Client's adaptive pacing of session creation on
// or off (default on).
//
// Helium ID caps session creation per plan and does not publish the number.
// With adaptive pacing, a Client that has been answered 429 on a create
// paces every create attempt, in every goroutine, at a rate it learns from
// the server's answers, in the manner of the AWS SDK's adaptive retry mode:
// cut on throttles, grown back while creates succeed. It holds just under
// the highest rate that succeeded and probes above it less and less often
// while the cap stays where it was (again sooner once it moved). One 429 at
// the held rate steps it a little lower (two creates bunched by the
// network); a second cuts it by 30 % (the cap fell). Before the
// first 429 nothing is paced, and reads are never paced. When a 429's pause
// ends, the waiting creates go out at the learned rate, not all at once, and
// those on their later attempts first, so that no call runs out of retries
// behind fresh ones.
//
// It combines with [WithRateLimiter]: a create waits for both. You do not
// need to know your cap; set WithRateLimiter only to stay below a budget of
// your own. WithAdaptiveRate(false) restores the behaviour of 0.1: nothing
// paced, every waiting create sent when a pause ends.
func WithAdaptiveRate(on bool) Option {
	return func(c *config) error {
		c.adaptiveOff = !on
		return nil
	}
}

// The control law's constants.
const (
	paceBackoff     = 0.97             // hold at this share of the highest rate that succeeded
	paceJitter      = time.Millisecond // and space creates this much more than that rate
	paceCutHolding  = 0.7              // throttled twice while holding (the cap fell): cut this much more
	paceSameCeiling = 0.10             // a ceiling within this share of the last is the same cap
	paceFirstEpoch  = 2 * time.Second  // hold this long after a throttle at a new ceiling
	paceMaxEpoch    = 32 * time.Second
	paceApproach    = time.Second            // from the hold back up to the last ceiling
	paceDoubling    = 500 * time.Millisecond // above the ceiling (or with none yet): the rate doubles this often
	paceMinRate     = 0.5                    // creates per second, at the least
	paceMaxRate     = 1e5
)

// pacer is a Client's adaptive pacing of creates (see WithAdaptiveRate).
// Its wait is a queue served at the learned rate, highest attempt first; it
// starts no goroutine: the waiter at the head sleeps until its slot, then
// hands the head to the next.
type pacer struct {
	mu sync.Mutex
	on bool // a create has been answered 429

	// The control law. The rate at time t is hold until probeAt, then grows:
	// back to ceiling over paceApproach, then doubling every paceDoubling.
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
	queue   paceQueue
	seq     uint64
}

// paceSlot is what a create was granted: when, and at what rate.
type paceSlot struct {
	at   time.Time
	rate float64 // 0: not paced
}

// active reports whether creates are paced now.
func (p *pacer) active() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.on
}

// rateAt is the control law's rate at t.
func (p *pacer) rateAt(t time.Time) float64 {
	if t.Before(p.probeAt) {
		return p.hold
	}
	grown := t.Sub(p.probeAt)
	r := p.hold
	if p.ceiling > p.hold {
		if grown < paceApproach {
			return p.hold + (p.ceiling-p.hold)*float64(grown)/float64(paceApproach)
		}
		r, grown = p.ceiling, grown-paceApproach
	}
	return min(r*math.Exp2(float64(grown)/float64(paceDoubling)), paceMaxRate)
}

// wait holds a create's attempt until its slot: after the create class's
// cool-down, at the learned rate, behind the waiters on later attempts. It
// fails at once, as cooldown.wait does, when the cool-down cannot be waited
// out, and with ctx's error when ctx ends.
func (p *pacer) wait(ctx context.Context, attempt int, cool *cooldown, maxWait time.Duration) (paceSlot, error) {
	if _, err := cool.check(ctx, maxWait); err != nil {
		return paceSlot{}, err
	}
	p.mu.Lock()
	w := &paceWaiter{attempt: attempt, seq: p.seq, wake: make(chan struct{}, 1)}
	p.seq++
	heap.Push(&p.queue, w)
	p.wakeHead()
	for {
		var sleep <-chan time.Time
		var timer *time.Timer
		if p.queue[0] == w {
			now := time.Now()
			until, _ := cool.current()
			at := p.next
			if until.After(at) {
				at = until
			}
			if !now.Before(at) {
				heap.Pop(&p.queue)
				// The rate this create goes at is what the server sees:
				// one over the gap since the one before.
				sentAt := paceMaxRate
				if gap := now.Sub(p.granted); gap > 0 {
					sentAt = min(float64(time.Second)/float64(gap), paceMaxRate)
				}
				p.granted = now
				p.next = now.Add(time.Duration(float64(time.Second) / p.rateAt(now)))
				p.wakeHead()
				p.mu.Unlock()
				return paceSlot{at: now, rate: sentAt}, nil
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
			return paceSlot{}, err
		}
	}
}

// wakeHead tells the waiter at the head of the queue to look again: it may
// have just become the head, or the head's slot may have moved.
func (p *pacer) wakeHead() {
	if len(p.queue) > 0 {
		select {
		case p.queue[0].wake <- struct{}{}:
		default: // already told
		}
	}
}

// observe learns from a create that got a response: throttled for a 429,
// whose pause (bounded by the Retry-After cap) ends at pausedUntil.
func (p *pacer) observe(slot paceSlot, throttled bool, pausedUntil time.Time) {
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
		p.hold = under(p.hold) // under never gives less than paceMinRate
		p.ceiling, p.epoch, p.throttle, p.atHold = 0, paceFirstEpoch, now, false
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
func (p *pacer) throttled(rate float64, now, pausedUntil time.Time) {
	probing := !now.Before(p.probeAt) && rate > p.hold
	same := p.ceiling > 0 && math.Abs(rate-p.ceiling) <= paceSameCeiling*p.ceiling
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
		p.hold = max(rate*paceCutHolding, paceMinRate)
		p.epoch = paceFirstEpoch
	default:
		// Probing found the ceiling: hold under the highest rate that
		// succeeded on the way up. The same ceiling again means the cap
		// holds, so probe it less often; a new one (the cap rose, or fell)
		// is learned quickly.
		ok := p.okRate
		if ok == 0 {
			ok = rate * paceBackoff // nothing succeeded on the way up
		}
		p.hold = under(min(ok, rate))
		p.atHold = false
		if same {
			p.epoch = min(2*p.epoch, paceMaxEpoch)
		} else {
			p.epoch = paceFirstEpoch
		}
	}
	p.ceiling = rate
	p.okRate, p.throttle = 0, now
	p.probeAt = later(now, pausedUntil).Add(p.epoch)
}

// under is the rate to hold at below r, a rate that succeeded: a little
// under it, and spaced paceJitter more, so that the jitter of sending (a
// timer, the network) does not bunch two creates into a 429 against a
// strict cap.
func under(r float64) float64 {
	return max(1/(1/(r*paceBackoff)+paceJitter.Seconds()), paceMinRate)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// paceWaiter is a create waiting for its slot.
type paceWaiter struct {
	attempt int
	seq     uint64 // arrival order among equal attempts
	index   int    // in the heap
	wake    chan struct{}
}

// paceQueue orders waiters: later attempts first, then first come.
type paceQueue []*paceWaiter

func (q paceQueue) Len() int { return len(q) }
func (q paceQueue) Less(i, j int) bool {
	if q[i].attempt != q[j].attempt {
		return q[i].attempt > q[j].attempt
	}
	return q[i].seq < q[j].seq
}
func (q paceQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *paceQueue) Push(x any) {
	w := x.(*paceWaiter)
	w.index = len(*q)
	*q = append(*q, w)
}
func (q *paceQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return w
}
