package heliumid

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// Behavioural checks behind docs/PERFORMANCE.md: they assert what the
// default client and the rate limiter do, not how fast.

// TestDefaultClientDoesNotChurnConnections: callers sharing one default
// Client reuse its connections: none is closed while they work. It may
// open more connections than there are callers: at a burst the transport
// dials for a caller that waits while its previous connection is still
// coming back to the pool. That surplus stays idle; it is not closed and
// reopened. It grows with scheduling delays (measured up to 2.1 times the
// callers with the rest of the test suite running on the same two cores),
// hence the loose bound on it.
func TestDefaultClientDoesNotChurnConnections(t *testing.T) {
	const perCaller = 20
	for _, callers := range []int{64, 256} {
		t.Run(fmt.Sprintf("callers=%d", callers), func(t *testing.T) {
			var cc connCounter
			srv := slowServer(t, cc.hook)
			c, err := NewClient(testKey, WithBaseURL(srv.URL+"/api"))
			require.NoError(t, err)
			defer c.CloseIdleConnections()

			require.NoError(t, getConcurrently(c, callers, callers*perCaller))
			opened, closed := cc.opened.Load(), cc.closed.Load()
			t.Logf("%d callers × %d requests: %d connections opened, %d closed", callers, perCaller, opened, closed)
			assert.Zero(t, closed, "connections were closed and reopened while the callers worked")
			assert.LessOrEqual(t, opened, int64(4*callers))
		})
	}

	// The same load through a pool the size of http.DefaultTransport's
	// (2 idle connections per host) churns: the assertions above can fail.
	t.Run("small pool churns", func(t *testing.T) {
		var cc connCounter
		srv := slowServer(t, cc.hook)
		tr := &http.Transport{MaxIdleConnsPerHost: 2}
		defer tr.CloseIdleConnections()
		c, err := NewClient(testKey, WithBaseURL(srv.URL+"/api"), WithHTTPClient(&http.Client{Transport: tr}))
		require.NoError(t, err)
		const callers = 16
		require.NoError(t, getConcurrently(c, callers, callers*perCaller))
		assert.Eventually(t, func() bool { return cc.closed.Load() > 0 }, time.Second, time.Millisecond,
			"a pool of 2 for %d callers closed no connection", callers)
		t.Logf("%d callers × %d requests: %d connections opened, %d closed", callers, perCaller, cc.opened.Load(), cc.closed.Load())
	})
}

// slowServer is benchServer with a millisecond of latency, as a real API
// has: every caller's request is in flight at once, so the pool has to hold
// a connection per caller (on a loopback server answering in microseconds,
// two busy cores would serve the callers nearly one at a time).
func slowServer(t *testing.T, connState func(net.Conn, http.ConnState)) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		w.Write(benchResponse(r))
	}))
	srv.Config.ConnState = connState
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestRateLimiterHoldsTheRate: a Client with WithRateLimiter at n/s,
// creating sessions from several goroutines, reaches a server capped at n/s
// at n/s (within 2%), and the server refuses none. It runs in a synctest
// bubble (fake time, mocked transport), so the assertion is exact and never
// flakes; BenchmarkRateLimiterFidelity measures the same over real loopback
// HTTP, where goroutine wake-ups and the network add jitter.
func TestRateLimiterHoldsTheRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const perSecond, requests = 50, 2*50 + 1 // two seconds: the first goes at once
		capped := newRateCap(perSecond)
		c, mock := newMockClient(t, WithRateLimiter(rate.NewLimiter(perSecond, 1)),
			WithMaxRetries(0)) // a 429 must surface, not be retried away
		mock.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
			if !capped.admit(time.Now()) {
				return respond(429, errEnvelope(429, "Too many verifications"), "Retry-After", "1")(req)
			}
			return respond(200, string(benchCreateBody))(req)
		})
		for err := range createConcurrently(c, requests, 4) {
			t.Error(err)
		}
		arrivals, refused := capped.results()
		require.Len(t, arrivals, requests)
		assert.Zero(t, refused, "the server answered 429")
		assert.InEpsilon(t, perSecond, 1/slope(arrivals).Seconds(), 0.02, "achieved rate")
	})
}

// BenchmarkRateLimiterFidelity measures, over real loopback HTTP, the rate a
// Client paced at 50/s achieves against a server capped at 50/s, and how
// many of its requests the server refuses: reported as creations/s and
// 429s, not asserted (wall-clock rates on a busy machine are for reading,
// see docs/PERFORMANCE.md). Each iteration is one creation: at 50/s,
// -benchtime=100x takes two seconds.
func BenchmarkRateLimiterFidelity(b *testing.B) {
	const perSecond = 50
	srv := newCappedServer(b, perSecond)
	c, err := NewClient(testKey, WithBaseURL(srv.URL+"/api"),
		WithRateLimiter(rate.NewLimiter(perSecond, 1)), WithMaxRetries(0))
	require.NoError(b, err)
	defer c.CloseIdleConnections()
	b.ResetTimer()
	for range createConcurrently(c, b.N, 4) {
	}
	b.StopTimer()
	arrivals, refused := srv.results()
	if len(arrivals) > 2 {
		b.ReportMetric(1/slope(arrivals).Seconds(), "creations/s")
	}
	b.ReportMetric(float64(refused), "429s")
}

// createConcurrently creates n sessions from callers goroutines and returns
// the errors, once all are done.
func createConcurrently(c *Client, n, callers int) <-chan error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range callers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := c.CreateVerification(context.Background(), benchCreateRequest); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return errs
}

// rateCap caps creations at a rate the way an API gateway does: a token
// bucket of that rate. Its burst (a fifth of a second's worth) absorbs the
// jitter with which paced requests arrive; it does not raise the rate, which
// stays the cap over any longer window.
type rateCap struct {
	limiter *rate.Limiter

	mu       sync.Mutex
	arrivals []time.Time // of the requests let through
	refused  int
}

func newRateCap(perSecond int) *rateCap {
	return &rateCap{limiter: rate.NewLimiter(rate.Limit(perSecond), max(perSecond/5, 1))}
}

// admit reports whether a request arriving at now is let through.
func (rc *rateCap) admit(now time.Time) bool {
	ok := rc.limiter.AllowN(now, 1)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if ok {
		rc.arrivals = append(rc.arrivals, now)
	} else {
		rc.refused++
	}
	return ok
}

func (rc *rateCap) results() ([]time.Time, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	arrivals := slices.Clone(rc.arrivals)
	slices.SortFunc(arrivals, time.Time.Compare)
	return arrivals, rc.refused
}

// cappedServer serves creations over loopback HTTP behind a rateCap on the
// wall clock, answering 429 with Retry-After when it refuses.
type cappedServer struct {
	*httptest.Server
	*rateCap
}

func newCappedServer(tb testing.TB, perSecond int) *cappedServer {
	cs := &cappedServer{rateCap: newRateCap(perSecond)}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !cs.admit(time.Now()) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"status":false,"message":"Too many verifications","code":429}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(benchCreateBody)
	}))
	tb.Cleanup(cs.Close)
	return cs
}

// slope fits t[i] = a + slope·i by least squares over sorted times: the
// interval between requests that best explains all of them.
func slope(t []time.Time) time.Duration {
	n := float64(len(t))
	meanI := (n - 1) / 2
	var meanT float64
	for _, ti := range t {
		meanT += ti.Sub(t[0]).Seconds()
	}
	meanT /= n
	var num, den float64
	for i, ti := range t {
		di := float64(i) - meanI
		num += di * (ti.Sub(t[0]).Seconds() - meanT)
		den += di * di
	}
	return time.Duration(num / den * float64(time.Second))
}
