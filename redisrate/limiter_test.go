package redisrate_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/redisrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Several processes, each with its own connections, hammer one shared cap
// for three seconds of real time (Redis's clock cannot be simulated).
//
// What GCRA guarantees: with emission interval T = 1s/rate and burst b, it is
// a token bucket of b tokens refilled one per T, so any k admissions span at
// least (k-b)·T of Redis time. rate+b admissions therefore span at least one
// second: no half-open one-second window ever holds more than rate+b-1 (with
// b = 1, exactly the cap). The test checks exactly that on what Redis
// granted, measured conservatively: each grant happened between the moment
// its command was sent and the moment its reply arrived, so for rate+b
// grants, (latest reply - earliest send) >= 1s must hold. The 2 ms slack
// covers Redis storing times as 14-digit decimals (10 µs steps) and the
// realtime clock Redis reads drifting from Go's monotonic one; it is far
// below the 50 ms a single extra admission would take away.
func TestWaitKeepsSeveralClientsUnderTheSharedCap(t *testing.T) {
	eachRedis(t, keepsSeveralClientsUnderTheSharedCap)
}

func keepsSeveralClientsUnderTheSharedCap(t *testing.T, srv testRedis) {
	const (
		perSecond = 20
		burst     = 1
		clients   = 4
		run       = 3 * time.Second
		slack     = 2 * time.Millisecond
	)
	rec := &admissions{gcraKey: "rate:heliumid:fidelity"}
	limiters := make([]*redisrate.Limiter, clients)
	for i := range limiters {
		rdb := srv.client(t)
		rdb.AddHook(rec)
		limiters[i] = redisrate.New(rdb, "fidelity", redisrate.PerSecond(perSecond).WithBurst(burst))
	}

	var granted atomic.Int64
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	stop := time.Now().Add(run)
	for _, lim := range limiters {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if err := lim.Wait(t.Context()); err != nil {
					errs <- err
					return
				}
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Wait failed: %v", err)
	}

	got := rec.sorted()
	require.Len(t, got, int(granted.Load()), "every Wait that returned nil took exactly one slot in Redis")
	window := perSecond + burst
	for i := 0; i+window <= len(got); i++ {
		latest := got[i].answered
		for _, a := range got[i : i+window] {
			if a.answered.After(latest) {
				latest = a.answered
			}
		}
		if span := latest.Sub(got[i].sent); span < time.Second-slack {
			t.Errorf("admissions %d..%d (%d of them) fit in %v: more than %d in one second", i, i+window-1, window, span, perSecond)
		}
	}
	minimum := int(0.9 * perSecond * run.Seconds())
	assert.GreaterOrEqual(t, len(got), minimum, "the clients together should use at least 90% of the cap")
	t.Logf("%d admissions in %v (cap %d/s)", len(got), run, perSecond)
}

func TestWaitHonoursTheContext(t *testing.T) {
	eachRedis(t, honoursTheContext)
}

func honoursTheContext(t *testing.T, srv testRedis) {
	lim := redisrate.New(srv.client(t), "ctx", redisrate.PerMinute(1))
	require.NoError(t, lim.Wait(t.Context()), "the first slot of the minute is free")

	t.Run("cancelled mid-wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		err := lim.Wait(ctx)
		require.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), time.Second, "Wait must return soon after the cancellation, not after Redis's 60 s")
	})

	t.Run("deadline sooner than the wait", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		err := lim.Wait(ctx)
		require.ErrorIs(t, err, heliumid.ErrRateLimited)
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "past the context's deadline")
		assert.Less(t, time.Since(start), time.Second, "a wait that cannot succeed fails at once")
	})

	t.Run("cancelled during a shared cool-down", func(t *testing.T) {
		other := redisrate.New(srv.client(t), "ctx-cool", redisrate.PerSecond(10))
		sharer := redisrate.New(srv.client(t), "ctx-cool", redisrate.PerSecond(10))
		require.NoError(t, sharer.ShareCooldown(t.Context(), time.Now().Add(10*time.Second)))
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		require.ErrorIs(t, other.Wait(ctx), context.Canceled)
		assert.Less(t, time.Since(start), time.Second)
	})
}

// A Redis that dies while several goroutines wait: by default every Wait
// fails, promptly and with an explanation, and nothing hangs.
func TestWaitFailsClosedWhenRedisDies(t *testing.T) {
	srv := startRedis(t)
	lim := redisrate.New(newClient(t, srv.addr), "outage", redisrate.PerSecond(50))

	type result struct {
		granted int
		err     error
		at      time.Time
	}
	results := make(chan result, 3)
	for range cap(results) {
		go func() {
			var r result
			for {
				if r.err = lim.Wait(t.Context()); r.err != nil {
					r.at = time.Now()
					results <- r
					return
				}
				r.granted++
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	killed := time.Now()
	srv.kill()

	total := 0
	for range cap(results) {
		select {
		case r := <-results:
			total += r.granted
			require.ErrorIs(t, r.err, redisrate.ErrRedisUnavailable)
			assert.NotErrorIs(t, r.err, heliumid.ErrRateLimited, "an outage is not the server's cap")
			assert.Contains(t, r.err.Error(), srv.addr)
			assert.Contains(t, r.err.Error(), "fail-closed")
			assert.Less(t, r.at.Sub(killed), 2*time.Second)
		case <-time.After(5 * time.Second):
			t.Fatal("Wait still blocked 5 s after Redis died")
		}
	}
	assert.Positive(t, total, "Wait admitted sessions while Redis was up")

	start := time.Now()
	require.ErrorIs(t, lim.Wait(t.Context()), redisrate.ErrRedisUnavailable, "later Waits fail too")
	assert.Less(t, time.Since(start), time.Second)
	err := lim.ShareCooldown(t.Context(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	require.ErrorIs(t, err, redisrate.ErrRedisUnavailable)
	assert.Contains(t, err.Error(), "sharing a 1h0m0s cool-down", "the clamped hour, not an overflowed duration")
}

// With WithLocalFallback, a Redis that dies mid-run leaves each process
// pacing at the same limit on its own, and the Limiter returns to the shared
// cap once Redis answers again.
func TestWaitFallsBackToLocalPacingWhileRedisIsDown(t *testing.T) {
	srv := startRedis(t)
	const perSecond = 20
	var logs syncBuffer
	lim := redisrate.New(newClient(t, srv.addr), "fallback", redisrate.PerSecond(perSecond),
		redisrate.WithLocalFallback(), redisrate.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))

	var got stamps
	errs := make(chan error, 2)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range cap(errs) {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := lim.Wait(t.Context()); err != nil {
					errs <- err
					return
				}
				got.add(time.Now())
			}
		})
	}
	defer func() { // stop the callers even when an assertion fails
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()

	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	srv.kill()
	const down = 1500 * time.Millisecond
	time.Sleep(down)

	n := got.between(killed, killed.Add(down))
	// The local limiter admits at most 1 (its burst) + rate·down; one grant
	// Redis made just before the kill may be observed after it.
	assert.GreaterOrEqual(t, n, int(0.9*perSecond*down.Seconds()), "the fallback keeps creating at the cap")
	assert.LessOrEqual(t, n, int(perSecond*down.Seconds())+2, "the fallback still paces")
	assert.Contains(t, logs.String(), "Redis unreachable; pacing this process locally")

	srv.restart(t)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "back to the shared cap") },
		3*time.Second, 10*time.Millisecond, "the Limiter should probe Redis again and return to it")
	admin := newClient(t, srv.addr)
	require.Eventually(t, func() bool { return admin.Exists(t.Context(), "rate:heliumid:fallback").Val() == 1 },
		time.Second, 10*time.Millisecond, "admissions are counted in Redis again")

	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Wait failed although the fallback was on: %v", err)
	}
}
