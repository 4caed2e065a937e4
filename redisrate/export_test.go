package redisrate

import (
	"context"
	"time"
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
