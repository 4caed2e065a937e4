package redisrate_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/heliumid/heliumid-go/redisrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lawClock is the adaptive law's clock in these tests: it moves only when
// told, so the law's rates, cuts, growth and probe spacing are exact.
type lawClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *lawClock) read() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *lawClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// lawFixture is one or more Limiters sharing a key on a real Redis, their
// law on a stepped clock.
type lawFixture struct {
	t     *testing.T
	clock *lawClock
	srv   testRedis
	key   string
	limit redisrate.Limit
}

func newLawFixture(t *testing.T, srv testRedis, perSecond int) *lawFixture {
	return &lawFixture{t: t, clock: &lawClock{now: time.UnixMilli(1_700_000_000_000)}, srv: srv, key: "law", limit: redisrate.PerSecond(perSecond)}
}

// process returns a new Limiter on its own connections, as another process
// of the fleet would have.
func (f *lawFixture) process() *redisrate.Limiter {
	l := redisrate.New(f.srv.client(f.t), f.key, f.limit)
	redisrate.SetAdaptiveClock(l, f.clock.read)
	return l
}

// report tells Redis what l saw (ok successes, then a 429 when throttled)
// and returns the learned rate.
func (f *lawFixture) report(l *redisrate.Limiter, ok int, throttled bool) float64 {
	f.t.Helper()
	for range ok {
		l.Feedback(false)
	}
	if throttled {
		l.Feedback(true)
	}
	r, err := redisrate.Learn(f.t.Context(), l)
	require.NoError(f.t, err)
	return r
}

// holdUnder is the rate the law holds at below ok, the highest rate that
// succeeded: 97 % of it, spaced 1 ms more for the jitter of sending.
func holdUnder(ok float64) float64 {
	return 1 / (1/(ok*0.97) + 0.001)
}

// The ages Feedback measures are real milliseconds (at most a few in these
// tests) and the law moves with the stepped clock, so rates are compared
// within what a few ms of growth can change.
const lawDelta = 0.3

func TestAdaptiveRateIsTheLimitUntilTheFirst429(t *testing.T) {
	eachRedis(t, adaptiveRateIsTheLimitUntilTheFirst429)
}

func adaptiveRateIsTheLimitUntilTheFirst429(t *testing.T, srv testRedis) {
	f := newLawFixture(t, srv, 40)
	l := f.process()
	for range 5 {
		assert.Equal(t, 40.0, f.report(l, 10, false))
		f.clock.advance(300 * time.Millisecond)
	}
}

func TestAdaptiveRateLearnsCutsAndGrowsBackForTheFleet(t *testing.T) {
	eachRedis(t, adaptiveRateLearnsCutsAndGrowsBackForTheFleet)
}

func adaptiveRateLearnsCutsAndGrowsBackForTheFleet(t *testing.T, srv testRedis) {
	f := newLawFixture(t, srv, 100)
	a, b := f.process(), f.process()

	// 12 creates succeeded this second across the fleet, then a 429: hold
	// just under 12/s from now.
	f.report(a, 7, false)
	f.report(b, 5, false)
	f.clock.advance(100 * time.Millisecond)
	h0 := holdUnder(12)
	assert.InDelta(t, h0, f.report(a, 0, true), lawDelta, "the first 429 holds under what succeeded in the last second")
	// (No pause was shared here, so growth starts at once.)
	assert.InDelta(t, h0, f.report(b, 0, false), lawDelta, "every process paces at the fleet's rate")

	// Growth: doubling every 500 ms from the hold.
	f.clock.advance(500 * time.Millisecond)
	assert.InDelta(t, 2*h0, f.report(b, 0, false), lawDelta)
	f.clock.advance(400 * time.Millisecond)
	okRate := h0 * math.Exp2(1.8)
	assert.InDelta(t, okRate, f.report(a, 1, false), lawDelta) // a success at 39.6/s
	f.clock.advance(100 * time.Millisecond)

	// A 429 while probing at 45.5/s: hold under what last succeeded, for a
	// first epoch of 2 s, then back up to the ceiling over 1 s.
	ceiling := 4 * h0
	hold := holdUnder(okRate)
	assert.InDelta(t, hold, f.report(b, 0, true), lawDelta)
	f.clock.advance(300 * time.Millisecond)
	assert.InDelta(t, hold, f.report(a, 0, true), lawDelta, "a 429 within a second of the last belongs to it")
	f.clock.advance(1700 * time.Millisecond)
	assert.InDelta(t, hold, f.report(a, 0, false), lawDelta, "the epoch holds for 2 s")
	f.clock.advance(500 * time.Millisecond)
	assert.InDelta(t, (hold+ceiling)/2, f.report(a, 0, false), lawDelta, "halfway back to the ceiling after half the approach")
	f.clock.advance(500 * time.Millisecond)
	assert.InDelta(t, ceiling, f.report(a, 0, false), lawDelta)
	f.clock.advance(500 * time.Millisecond)
	assert.InDelta(t, 2*ceiling, f.report(a, 0, false), lawDelta, "above the ceiling, doubling")
	f.clock.advance(time.Second)
	assert.Equal(t, 100.0, f.report(a, 0, false), "never above the configured Limit")
}

func TestAdaptiveRateProbesTheSameCeilingLessOften(t *testing.T) {
	eachRedis(t, adaptiveRateProbesTheSameCeilingLessOften)
}

func adaptiveRateProbesTheSameCeilingLessOften(t *testing.T, srv testRedis) {
	f := newLawFixture(t, srv, 100)
	first, b := f.process(), f.process()
	f.report(first, 20, false)
	require.NoError(t, first.ShareCooldown(t.Context(), time.Now().Add(time.Second)))
	first429 := f.report(first, 0, true) // hold just under 20 through the 1 s pause
	// The cap is 29/s: creates succeed up to it, the next is throttled.
	// Each time the ceiling is the same, so the epoch (the time held before
	// the next probe) doubles from 2 s up to 32 s.
	hold := first429
	var epochs []time.Duration
	for range 7 {
		held := time.Duration(0)
		for f.report(b, 0, false) == hold { // exact: the law returns the hold itself until the probe
			f.clock.advance(50 * time.Millisecond)
			held += 50 * time.Millisecond
		}
		epochs = append(epochs, held)
		for f.report(b, 0, false) < 29 {
			f.clock.advance(10 * time.Millisecond)
		}
		f.report(b, 1, false)
		f.clock.advance(10 * time.Millisecond)
		hold = f.report(b, 0, true)
		assert.InDelta(t, holdUnder(29), hold, 0.6, "the hold is just under the ceiling")
	}
	// The first hold is the pause; then 2 s after a new ceiling, and twice
	// as long each time the same ceiling recurs.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 32 * time.Second}
	for i := range want {
		assert.InDelta(t, want[i].Seconds(), epochs[i].Seconds(), 0.06, "epoch %d", i)
	}
}

func TestAdaptiveRateCutsHarderWhenThrottledWhileHolding(t *testing.T) {
	eachRedis(t, adaptiveRateCutsHarderWhenThrottledWhileHolding)
}

func adaptiveRateCutsHarderWhenThrottledWhileHolding(t *testing.T, srv testRedis) {
	f := newLawFixture(t, srv, 1000)
	l := f.process()
	f.report(l, 30, false)
	f.report(l, 0, true) // hold under 30, growing at once (no pause was shared)
	f.clock.advance(time.Second)
	okRate := 4 * holdUnder(30)
	assert.InDelta(t, okRate, f.report(l, 1, false), lawDelta) // a success at about 110/s
	f.clock.advance(100 * time.Millisecond)
	hold := holdUnder(okRate)
	assert.InDelta(t, hold, f.report(l, 0, true), lawDelta, "throttled while probing: hold under what succeeded")
	f.clock.advance(time.Second)
	stepped := holdUnder(hold)
	assert.InDelta(t, stepped, f.report(l, 0, true), lawDelta, "throttled at the held rate: two creates bunched, or the cap fell; step under it")
	f.clock.advance(time.Second)
	assert.InDelta(t, stepped*0.7, f.report(l, 0, true), lawDelta, "throttled at the held rate again: the cap fell; cut by 30 %")
	f.clock.advance(1990 * time.Millisecond)
	assert.InDelta(t, stepped*0.7, f.report(l, 0, false), lawDelta, "and hold for a first epoch again")
}

func TestAdaptiveRateWaitsOutTheSharedPauseBeforeGrowing(t *testing.T) {
	eachRedis(t, adaptiveRateWaitsOutTheSharedPauseBeforeGrowing)
}

func adaptiveRateWaitsOutTheSharedPauseBeforeGrowing(t *testing.T, srv testRedis) {
	f := newLawFixture(t, srv, 100)
	l := f.process()
	f.report(l, 10, false)
	require.NoError(t, l.ShareCooldown(t.Context(), time.Now().Add(time.Second)))
	f.report(l, 0, true)
	f.clock.advance(990 * time.Millisecond)
	assert.InDelta(t, holdUnder(10), f.report(l, 0, false), lawDelta, "no growth during the pause")
	f.clock.advance(510 * time.Millisecond)
	assert.InDelta(t, 2*holdUnder(10), f.report(l, 0, false), 1.0, "doubling from the pause's end")
}

func TestWaitPacesAtTheFleetsLearnedRate(t *testing.T) {
	eachRedis(t, waitPacesAtTheFleetsLearnedRate)
}

func waitPacesAtTheFleetsLearnedRate(t *testing.T, srv testRedis) {
	f := newLawFixture(t, srv, 1000)
	a := f.process()
	rdb := f.srv.client(t)
	seen := &admissions{gcraKey: "rate:heliumid:law"}
	rdb.AddHook(seen)
	b := redisrate.New(rdb, f.key, f.limit)
	redisrate.SetAdaptiveClock(b, f.clock.read)

	require.NoError(t, b.Wait(t.Context()))
	require.NotEmpty(t, seen.asked())
	for _, r := range seen.asked() {
		assert.Equal(t, 1000.0, r, "before any 429: the configured Limit")
	}

	f.report(a, 100, false)
	f.report(a, 0, true) // another process learned 100/s
	before := len(seen.asked())
	require.NoError(t, b.Wait(t.Context()))
	asked := seen.asked()[before:]
	require.GreaterOrEqual(t, len(asked), 2)
	assert.InDeltaSlice(t, []float64{1000, holdUnder(100)}, asked[:2], 0.001,
		"this process asks at its copy of the rate, hears of the cut in the same round trip as the slot, leaves that slot unused and asks at the fleet's rate")
	assert.InDelta(t, holdUnder(100), asked[len(asked)-1], 0.001)
	b.Feedback(false)

	// The Feedback of a create carries the rate its slot went out at: one
	// over the time since the fleet's slot before it, on the law's clock.
	// Slots 1.2 s, then 2 ms, then 1 ms apart: the first two succeed, the
	// third is answered 429, and the fleet holds under the 500/s at which
	// a create last succeeded.
	f.clock.advance(1200 * time.Millisecond)
	sentAt := holdUnder(100) * math.Exp2(1200.0/500)
	assert.InDelta(t, sentAt, f.report(b, 0, false), 1)
	for _, gap := range []time.Duration{0, 2 * time.Millisecond, time.Millisecond} {
		f.clock.advance(gap)
		require.NoError(t, b.Wait(t.Context()))
	}
	b.Feedback(false)
	b.Feedback(false)
	b.Feedback(true)
	// (Not under the 588/s the throttled one went out at, smoothed, nor
	// under the law's rate by then.)
	assert.InDelta(t, holdUnder(500), f.report(b, 0, false), 5)
}

func TestTheFirst429HoldsAtHalfTheRateItWasSentAt(t *testing.T) {
	eachRedis(t, theFirst429HoldsAtHalfTheRateItWasSentAt)
}

func theFirst429HoldsAtHalfTheRateItWasSentAt(t *testing.T, srv testRedis) {
	f := newLawFixture(t, srv, 1000)
	l := f.process()
	for range 3 {
		f.clock.advance(10 * time.Millisecond) // slots 10 ms apart: 100/s
		require.NoError(t, l.Wait(t.Context()))
	}
	l.Feedback(false)
	l.Feedback(false)
	l.Feedback(true)
	assert.InDelta(t, holdUnder(50), f.report(l, 0, false), 0.5, "under half of 100/s, more than the 2 that succeeded")
}

func TestFeedbackDoesNoIOAndInvalidLimitersIgnoreIt(t *testing.T) {
	srv := startRedis(t)
	l := redisrate.New(newClient(t, srv.addr), "gone", redisrate.PerSecond(10))
	srv.kill()
	done := make(chan struct{})
	go func() {
		for range 1000 {
			l.Feedback(true)
			l.Feedback(false)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Feedback blocked with Redis down")
	}
	assert.ErrorIs(t, l.Wait(t.Context()), redisrate.ErrRedisUnavailable, "Wait still fails closed")

	assert.NotPanics(t, func() { redisrate.New(nil, "", redisrate.Limit{}).Feedback(true) })
}

// The Client tells the Limiter every create's outcome: three creates
// succeed, the fourth is answered 429, and the fleet then paces below its
// configured Limit.
func TestTheClientReportsCreatesToTheLimiter(t *testing.T) {
	eachRedis(t, theClientReportsCreatesToTheLimiter)
}

func theClientReportsCreatesToTheLimiter(t *testing.T, srv testRedis) {
	fake := heliumidtest.NewServer(heliumidtest.WithRateLimit(3, time.Minute))
	t.Cleanup(fake.Close)
	lim := redisrate.New(srv.client(t), "client", redisrate.PerSecond(100))
	client, err := heliumid.NewClient(fake.APIKey(), heliumid.WithBaseURL(fake.URL), heliumid.WithRateLimiter(lim), heliumid.WithMaxRetries(0))
	require.NoError(t, err)
	for range 3 {
		_, err := client.CreateVerification(t.Context(), &heliumid.CreateVerificationRequest{VendorData: "user-1"})
		require.NoError(t, err)
	}
	_, err = client.CreateVerification(t.Context(), &heliumid.CreateVerificationRequest{VendorData: "user-1"})
	require.ErrorIs(t, err, heliumid.ErrRateLimited)

	r, err := redisrate.Learn(t.Context(), lim)
	require.NoError(t, err)
	// Held at the 3 that succeeded or half the rate the fourth went out at,
	// whichever is more: below the configured 100/s either way.
	assert.GreaterOrEqual(t, r, 3.0)
	assert.Less(t, r, 100.0/2+1)
}
