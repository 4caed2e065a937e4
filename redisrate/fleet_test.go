package redisrate_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go/redisrate"
	"github.com/stretchr/testify/assert"
)

// Three processes (each its own go-redis client and Limiter) at 10 per second
// with WithLocalFallback, each with three callers, through an outage: Redis
// up, then down for 1.5 s, then back. While it is down each process may use the
// whole cap, so the fleet's bound is 3 × 10 in any one second, and that bound
// must hold in every second, including the ones in which Redis dies and
// comes back (before the fix, the second Redis came back held 41 slots: each
// process's local 10 plus Redis's fresh 10).
//
// Real time (Redis's clock cannot be simulated); the test asserts only the
// bound, a safety property, never throughput. A slot is stamped when Wait
// returns, a little after the moment the limiter granted it (a timer's or a
// reply's latency), so the windows are 50 ms shorter than a second: a
// loaded machine would need to delay one stamp by 50 ms more than another
// for a correct limiter to fail, while the bug's 10 extra slots still show.
//
// Two outages: a crash (killed, then restarted empty: clients see refused
// connections at once) and a hang (frozen with SIGSTOP, then thawed with its
// data: clients see only the probe timeout, and commands sent meanwhile run
// when it thaws). The hang runs on a Redis Cluster too, all of its nodes
// frozen; a crashed Cluster node, restarted, refuses commands for seconds
// (the cluster's own writable delay), which tells the Limiter nothing a
// refused connection does not.
func TestFallbackKeepsTheFleetWithinNTimesTheCapThroughAnOutage(t *testing.T) {
	t.Run("crash and restart", func(t *testing.T) {
		srv := startRedis(t)
		fleetThroughOutage(t, srv, srv.kill, func() { srv.restart(t) })
	})
	t.Run("hang and resume", func(t *testing.T) {
		eachRedis(t, func(t *testing.T, srv testRedis) {
			fleetThroughOutage(t, srv, func() { srv.freeze(t) }, func() { srv.thaw(t) })
		})
	})
}

func fleetThroughOutage(t *testing.T, srv testRedis, fail, resume func()) {
	const (
		processes = 3
		callers   = 3 // per process
		perSecond = 10
		bound     = processes * perSecond
		window    = time.Second - 50*time.Millisecond
	)
	var (
		mu     sync.Mutex
		grants []time.Time
	)
	errs := make(chan error, processes*callers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	fromRedis := &admissions{gcraKey: "rate:heliumid:fleet"}
	for range processes {
		rdb := srv.client(t)
		rdb.AddHook(fromRedis)
		lim := redisrate.New(rdb, "fleet", redisrate.PerSecond(perSecond), redisrate.WithLocalFallback())
		for range callers {
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
					at := time.Now()
					mu.Lock()
					grants = append(grants, at)
					mu.Unlock()
				}
			})
		}
	}
	stopped := false
	halt := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	defer halt()

	time.Sleep(time.Second)
	failed := time.Now()
	fail()
	time.Sleep(1500 * time.Millisecond)
	resumed := time.Now()
	resume()
	time.Sleep(2500 * time.Millisecond) // every process probes within 1 s, then one period of guard
	halt()
	close(errs)
	for err := range errs {
		t.Errorf("Wait failed although the fallback was on: %v", err)
	}

	slices.SortFunc(grants, time.Time.Compare)
	worst, worstAt := 0, time.Time{}
	for i, from := range grants {
		n := 0
		for _, at := range grants[i:] {
			if !at.Before(from.Add(window)) {
				break
			}
			n++
		}
		if n > worst {
			worst, worstAt = n, from
		}
	}
	phase := func(at time.Time) string {
		switch {
		case at.Before(failed.Add(-window)):
			return "with Redis up"
		case at.Before(failed.Add(window)):
			return "around the failure"
		case at.Before(resumed.Add(-window)):
			return "with Redis down"
		case at.Before(resumed.Add(window)):
			return "around the recovery"
		}
		return "after the recovery"
	}
	assert.LessOrEqual(t, worst, bound, "%d slots in the %v from %v (%s); the fleet's bound is %d",
		worst, window, worstAt.Sub(failed).Round(time.Millisecond), phase(worstAt), bound)

	count := func(from, to time.Time) int {
		n := 0
		for _, at := range grants {
			if !at.Before(from) && at.Before(to) {
				n++
			}
		}
		return n
	}
	// Liveness, loosely: sessions were created in every phase.
	assert.Positive(t, count(failed.Add(200*time.Millisecond), resumed), "the fallback creates while Redis is down")
	assert.Positive(t, count(resumed.Add(1500*time.Millisecond), time.Now()), "the fleet creates once Redis is back")
	backOnRedis := 0
	for _, a := range fromRedis.sorted() {
		if a.sent.After(resumed) {
			backOnRedis++
		}
	}
	assert.Positive(t, backOnRedis, "the processes return to the shared cap once Redis answers")
	t.Logf("%d slots; at most %d in any %v window (from %v after the outage began, %s)", len(grants), worst, window,
		worstAt.Sub(failed).Round(time.Millisecond), phase(worstAt))
}
