package redisrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Whether Redis answers, and how long a caller waits to find out.
//
// A go-redis command does not end with its context (unless the client sets
// ContextTimeoutEnabled): a Redis that hangs (a stalled primary, SIGSTOP, a
// partition that drops packets) holds it for the client's ReadTimeout times
// its attempts, seconds with go-redis's defaults. A caller whose deadline is
// shorter would spend all of it there and learn nothing, and so would the
// next one. So every call to Redis runs on a goroutine of its own, and the
// caller waits for it at most the probe timeout: a Redis that has not
// answered by then counts as down, for every caller of the Limiter, until a
// probe finds it answering again. Probes go out one at a time, at most once
// per probeInterval; the call left running still ends when go-redis gives
// up, and if it ends with an answer, the next caller probes at once.

const (
	// defaultProbeTimeout is how long a caller waits for Redis before
	// counting it as down: far above a healthy round trip (a millisecond
	// or so, a few for a first TLS dial), and well below any sensible
	// deadline for creating a session, so that the caller still has most
	// of its budget for the local fallback.
	defaultProbeTimeout = 500 * time.Millisecond

	// probeInterval is how often Wait asks a Redis counted as down again.
	// Asking on every Wait would make each one pay the probe timeout (or
	// the client's dial timeout and retries) during an outage.
	probeInterval = time.Second
)

// errNoAnswer is what a call to Redis that outlasted the probe timeout
// reports: Redis counts as down.
type errNoAnswer time.Duration

func (e errNoAnswer) Error() string {
	return fmt.Sprintf("no answer within %s (WithProbeTimeout)", human(time.Duration(e)))
}

// skipRedis reports whether Redis counts as down and is not due for another
// probe (skip), or counts as down and is due, in which case this caller
// makes the probe (probe) while the others keep pacing locally, or fail at
// once without the fallback. A probe is due probeInterval after the last
// one began, once no earlier probe is still running.
func (l *Limiter) skipRedis() (skip, probe bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.down {
		return false, false
	}
	now := time.Now()
	if l.probing || now.Before(l.nextProbe) {
		return true, false
	}
	l.probing, l.nextProbe = true, now.Add(probeInterval)
	return false, true
}

// call runs f, which talks to Redis, on a goroutine of its own, and waits
// for it at most the probe timeout. It returns f's error; an error
// matching errNoAnswer when f outlasted the probe timeout, Redis then
// counting as down; or ctx's error when ctx ended first. Whatever f writes
// is the caller's to read only after call returned f's own result (nil or
// not).
//
// probe says the call is the probe skipRedis granted: another goes out only
// once it ends. A call left running past the probe timeout goes on until
// go-redis gives up; if it then has an answer, Redis is probed again at
// once, so a Redis that was only slow is not shunned for long.
func (l *Limiter) call(ctx context.Context, probe bool, f func(context.Context) error) error {
	done := make(chan error, 1) // buffered: nobody may be left to receive
	expired := make(chan struct{})
	timer := time.AfterFunc(l.probeTimeout, func() {
		l.markDown(ctx, errNoAnswer(l.probeTimeout))
		close(expired)
	})
	go func() {
		err := f(ctx)
		late := !timer.Stop()
		if late {
			<-expired // marked down before this answer is weighed
		}
		l.settle(probe, late, err)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-expired:
		return errNoAnswer(l.probeTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// settle records the end of a call to Redis: a probe no longer runs, and a
// late answer makes the next caller probe at once.
func (l *Limiter) settle(probe, late bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if probe {
		l.probing = false
	}
	if late && err == nil && l.down {
		l.nextProbe = time.Time{}
	}
}

// markDown makes Redis count as down until a probe finds it answering; err
// is why (go-redis's error, or errNoAnswer).
func (l *Limiter) markDown(ctx context.Context, err error) {
	l.mu.Lock()
	was := l.down
	l.down, l.downErr = true, err
	if !was {
		// Only going down sets the next probe: calls begun before then,
		// failing one by one, must not put it off (a probe that fails set
		// it when it began, see skipRedis).
		l.nextProbe = time.Now().Add(probeInterval)
	}
	l.mu.Unlock()
	if was || l.logger == nil {
		return
	}
	msg := "redisrate: Redis unreachable; refusing creates until it answers (fail-closed)"
	if l.fallback != nil {
		msg = "redisrate: Redis unreachable; pacing this process locally at the same limit until it answers"
	}
	l.logger.LogAttrs(ctx, slog.LevelWarn, msg,
		slog.String("key", l.key), slog.String("redis", l.addr), slog.String("limit", l.limit.String()),
		slog.String("error", err.Error()))
}

// markUp records that Redis answered: back to the shared cap.
func (l *Limiter) markUp(ctx context.Context) {
	l.mu.Lock()
	was := l.down
	l.down, l.downErr = false, nil
	l.mu.Unlock()
	if was && l.logger != nil {
		l.logger.LogAttrs(ctx, slog.LevelInfo, "redisrate: Redis reachable again; back to the shared cap",
			slog.String("key", l.key), slog.String("redis", l.addr))
	}
}

// whyDown is the error that made Redis count as down, for the messages of
// the callers that do not ask it again.
func (l *Limiter) whyDown() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.downErr == nil {
		return errors.New("no answer")
	}
	return fmt.Errorf("%w; Redis counts as down, and is asked again at most once a second", l.downErr)
}
