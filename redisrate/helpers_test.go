package redisrate_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// admission is one slot Redis granted: the GCRA script ran, on Redis's clock,
// somewhere between sent and answered (both read on this machine, whose clock
// the loopback redis-server shares).
type admission struct {
	sent, answered time.Time
}

// admissions is a go-redis hook that records every GCRA call on gcraKey that
// Redis answered with "allowed", and the rate every such call asked for. It
// observes the real traffic, so the test checks what Redis granted rather
// than what the Limiter claims.
type admissions struct {
	gcraKey string

	mu    sync.Mutex
	list  []admission
	rates []float64 // sessions per second, of every call, granted or not
}

func (a *admissions) DialHook(next redis.DialHook) redis.DialHook { return next }

func (a *admissions) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (a *admissions) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		sent := time.Now()
		err := next(ctx, cmd)
		answered := time.Now()
		a.mu.Lock()
		defer a.mu.Unlock()
		if rate, ok := a.askedRate(cmd); ok {
			a.rates = append(a.rates, rate)
		}
		if err == nil && a.granted(cmd) {
			a.list = append(a.list, admission{sent: sent, answered: answered})
		}
		return err
	}
}

// isGCRA reports whether cmd is redis_rate's script on gcraKey (EVALSHA,
// or EVAL after NOSCRIPT).
func (a *admissions) isGCRA(cmd redis.Cmder) bool {
	args := cmd.Args()
	return (cmd.Name() == "evalsha" || cmd.Name() == "eval") && len(args) >= 7 && args[3] == a.gcraKey
}

// askedRate is the rate a GCRA call asked for: redis_rate passes the
// burst, the count and the period in seconds after the key.
func (a *admissions) askedRate(cmd redis.Cmder) (float64, bool) {
	if !a.isGCRA(cmd) {
		return 0, false
	}
	n, _ := cmd.Args()[5].(int)
	period, _ := cmd.Args()[6].(float64)
	return float64(n) / period, period > 0
}

// granted reports whether cmd is a GCRA call whose reply starts with 1
// allowed event.
func (a *admissions) granted(cmd redis.Cmder) bool {
	if !a.isGCRA(cmd) {
		return false
	}
	c, ok := cmd.(*redis.Cmd)
	if !ok {
		return false
	}
	reply, ok := c.Val().([]any)
	return ok && len(reply) > 0 && reply[0] == int64(1)
}

// asked returns the rates the GCRA calls asked for, in order.
func (a *admissions) asked() []float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.rates)
}

// sorted returns the admissions in the order they were sent.
func (a *admissions) sorted() []admission {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := slices.Clone(a.list)
	slices.SortFunc(list, func(x, y admission) int { return x.sent.Compare(y.sent) })
	return list
}

// sentAfter counts the admissions whose command was sent after t.
func (a *admissions) sentAfter(t time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, ad := range a.list {
		if ad.sent.After(t) {
			n++
		}
	}
	return n
}

// syncBuffer is a bytes.Buffer safe for a logger writing from several
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stamps collects the times at which Wait returned nil.
type stamps struct {
	mu   sync.Mutex
	list []time.Time
}

func (s *stamps) add(t time.Time) {
	s.mu.Lock()
	s.list = append(s.list, t)
	s.mu.Unlock()
}

// between counts the stamps in [from, to).
func (s *stamps) between(from, to time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.list {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}
