package redisrate_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/redisrate"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Redis that hangs (frozen with SIGSTOP: connections open, nothing
// answered) must not hold callers whose deadline is shorter than go-redis's
// time to fail: with a 1 s budget per Wait, go-redis's defaults take 5 s
// per attempt to give up, 4 attempts; the README's settings, about a
// second. Each Limiter below has 8 callers, each Wait with a 1 s budget,
// and all of them live through one hang of 2 s, side by side:
//
//   - with WithLocalFallback, creates go on at the local Limit during the
//     hang, no Wait fails for Redis (a Wait whose turn in the local pace
//     comes after its deadline is refused, as always), callers stop asking
//     Redis once it counts as down (a probe at most once a second), and
//     after SIGCONT the Limiter is back on the shared cap;
//   - fail-closed, every Wait during the hang fails with
//     ErrRedisUnavailable within the probe timeout (not with the
//     context's deadline, after spending it), and Waits succeed again
//     after SIGCONT;
//
// each with go-redis's defaults and with the README's settings, and once
// with WithProbeTimeout.
func TestAHungRedisCountsAsDownWithinTheProbeTimeout(t *testing.T) {
	eachRedis(t, aHungRedisCountsAsDown)
}

const (
	hangCallers  = 8
	hangBudget   = time.Second // each Wait's deadline
	hangLimit    = 20          // per second
	hangDuration = 2 * time.Second
)

// hangRun is one Limiter and its callers through the hang.
type hangRun struct {
	name         string
	cfg          clientConfig // go-redis's timeouts
	fallback     bool
	probeTimeout time.Duration
	lim          *redisrate.Limiter
	granted      *admissions // the slots Redis granted
	sent         *traffic    // every command and pipeline sent

	mu    sync.Mutex
	waits []waitResult
}

type waitResult struct {
	start, end time.Time
	err        error
}

func (h *hangRun) record(w waitResult) {
	h.mu.Lock()
	h.waits = append(h.waits, w)
	h.mu.Unlock()
}

// during returns the Waits that started in [from, to).
func (h *hangRun) during(from, to time.Time) []waitResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	var in []waitResult
	for _, w := range h.waits {
		if !w.start.Before(from) && w.start.Before(to) {
			in = append(in, w)
		}
	}
	return in
}

// succeededSince reports whether a Wait that started at or after from
// returned nil.
func (h *hangRun) succeededSince(from time.Time) bool {
	for _, w := range h.during(from, time.Now().Add(time.Hour)) {
		if w.err == nil {
			return true
		}
	}
	return false
}

func aHungRedisCountsAsDown(t *testing.T, srv testRedis) {
	runs := []*hangRun{
		{name: "fallback, README settings", cfg: readmeTimeouts, fallback: true},
		{name: "fallback, go-redis defaults", cfg: goRedisDefaults, fallback: true},
		{name: "fail-closed, README settings", cfg: readmeTimeouts},
		{name: "fail-closed, go-redis defaults", cfg: goRedisDefaults},
		{name: "fail-closed, WithProbeTimeout(100ms)", cfg: readmeTimeouts, probeTimeout: 100 * time.Millisecond},
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, h := range runs {
		key := fmt.Sprintf("hang%d", i)
		rdb := srv.clientWith(t, h.cfg)
		h.granted = &admissions{gcraKey: "rate:heliumid:" + key}
		h.sent = &traffic{}
		rdb.AddHook(h.granted)
		rdb.AddHook(h.sent)
		opts := []redisrate.Option{}
		if h.fallback {
			opts = append(opts, redisrate.WithLocalFallback())
		}
		if h.probeTimeout > 0 {
			opts = append(opts, redisrate.WithProbeTimeout(h.probeTimeout))
		} else {
			h.probeTimeout = 500 * time.Millisecond // the documented default
		}
		h.lim = redisrate.New(rdb, key, redisrate.PerSecond(hangLimit), opts...)
		for range hangCallers {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					ctx, cancel := context.WithTimeout(t.Context(), hangBudget)
					w := waitResult{start: time.Now()}
					w.err = h.lim.Wait(ctx)
					w.end = time.Now()
					cancel()
					h.record(w)
					if w.err != nil {
						time.Sleep(5 * time.Millisecond) // a caller that failed does not spin
					}
				}
			})
		}
	}
	halted := false
	halt := func() {
		if !halted {
			halted = true
			close(stop)
			wg.Wait()
		}
	}
	defer halt()

	require.Eventually(t, func() bool {
		for _, h := range runs {
			if !h.succeededSince(time.Time{}) {
				return false
			}
		}
		return true
	}, 5*time.Second, 10*time.Millisecond, "every Limiter should be on Redis before the hang")
	time.Sleep(200 * time.Millisecond)
	srv.freeze(t)
	frozen := time.Now()
	time.Sleep(hangDuration)
	thawed := time.Now()
	srv.thaw(t)
	require.Eventually(t, func() bool {
		for _, h := range runs {
			if !h.succeededSince(thawed) || h.fallback && h.granted.sentAfter(thawed) == 0 {
				return false
			}
		}
		return true
	}, 5*time.Second, 10*time.Millisecond, "every Limiter should be back on Redis after SIGCONT")
	halt()

	// Once Redis counts as down (one probe timeout, plus slack for a loaded
	// machine, after the freeze), callers no longer ask it: at most one
	// probe a second goes out.
	settled := frozen.Add(600 * time.Millisecond)
	maxProbes := int(thawed.Sub(settled)/time.Second) + 1
	for _, h := range runs {
		t.Run(h.name, func(t *testing.T) {
			waits := h.during(frozen, thawed)
			asked := h.sent.between(settled, thawed)
			assert.LessOrEqual(t, asked, maxProbes,
				"calls to Redis during the hang, once it counted as down: callers must not each ask it")
			if h.fallback {
				created := 0
				for _, w := range waits {
					// Eight callers share 20 slots a second: a Wait whose
					// turn would come after its deadline is refused at
					// once (heliumid.ErrRateLimited); none fails for Redis.
					if w.err != nil {
						assert.ErrorIs(t, w.err, heliumid.ErrRateLimited, "with the fallback, no Wait fails for Redis during the hang")
						assert.Contains(t, w.err.Error(), "past the context's deadline")
					}
				}
				for _, w := range h.during(frozen.Add(-hangBudget), thawed) {
					if w.err == nil && !w.end.Before(frozen) && w.end.Before(thawed) {
						created++
					}
				}
				// The local pace: its burst of 1, then hangLimit a second,
				// from when Redis counted as down (one probe timeout in).
				open := thawed.Sub(frozen.Add(h.probeTimeout)).Seconds()
				assert.GreaterOrEqual(t, created, int(0.7*hangLimit*open), "creates go on at the local Limit")
				assert.LessOrEqual(t, created, int(hangLimit*hangDuration.Seconds())+2, "the local pace still paces")
				t.Logf("%d creates during the %v hang (local Limit %d/s); %d calls to Redis once down", created, hangDuration, hangLimit, asked)
				return
			}
			// (A Wait that began less than a probe timeout before SIGCONT
			// may get Redis's answer.)
			waits = h.during(frozen, thawed.Add(-h.probeTimeout))
			slowest := time.Duration(0)
			for _, w := range waits {
				require.ErrorIs(t, w.err, redisrate.ErrRedisUnavailable, "fail-closed, a hung Redis is unavailable")
				assert.NotErrorIs(t, w.err, context.DeadlineExceeded, "the probe timeout ends the wait, not the caller's deadline")
				slowest = max(slowest, w.end.Sub(w.start))
			}
			require.NotEmpty(t, waits)
			assert.Less(t, slowest, h.probeTimeout+300*time.Millisecond, "each Wait fails within the probe timeout")
			assert.Contains(t, waits[0].err.Error(), fmt.Sprintf("no answer within %v", h.probeTimeout))
			t.Logf("%d Waits failed during the %v hang, the slowest after %v; %d calls to Redis once down",
				len(waits), hangDuration, slowest.Round(time.Millisecond), asked)
		})
	}
}

// traffic is a go-redis hook that stamps every call the Limiter makes to
// Redis: its scripts and pipelines (not go-redis's own connection set-up,
// nor its retries, which happen inside the hook).
type traffic struct {
	mu   sync.Mutex
	sent []time.Time
}

func (tr *traffic) stamp() {
	tr.mu.Lock()
	tr.sent = append(tr.sent, time.Now())
	tr.mu.Unlock()
}

func (tr *traffic) DialHook(next redis.DialHook) redis.DialHook { return next }

func (tr *traffic) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			tr.stamp()
		}
		return next(ctx, cmd)
	}
}

func (tr *traffic) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		tr.stamp()
		return next(ctx, cmds)
	}
}

// between counts what was sent in [from, to).
func (tr *traffic) between(from, to time.Time) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, at := range tr.sent {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}
