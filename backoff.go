package heliumid

import (
	"math/rand/v2"
	"time"
)

// backoff returns the pause before the retry that follows attempt (1-based):
// base × 2^(attempt-1), capped, with "equal jitter" (half fixed, half random)
// so that many clients do not retry in lockstep. Any base ≤ max is valid,
// math.MaxInt64 included: the doubling saturates at max.
func (cfg *config) backoff(attempt int) time.Duration {
	d := cfg.backoffBase
	for i := 1; i < attempt && d < cfg.backoffMax; i++ {
		d = doubled(d, cfg.backoffMax)
	}
	half := d / 2
	return half + rand.N(half+1)
}

// doubled returns 2d, or max when that is more (or would overflow). The
// backoff and WaitForDecision's polling grow by it.
func doubled(d, max time.Duration) time.Duration {
	if d > max/2 {
		return max
	}
	return 2 * d
}
