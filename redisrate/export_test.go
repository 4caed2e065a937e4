package redisrate

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetAdaptiveClock makes l's adaptive law read the time from clock instead of
// Redis's TIME, so that tests can step it.
func SetAdaptiveClock(l *Limiter, clock func() time.Time) { l.clock = &clock }

// Learn makes the round trip that follows a granted slot: it reports l's
// Feedback to Redis and returns the fleet's learned rate.
func Learn(ctx context.Context, l *Limiter) (float64, error) {
	if _, _, err := l.checkCooldownAndLearn(ctx, false); err != nil {
		return 0, err
	}
	r, _ := l.learnedRate()
	return r, nil
}

// LawReport is one step of a law case as the fleet's law hears it: at Now,
// on the law's clock, OK successes and, if Throttled, a 429, all seen at
// Now, of creates sent at Rate (0: not known), with Pause still to sit out;
// the Limiter's configured rate is Limit (sessions/s).
type LawReport struct {
	Now       time.Time
	OK        int64
	Throttled bool
	Rate      float64
	Pause     time.Duration
	Limit     float64
}

// StepLaw runs the fleet's law once on the Redis key key, with the
// arguments a Limiter's report would give it, and returns the law's rate
// at r.Now.
func StepLaw(ctx context.Context, rdb redis.UniversalClient, key string, r LawReport) (float64, error) {
	rep := adaptReport{ok: r.OK}
	if r.OK > 0 {
		rep.okAt, rep.okRate = r.Now, r.Rate
	}
	if r.Throttled {
		rep.throttledAt, rep.throttleRate = r.Now, r.Rate
	}
	args := adaptArgs(r.Limit, rep, r.Now, r.Pause, strconv.FormatInt(r.Now.UnixMilli(), 10), false)
	got, err := adaptScript.Run(ctx, rdb, []string{key}, args...).StringSlice()
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(got[0], 64)
}

// LawConstants returns the constants the fleet's law is given (adaptArgs's,
// as the script reads them), by their names in the core's law table
// (internal/pace/testdata/law.json).
func LawConstants() map[string]float64 {
	args := adaptArgs(1, adaptReport{}, time.Now(), 0, "", false)
	num := func(i int) float64 { // ARGV[i], 1-based as in the script
		f, _ := strconv.ParseFloat(fmt.Sprint(args[i-1]), 64)
		return f
	}
	return map[string]float64{
		"backoff":        num(9),
		"cutHolding":     num(10),
		"sameCeiling":    num(11),
		"firstEpochMs":   num(12),
		"maxEpochMs":     num(13),
		"approachMs":     num(14),
		"doublingMs":     num(15),
		"minRate":        num(16),
		"sameThrottleMs": num(17),
		"stateTTLMs":     num(18),
		"jitterMs":       num(20),
	}
}
