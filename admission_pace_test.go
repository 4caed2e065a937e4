package heliumid

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// createFor runs workers goroutines creating sessions until total were asked
// for or d has passed, and returns how many calls failed.
func createFor(c *Client, workers, total int, d time.Duration) (failed int64) {
	var left, fails atomic.Int64
	left.Store(int64(total))
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; left.Add(-1) >= 0 && time.Now().Before(deadline); i++ {
				req := &CreateVerificationRequest{VendorData: "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)}
				if _, err := c.CreateVerification(context.Background(), req); err != nil {
					fails.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return fails.Load()
}

// TestAdaptiveRateNeverPacesBeforeTheFirst429: the first wave goes out
// unpaced, and an uncapped server never sees pacing at all.
func TestAdaptiveRateNeverPacesBeforeTheFirst429(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newCappedAPI(0, 1)
		c := api.client(t)
		require.Zero(t, createFor(c, 64, 64, time.Hour))
		for _, r := range api.requests() {
			assert.Equal(t, 2*time.Millisecond, r.at, "every create of the first wave at once")
		}
		assert.False(t, c.creates.pace.Active())
	})
}

// TestAdaptiveRateLearnsAStrictCap: 64 goroutines against an undisclosed
// 20/s strict bucket: no call fails, the rate settles just under the cap,
// and probes above it come less and less often while it stays there.
func TestAdaptiveRateLearnsAStrictCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newCappedAPI(20, 1)
		c := api.client(t)
		assert.Zero(t, createFor(c, 64, 1<<30, 130*time.Second), "no call runs out of retries")

		ok, throttled := api.created(10*time.Second, 130*time.Second)
		t.Logf("steady state: %d created (%.1f/s), %d answered 429; throttles at %v", ok, float64(ok)/120, throttled, api.throttles())
		assert.GreaterOrEqual(t, float64(ok)/120, 0.9*20, "at least 90%% of the cap once learned")
		assert.LessOrEqual(t, float64(throttled)/float64(ok+throttled), 0.02, "at most 2%% of attempts answered 429")

		// Probes at the same ceiling come further and further apart.
		at := api.throttles()
		require.GreaterOrEqual(t, len(at), 5)
		for i := 3; i < len(at); i++ {
			assert.Greater(t, at[i]-at[i-1], at[i-1]-at[i-2]-time.Second, "probe %d came sooner than the one before: %v", i, at)
		}
		assert.GreaterOrEqual(t, at[len(at)-1]-at[len(at)-2], 30*time.Second, "probes settle at about half a minute apart: %v", at)

		// Cut and grown: the hold sits under the last ceiling.
		hold, ceiling := c.creates.pace.Rates()
		assert.InDelta(t, 20, ceiling, 1.5)
		assert.Less(t, hold, ceiling)
		assert.Greater(t, hold, 0.9*20)
	})
}

// TestAdaptiveRateColdBurst: 300 creates from a cold client, 64 goroutines,
// against an undisclosed 20/s strict bucket: no call fails, and the whole
// burst runs at 60 % of the cap or more, the first unpaced wave, its pause
// and the learning included.
func TestAdaptiveRateColdBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newCappedAPI(20, 1)
		c := api.client(t)
		start := time.Now()
		assert.Zero(t, createFor(c, 64, 300, time.Hour), "no call runs out of retries")
		elapsed := time.Since(start)
		ok, throttled := api.created(0, time.Hour)
		require.Equal(t, 300, ok)
		t.Logf("300 creates in %v (%.1f/s), %d answered 429", elapsed, 300/elapsed.Seconds(), throttled)
		assert.GreaterOrEqual(t, 300/elapsed.Seconds(), 0.6*20)
	})
}

// TestAdaptiveRateFollowsARisingCap: once a probe finds the cap moved, the
// rate grows to it within seconds.
func TestAdaptiveRateFollowsARisingCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newCappedAPI(10, 1)
		c := api.client(t)
		time.AfterFunc(20*time.Second, func() { api.setCap(40) })
		assert.Zero(t, createFor(c, 64, 1<<30, 60*time.Second))
		before, _ := api.created(10*time.Second, 20*time.Second)
		t.Logf("throttles at %v", api.throttles())
		assert.InDelta(t, 10, float64(before)/10, 1.5, "it held the old cap")
		after, _ := api.created(30*time.Second, 60*time.Second)
		assert.GreaterOrEqual(t, float64(after)/30, 0.8*40, "80%% of the new cap from 10 s after it rose")
	})
}

// TestAdaptiveRateFollowsAFallingCap: a throttle at the rate it holds cuts
// the rate at once.
func TestAdaptiveRateFollowsAFallingCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newCappedAPI(40, 1)
		c := api.client(t)
		time.AfterFunc(20*time.Second, func() { api.setCap(10) })
		assert.Zero(t, createFor(c, 64, 1<<30, 60*time.Second))
		ok, throttled := api.created(35*time.Second, 60*time.Second)
		t.Logf("throttles at %v", api.throttles())
		assert.GreaterOrEqual(t, float64(ok)/25, 0.85*10, "down to the new cap within 15 s")
		assert.LessOrEqual(t, float64(ok)/25, 10.5)
		assert.LessOrEqual(t, throttled, 4, "a few probes in 25 s")
	})
}

// TestNoHerdAfterACooldown: when a 429's pause ends, the waiting creates go
// out at the learned rate, those on their later attempts first.
func TestNoHerdAfterACooldown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newCappedAPI(20, 1)
		c := api.client(t)
		done := make(chan int64)
		go func() { done <- createFor(c, 64, 64, time.Hour) }() // the cold wave: 1 created, 63 answered 429
		time.Sleep(time.Second + 500*time.Millisecond)          // the pause (1 s), then half a second

		var retries []time.Duration
		for _, r := range api.requests() {
			if r.at > time.Second {
				retries = append(retries, r.at)
			}
		}
		require.NotEmpty(t, retries)
		assert.Less(t, len(retries), 20, "released at the learned rate, not all 63 when the pause ended")
		for i := 1; i < len(retries); i++ {
			assert.Greater(t, retries[i]-retries[i-1], 10*time.Millisecond, "spaced out")
		}

		// A fresh create arriving now waits behind the retries queued
		// before it: it is the last create sent.
		fresh := make(chan error)
		go func() {
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{VendorData: "fresh"})
			fresh <- err
		}()
		require.Zero(t, <-done)
		require.NoError(t, <-fresh)
		reqs := api.requests()
		assert.Equal(t, "fresh", reqs[len(reqs)-1].vendorData(), "the fresh create went after every retry queued before it")
	})
}

// TestAdaptiveRateNeverPacesReads: during a create throttle, reads go out at
// once.
func TestAdaptiveRateNeverPacesReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newCappedAPI(1, 1)
		c := api.client(t)
		done := make(chan int64)
		go func() { done <- createFor(c, 8, 30, time.Minute) }()
		time.Sleep(3 * time.Second) // throttled, paced at about 1/s
		require.True(t, c.creates.pace.Active())
		start := time.Now()
		for range 20 {
			_, err := c.GetVerification(context.Background(), "v")
			require.NoError(t, err)
		}
		assert.Equal(t, 20*2*time.Millisecond, time.Since(start), "each read takes its round trip, nothing more")
		<-done
	})
}

// TestAdaptiveRateCanBeTurnedOff: with WithAdaptiveRate(false), the 0.1
// behaviour: when the pause ends, every waiting create goes out at once.
func TestAdaptiveRateCanBeTurnedOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newCappedAPI(20, 1)
		c := api.client(t, WithAdaptiveRate(false))
		createFor(c, 64, 64, 1100*time.Millisecond)
		second := 0
		for _, r := range api.requests() {
			if r.at > time.Second && r.at < time.Second+10*time.Millisecond {
				second++
			}
		}
		assert.Equal(t, 63, second, "the herd: every throttled create again at the end of the pause")
		assert.False(t, c.creates.pace.Active())
	})
	synctest.Test(t, func(t *testing.T) {
		api := newCappedAPI(1, 1)
		c := api.client(t)
		done := make(chan int64)
		go func() { done <- createFor(c, 8, 30, time.Minute) }()
		defer func() { <-done }()
		time.Sleep(3 * time.Second)
		require.True(t, c.creates.pace.Active())
		start := time.Now()
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithAdaptiveRate(false), WithMaxRetries(0))
		assert.Less(t, time.Since(start), time.Second+10*time.Millisecond, "one call can skip the queue (it still honours the pause)")
		if err != nil {
			assert.ErrorIs(t, err, ErrRateLimited)
		}
	})
}

// TestAdaptiveRateCombinesWithARateLimiter: every create attempt waits for
// both, and a RateFeedback limiter hears each outcome.
func TestAdaptiveRateCombinesWithARateLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newCappedAPI(10, 1)
		lim := &recordingLimiter{inner: rate.NewLimiter(5, 1)} // a budget of our own below the cap
		c := api.client(t, WithRateLimiter(lim))
		require.Zero(t, createFor(c, 8, 40, time.Minute))
		reqs := api.requests()
		assert.Len(t, lim.feedback, len(reqs), "one outcome per create that got a response")
		assert.Equal(t, lim.waits, len(reqs))
		for i, r := range reqs {
			assert.Equal(t, r.status == http.StatusTooManyRequests, lim.feedback[i])
		}
		ok, throttled := api.created(0, time.Hour)
		assert.Equal(t, 40, ok)
		assert.Zero(t, throttled, "the limiter's budget is under the cap: never throttled, never paced")
		assert.False(t, c.creates.pace.Active())
	})
}
