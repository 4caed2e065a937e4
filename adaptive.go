package heliumid

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
//
// Given to one call, it decides whether that call waits in the client's
// pacing, nothing more: a client that paces still learns from the answers
// to a call that does not, and on a client that does not pace, the calls
// given WithAdaptiveRate(true) pace among themselves, without ever holding
// back the client's other creates.
func WithAdaptiveRate(on bool) Option {
	return func(c *config) error {
		c.adaptiveOff = !on
		return nil
	}
}
