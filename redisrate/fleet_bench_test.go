package redisrate_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/heliumid/heliumid-go/redisrate"
)

// fleetLong runs the fleet benchmarks at the sizes docs/PERFORMANCE.md
// reports (a 300-create burst, 2 minutes sustained, against 20/s); without
// it they run a few seconds' worth, to prove they still work.
var fleetLong = flag.Bool("fleet.long", false, "run the fleet benchmarks at full size (minutes of real time)")

// fleetClientPacing turns each Client's own adaptive pacing on or off
// beside the fleet's (heliumid.WithAdaptiveRate), to compare the two.
var fleetClientPacing = flag.Bool("fleet.clientpacing", true, "each Client paces adaptively too (heliumid.WithAdaptiveRate)")

// fleetScenario is one run: processes Clients, each with its own
// connections and its own redisrate.Limiter configured at limit per
// second, sharing one Redis and one key, create against a fake server that
// enforces capPerSecond as a strict token bucket (burst 1, Retry-After: 1),
// on the wall clock.
type fleetScenario struct {
	processes, goroutines int // goroutines in all, spread over the processes
	limit                 int // what redisrate is configured at, per second
	capPerSecond          float64
	creates               int           // stop after this many succeeded (0: run for duration)
	duration              time.Duration // stop after this long (0: run until creates)
}

// fleetResult is what the run measured: on the server's side (every
// attempt it answered, and how many were 429), whole and from 10 s in (past
// the unpaced first wave and the learning), and the callers' (calls that
// failed).
type fleetResult struct {
	whole, settled fleetWindow
	failed         int64
	elapsed        time.Duration
}

type fleetWindow struct {
	created, attempts, throttled int
	length                       time.Duration
}

func (w fleetWindow) rate() float64 { return float64(w.created) / w.length.Seconds() }

// settleTime is how far into a run the settled window starts.
const settleTime = 10 * time.Second

// statusCounter records the responses the server gave to creates, with the
// time each came, for every process.
type statusCounter struct {
	next http.RoundTripper
	log  *createLog
}

type createLog struct {
	mu     sync.Mutex
	events []createEvent
}

type createEvent struct {
	at     time.Time
	status int
}

func (c statusCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil && req.Method == http.MethodPost {
		c.log.mu.Lock()
		c.log.events = append(c.log.events, createEvent{time.Now(), resp.StatusCode})
		c.log.mu.Unlock()
	}
	return resp, err
}

// window counts the creates answered from from to to.
func (l *createLog) window(from, to time.Time) fleetWindow {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := fleetWindow{length: to.Sub(from)}
	for _, e := range l.events {
		if e.at.Before(from) || e.at.After(to) {
			continue
		}
		w.attempts++
		switch {
		case e.status >= 200 && e.status < 300:
			w.created++
		case e.status == http.StatusTooManyRequests:
			w.throttled++
		}
	}
	return w
}

func runFleet(b *testing.B, redisAddr, key string, s fleetScenario) fleetResult {
	fake := heliumidtest.NewServer(heliumidtest.WithWallClock(), heliumidtest.WithTokenBucket(s.capPerSecond, 1))
	defer fake.Close()
	var log createLog
	var created, failed atomic.Int64
	clients := make([]*heliumid.Client, s.processes)
	for i := range clients {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		defer transport.CloseIdleConnections()
		hc := &http.Client{Transport: statusCounter{next: transport, log: &log}}
		lim := redisrate.New(newClient(b, redisAddr), key, redisrate.PerSecond(s.limit))
		c, err := heliumid.NewClient(fake.APIKey(), heliumid.WithBaseURL(fake.URL), heliumid.WithHTTPClient(hc), heliumid.WithRateLimiter(lim), heliumid.WithAdaptiveRate(*fleetClientPacing))
		if err != nil {
			b.Fatal(err)
		}
		clients[i] = c
	}
	// Stopped by a cancel, not a deadline: a deadline would make the
	// Client refuse waits that outlast it, which are not failures.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if s.duration > 0 {
		defer time.AfterFunc(s.duration, cancel).Stop()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for g := range s.goroutines {
		c := clients[g%len(clients)]
		wg.Go(func() {
			for ctx.Err() == nil {
				_, err := c.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-1"})
				switch {
				case err == nil:
					if n := created.Add(1); s.creates > 0 && n >= int64(s.creates) {
						cancel()
					}
				case ctx.Err() == nil:
					failed.Add(1)
					b.Logf("create failed: %v", err)
				}
			}
		})
	}
	wg.Wait()
	end := time.Now()
	r := fleetResult{whole: log.window(start, end), failed: failed.Load(), elapsed: end.Sub(start)}
	if end.Sub(start) > 2*settleTime {
		r.settled = log.window(start.Add(settleTime), end)
	}
	return r
}

var (
	fleetMu      sync.Mutex
	fleetResults = map[string]fleetResult{}
)

// runOnce runs the scenario on the benchmark's first call (b.N == 1) and
// reports that result again on the later calls that only serve -benchtime.
func runOnce(b *testing.B, run func() fleetResult) fleetResult {
	fleetMu.Lock()
	r, ok := fleetResults[b.Name()]
	fleetMu.Unlock()
	if b.N == 1 || !ok {
		r = run()
		fleetMu.Lock()
		fleetResults[b.Name()] = r
		fleetMu.Unlock()
	}
	return r
}

func report(b *testing.B, s fleetScenario, r fleetResult) {
	w := r.whole
	b.ReportMetric(float64(r.elapsed.Nanoseconds()), "ns/op")
	b.ReportMetric(w.rate(), "creates/s")
	b.ReportMetric(100*w.rate()/s.capPerSecond, "%cap")
	b.ReportMetric(100*float64(w.throttled)/float64(max(w.attempts, 1)), "%429")
	b.ReportMetric(float64(r.failed), "failed")
	b.Logf("%d created in %v (%.1f/s, %.0f%% of the %g/s cap), %d of %d attempts answered 429, %d failed",
		w.created, r.elapsed.Round(time.Millisecond), w.rate(), 100*w.rate()/s.capPerSecond, s.capPerSecond, w.throttled, w.attempts, r.failed)
	if st := r.settled; st.length > 0 {
		b.ReportMetric(100*st.rate()/s.capPerSecond, "%cap@10s")
		b.ReportMetric(100*float64(st.throttled)/float64(max(st.attempts, 1)), "%429@10s")
		b.Logf("from %v in: %.1f/s (%.0f%% of the cap), %d of %d attempts answered 429",
			settleTime, st.rate(), 100*st.rate()/s.capPerSecond, st.throttled, st.attempts)
	}
}

// BenchmarkFleetAdaptive measures three processes whose redisrate Limit is
// set at twice the server's real cap: the fleet learns the real one
// together (docs/PERFORMANCE.md, "Creation throughput at the cap").
//
// Each scenario runs once, in real time, against a fresh fake server and
// Redis key, whatever b.N: the testing package's first call (b.N == 1) runs
// it, and a later call that only serves -benchtime reports the same result
// again; repeating minutes of real time would measure nothing more. ns/op
// is the scenario's length.
func BenchmarkFleetAdaptive(b *testing.B) {
	burst := fleetScenario{processes: 3, goroutines: 63, limit: 400, capPerSecond: 200, creates: 100}
	sustained := fleetScenario{processes: 3, goroutines: 63, limit: 400, capPerSecond: 200, duration: 3 * time.Second}
	if *fleetLong {
		burst.limit, burst.capPerSecond, burst.creates = 40, 20, 300
		sustained.limit, sustained.capPerSecond, sustained.duration = 40, 20, 2*time.Minute
	}
	srv := startRedis(b)
	run := 0
	for _, tc := range []struct {
		name string
		s    fleetScenario
	}{{"burst", burst}, {"sustained", sustained}} {
		b.Run(tc.name, func(b *testing.B) {
			report(b, tc.s, runOnce(b, func() fleetResult {
				run++
				return runFleet(b, srv.addr, fmt.Sprintf("fleet-%s-%d", tc.name, run), tc.s)
			}))
		})
	}
}
