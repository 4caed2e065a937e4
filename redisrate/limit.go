package redisrate

import (
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"golang.org/x/time/rate"
)

// Limit is a session-creation cap: a number of sessions per period, and a
// burst. Build one with PerSecond or PerMinute, then WithBurst if the server's
// cap tolerates bursts. The zero Limit (and any Limit with a count, period or
// burst below 1) is invalid: a Limiter given one refuses every Wait with an
// error matching ErrInvalidConfig.
//
// Every process sharing a key must use the same Limit: the state in Redis is a
// single timestamp that each caller interprets with its own Limit.
type Limit struct {
	n      int
	period time.Duration
	burst  int
}

// PerSecond returns a Limit of n sessions per second with a burst of 1:
// sessions are spaced at least 1/n s apart, so no one-second window ever holds
// more than n of them.
func PerSecond(n int) Limit {
	return Limit{n: n, period: time.Second, burst: 1}
}

// PerMinute returns a Limit of n sessions per minute with a burst of 1:
// sessions are spaced at least 1/n min apart, so no one-minute window ever
// holds more than n of them.
func PerMinute(n int) Limit {
	return Limit{n: n, period: time.Minute, burst: 1}
}

// WithBurst returns a copy of l that lets up to n sessions start at once after
// the cap has been idle (GCRA's burst, a token bucket of size n). The long-run
// rate stays the same, but one period can then hold up to rate+n-1 sessions:
// use it only when the server's cap counts that way. n must be at least 1.
func (l Limit) WithBurst(n int) Limit {
	l.burst = n
	return l
}

// String describes l, for logs and error messages: "20 per second (burst 1)".
func (l Limit) String() string {
	per := l.period.String()
	switch l.period {
	case time.Second:
		per = "second"
	case time.Minute:
		per = "minute"
	}
	return fmt.Sprintf("%d per %s (burst %d)", l.n, per, l.burst)
}

// validate reports why l cannot be used.
func (l Limit) validate() error {
	if l.n < 1 || l.period <= 0 {
		return fmt.Errorf("%w: limit %v: the count must be at least 1; build it with PerSecond(n) or PerMinute(n)", ErrInvalidConfig, l)
	}
	if l.burst < 1 {
		return fmt.Errorf("%w: limit %v: the burst must be at least 1", ErrInvalidConfig, l)
	}
	return nil
}

// gcra is l as redis_rate spells it.
func (l Limit) gcra() redis_rate.Limit {
	return redis_rate.Limit{Rate: l.n, Period: l.period, Burst: l.burst}
}

// local returns a fresh in-process limiter with l's rate and burst, for the
// fallback while Redis is unreachable.
func (l Limit) local() *rate.Limiter {
	return rate.NewLimiter(rate.Limit(float64(l.n)/l.period.Seconds()), l.burst)
}
