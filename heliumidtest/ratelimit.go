package heliumidtest

import "time"

// creationCap is the session-creation cap of WithRateLimit: a sliding log
// of the creation times within the last per, on the virtual clock.
type creationCap struct {
	n    int
	per  time.Duration
	made []time.Time // creation times still in the window, oldest first
}

// take records one creation at now if the cap allows it. Otherwise it
// returns how long until a slot frees (always > 0) and records nothing.
func (c *creationCap) take(now time.Time) (wait time.Duration, ok bool) {
	// Drop the creations that left the window: one made at t counts until
	// t+per, exclusive, so Advance(per) frees it.
	i := 0
	for i < len(c.made) && !c.made[i].Add(c.per).After(now) {
		i++
	}
	c.made = c.made[i:]
	if len(c.made) >= c.n {
		return c.made[0].Add(c.per).Sub(now), false
	}
	c.made = append(c.made, now)
	return 0, true
}

// retryAfterSeconds renders d as a Retry-After value: whole seconds,
// rounded up so a client that waits that long finds the slot free, and at
// least 1 (0 would invite an immediate retry).
func retryAfterSeconds(d time.Duration) int64 {
	secs := int64((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}
