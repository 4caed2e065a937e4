// Package pace is the adaptive pacing of session creation that
// heliumid.WithAdaptiveRate documents: after a create's first 429 it paces
// every create at a rate learned from the server's answers, cut on
// throttles and grown back while creates succeed, holding just under the
// highest rate that succeeded and probing above it less and less often
// while the cap stays where it was. Reads are never paced.
//
// The control law is a pure step (law.go: law.step, from a state, an
// outcome and the time to the next state, and law.rateAt), with its
// constants in one table; the Pacer around it holds the queue, the slots
// and the law's state. The same law runs in Lua, on Redis, for a fleet of
// processes in the redisrate module (redisrate/adaptive.go). Its one truth
// is testdata/law.json: the constants and a table of cases (successes,
// 429s, pauses and time passing, with the rates and state the law must
// show after each), with the differences the fleet's law must have named
// there, case by case. This package's tests check its constants against the
// table and run every case on law.step; redisrate's tests read the same
// file (a file of the repository: the modules are released apart, and none
// imports another's internal packages), check the constants its script is
// given and run every case on the script on a real redis-server. A change
// to the law or a constant in one runtime, not made in the table and the
// other, fails CI.
package pace

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Pacer is a Client's adaptive pacing of creates; its zero value is ready,
// and paces nothing until the first throttle. Its Wait is a queue served at
// the learned rate, highest attempt first; it starts no goroutine: the
// waiter at the head sleeps until its slot, then hands the head to the next.
type Pacer struct {
	mu  sync.Mutex
	law law // what the server's answers taught: see step

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
	return p.law.on
}

// Rates returns the rate the pacer holds and the ceiling it last found
// (creates per second; 0 before the first paced throttle), for tests and
// diagnostics.
func (p *Pacer) Rates() (hold, ceiling float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.law.hold, p.law.ceiling
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
				p.next = now.Add(time.Duration(float64(time.Second) / p.law.rateAt(now)))
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
	wasOn := p.law.on
	p.law = p.law.step(outcome{throttled: throttled, sentAt: slot.at, rate: slot.rate, pausedUntil: pausedUntil}, time.Now())
	if !wasOn && p.law.on {
		p.next = p.law.probeAt // the first 429: no create before its pause ends
	}
}
