package pace

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The law through a Client against a capped server (learning a strict cap,
// following it up and down, no herd after a pause) is tested in the
// heliumid package's adaptive_test.go; these test the pacer's own parts.

func noPause() time.Time { return time.Time{} }

// TestPacedRetriesGoFirst: waiters on a later attempt are served before
// earlier ones, whatever their arrival order.
func TestPacedRetriesGoFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		p := &Pacer{law: law{on: true, hold: 1, probeAt: now.Add(time.Hour)}}
		p.next = now.Add(time.Second)
		var order []int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, attempt := range []int{1, 2, 1, 3, 2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := p.Wait(context.Background(), attempt, noPause)
				assert.NoError(t, err)
				mu.Lock()
				order = append(order, attempt)
				mu.Unlock()
			}()
			synctest.Wait()
		}
		wg.Wait()
		assert.Equal(t, []int{3, 2, 2, 1, 1}, order)
		assert.Equal(t, 5*time.Second, time.Since(now), "one a second, the rate it holds")
	})
}

// TestAPacedWaitEndsWithItsContext: a waiter whose context ends leaves the
// queue, and the next one takes its place.
func TestAPacedWaitEndsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &Pacer{law: law{on: true, hold: 1}}
		p.next = time.Now().Add(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := p.Wait(ctx, 5, noPause)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Empty(t, p.queue)

		p.next = time.Now()
		_, err = p.Wait(context.Background(), 1, noPause)
		assert.NoError(t, err)
	})
}

// TestAThrottleAtTheHoldStepsUnderItThenCuts: one 429 at the held rate is
// most likely two creates bunched by the network (a strict cap leaves a few
// ms of slack): the hold steps just under it and the probe schedule stays.
// A second one means the cap fell: cut by 30 %, probe again soon.
func TestAThrottleAtTheHoldStepsUnderItThenCuts(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	p := law{on: true, hold: 19, ceiling: 20, epoch: 8 * time.Second, probeAt: now.Add(5 * time.Second)}
	probeAt := p.probeAt
	p = p.throttled(19, now, now.Add(time.Second))
	assert.InDelta(t, under(19), p.hold, 1e-9)
	assert.Equal(t, 8*time.Second, p.epoch, "the probe schedule stays")
	assert.Equal(t, probeAt, p.probeAt)
	assert.Equal(t, 20.0, p.ceiling, "and so does the ceiling")

	now = now.Add(3 * time.Second)
	p.probeAt = now.Add(5 * time.Second)
	held := p.hold
	p = p.throttled(held, now, now.Add(time.Second))
	assert.InDelta(t, held*cutHolding, p.hold, 1e-9)
	assert.Equal(t, firstEpoch, p.epoch)

	// A probe's throttle in between resets it: the next one at the hold is
	// again taken for jitter.
	now = now.Add(10 * time.Second)
	p.okRate = 15
	p = p.throttled(16, now, now.Add(time.Second))
	assert.InDelta(t, under(15), p.hold, 1e-9)
	now = now.Add(time.Second)
	p.probeAt = now.Add(5 * time.Second)
	p = p.throttled(p.hold, now, now.Add(time.Second))
	assert.InDelta(t, under(under(15)), p.hold, 1e-9)
}

// TestAPacedWaitOutlastsThePause: no slot is granted before the pause that
// pausedUntil reports ends, and one that moves later is followed.
func TestAPacedWaitOutlastsThePause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		until := start.Add(2 * time.Second)
		var mu sync.Mutex
		paused := func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return until
		}
		p := &Pacer{law: law{on: true, hold: 100}}
		time.AfterFunc(time.Second, func() {
			mu.Lock()
			until = start.Add(3 * time.Second)
			mu.Unlock()
		})
		slot, err := p.Wait(context.Background(), 1, paused)
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, slot.at.Sub(start), "woken at the first end, the head finds the pause extended and waits it out")
	})
}
