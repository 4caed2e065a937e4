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
// creating sessions from several goroutines for two seconds, reaches a
// server capped at n/s at n/s (within 2%), and the server refuses none.
//
// This test runs in real time. It is robust to a loaded machine because
// x/time/rate schedules by reservation: each Wait reserves the next slot of
// an exact n/s schedule, so a goroutine woken late delays its own request,
// not the ones after it. The rate is the slope of the server's arrival times
// (least squares over every request), which one late arrival at either end
// cannot skew the way it skews (count-1)/(last-first); both are logged.
func TestRateLimiterHoldsTheRate(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: two seconds")
	}
	const (
		perSecond = 50
		requests  = 2*perSecond + 1 // two seconds: the first goes at once
		callers   = 4
	)
	srv := newCappedServer(t, perSecond)
	c, err := NewClient(testKey, WithBaseURL(srv.URL+"/api"),
		WithRateLimiter(rate.NewLimiter(perSecond, 1)),
		WithMaxRetries(0)) // a 429 must surface, not be retried away
	require.NoError(t, err)
	defer c.CloseIdleConnections()

	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, requests)
	for range callers {
		wg.Go(func() {
			for next.Add(1) <= requests {
				if _, err := c.CreateVerification(context.Background(), benchCreateRequest); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	arrivals, refused := srv.results()
	require.Len(t, arrivals, requests)
	span := arrivals[len(arrivals)-1].Sub(arrivals[0])
	simple := float64(requests-1) / span.Seconds()
	fitted := 1 / slope(arrivals).Seconds()
	t.Logf("%d creations: %.2f/s fitted, %.2f/s first to last (%v); %d refused", requests, fitted, simple, span, refused)
	assert.Zero(t, refused, "the server answered 429")
	assert.InEpsilon(t, perSecond, fitted, 0.02, "achieved rate")
}

// cappedServer answers creations like benchServer, and caps them at a rate
// on the wall clock the way an API gateway does: a token bucket of that
// rate, answering 429 with Retry-After when it is empty. Its burst (a fifth
// of a second's worth) absorbs the jitter with which paced requests arrive
// (goroutine wake-ups, loopback); it does not raise the rate, which stays
// the cap over any longer window.
type cappedServer struct {
	*httptest.Server
	limiter *rate.Limiter

	mu       sync.Mutex
	arrivals []time.Time // of the requests let through
	refused  int
}

func newCappedServer(t *testing.T, perSecond int) *cappedServer {
	cs := &cappedServer{limiter: rate.NewLimiter(rate.Limit(perSecond), max(perSecond/5, 1))}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		ok := cs.limiter.AllowN(now, 1)
		cs.mu.Lock()
		if ok {
			cs.arrivals = append(cs.arrivals, now)
		} else {
			cs.refused++
		}
		cs.mu.Unlock()
		if !ok {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"status":false,"message":"Too many verifications","code":429}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(benchCreateBody)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *cappedServer) results() ([]time.Time, int) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	arrivals := slices.Clone(cs.arrivals)
	slices.SortFunc(arrivals, time.Time.Compare)
	return arrivals, cs.refused
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
