package heliumidtest

import (
	"fmt"
	"math"
	"time"

	"golang.org/x/time/rate"
)

// creationCap is the session-creation cap of [WithRateLimit] or
// [WithTokenBucket], on the Server's clock. The caller holds s.mu.
type creationCap interface {
	// take records one creation at now if the cap allows it. Otherwise it
	// returns how long until one is allowed (always > 0) and records
	// nothing.
	take(now time.Time) (wait time.Duration, ok bool)
	// reset forgets the creations so far, as at the Server's start.
	reset(now time.Time)
	// String describes the cap for a 429's message.
	String() string
}

// windowCap is WithRateLimit's cap: a sliding log of the creation times
// within the last per.
type windowCap struct {
	n    int
	per  time.Duration
	made []time.Time // creation times still in the window, oldest first
}

func (c *windowCap) take(now time.Time) (time.Duration, bool) {
	// Drop the creations that left the window: one made at t counts until
	// t+per, exclusive, so Advance(per) frees it.
	i := 0
	for i < len(c.made) && !c.made[i].Add(c.per).After(now) {
		i++
	}
	c.made = c.made[i:]
	if len(c.made) >= c.n {
		// With a lowered n, more than n may still be in the window: the
		// one that must leave for a slot to free is len-n from the oldest.
		return c.made[len(c.made)-c.n].Add(c.per).Sub(now), false
	}
	c.made = append(c.made, now)
	return 0, true
}

func (c *windowCap) reset(time.Time) { c.made = nil }

func (c *windowCap) String() string { return fmt.Sprintf("at most %d per %v", c.n, c.per) }

// bucketCap is WithTokenBucket's cap: golang.org/x/time/rate's token
// bucket, always given the Server's clock explicitly (AllowN, ReserveN), so
// that it runs on the virtual clock as well as the wall clock.
type bucketCap struct {
	lim *rate.Limiter
}

func newBucketCap(perSecond float64, burst int, now time.Time) *bucketCap {
	lim := rate.NewLimiter(rate.Limit(perSecond), burst) // full
	lim.SetLimitAt(now, rate.Limit(perSecond))           // and its clock at now
	return &bucketCap{lim: lim}
}

func (c *bucketCap) take(now time.Time) (time.Duration, bool) {
	if c.lim.AllowN(now, 1) {
		return 0, true
	}
	// How long until a token: reserve one, read the delay, give it back.
	r := c.lim.ReserveN(now, 1)
	defer r.CancelAt(now)
	return max(r.DelayFrom(now), time.Nanosecond), false
}

func (c *bucketCap) reset(now time.Time) {
	*c = *newBucketCap(float64(c.lim.Limit()), c.lim.Burst(), now)
}

func (c *bucketCap) String() string {
	return fmt.Sprintf("at most %g per second, in bursts of at most %d", float64(c.lim.Limit()), c.lim.Burst())
}

// set changes the bucket's rate and burst at now, keeping the tokens it
// holds (at most the new burst).
func (c *bucketCap) set(perSecond float64, burst int, now time.Time) {
	c.lim.SetLimitAt(now, rate.Limit(perSecond))
	c.lim.SetBurstAt(now, burst)
}

// checkWindow and checkBucket validate the arguments of the cap options
// and setters; msg says what is wrong.
func checkWindow(n int, per time.Duration) (msg string) {
	if n <= 0 || per <= 0 {
		return "n and per must be positive"
	}
	return ""
}

func checkBucket(perSecond float64, burst int) (msg string) {
	if !(perSecond > 0) || math.IsInf(perSecond, 0) || burst < 1 {
		return "want a rate above 0 and finite, and a burst of at least 1"
	}
	return ""
}

// SetRateLimit replaces the Server's creation cap, while it runs, with the
// sliding window of [WithRateLimit]: at most n sessions per per. Going from
// one window to another keeps the creations already in it (lowering n below
// what it holds refuses creates until enough leave); from a token bucket or
// no cap, the window starts empty. It returns an error when n or per is not
// positive, changing nothing.
func (s *Server) SetRateLimit(n int, per time.Duration) error {
	if msg := checkWindow(n, per); msg != "" {
		return fmt.Errorf("heliumidtest: SetRateLimit(%d, %v): %s", n, per, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.creations.(*windowCap); ok {
		w.n, w.per = n, per
		return nil
	}
	s.creations = &windowCap{n: n, per: per}
	return nil
}

// SetTokenBucket replaces the Server's creation cap, while it runs, with the
// token bucket of [WithTokenBucket]: ratePerSecond sessions per second, in
// bursts of at most burst. Going from one bucket to another keeps the tokens
// it holds (at most the new burst), so raising the rate mid-run takes
// effect at once without a burst of its own; from a window or no cap, the
// bucket starts full. It returns an error for a rate that is not positive
// and finite or a burst below 1, changing nothing.
func (s *Server) SetTokenBucket(ratePerSecond float64, burst int) error {
	if msg := checkBucket(ratePerSecond, burst); msg != "" {
		return fmt.Errorf("heliumidtest: SetTokenBucket(%g, %d): %s", ratePerSecond, burst, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tick()
	if b, ok := s.creations.(*bucketCap); ok {
		b.set(ratePerSecond, burst, now)
		return nil
	}
	s.creations = newBucketCap(ratePerSecond, burst, now)
	return nil
}

// retryAfterSeconds renders d as a Retry-After value: whole seconds,
// rounded up so a client that waits that long finds the slot free, and at
// least 1 (0 would invite an immediate retry).
func retryAfterSeconds(d time.Duration) int64 {
	if d >= math.MaxInt64-time.Second {
		return math.MaxInt64 / int64(time.Second)
	}
	secs := int64((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}
