package heliumid

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// recordingLimiter is a RateLimiter that records what the Client tells it:
// each Wait, the cool-downs it shares (CooldownSharer) and the outcomes it
// hears (RateFeedback). It waits in inner (nil: never waits), and answers
// ShareCooldown with shareErr.
type recordingLimiter struct {
	inner    RateLimiter
	shareErr error

	mu        sync.Mutex
	waits     int
	cooldowns []time.Time
	feedback  []bool
}

func (l *recordingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	l.waits++
	l.mu.Unlock()
	if l.inner == nil {
		return nil
	}
	return l.inner.Wait(ctx)
}

func (l *recordingLimiter) ShareCooldown(_ context.Context, until time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cooldowns = append(l.cooldowns, until)
	return l.shareErr
}

func (l *recordingLimiter) Feedback(throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.feedback = append(l.feedback, throttled)
}

// heard returns the cool-downs and outcomes the limiter heard.
func (l *recordingLimiter) heard() ([]time.Time, []bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.cooldowns), slices.Clone(l.feedback)
}

// TestALongerCapOfOneCallPausesOnlyThatCall: one call allowed to wait an
// hour (WithRetryAfterCap) meets Retry-After: 3600. That call waits the
// hour on its own; the client's other creates, and the fleet through
// ShareCooldown, pause for the client's own cap (30 s), no longer.
func TestALongerCapOfOneCallPausesOnlyThatCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := &recordingLimiter{}
		c, api := newFakeClient(t, WithRateLimiter(lim))
		api.otherwise(sequence(respond(429, errEnvelope(429, "cap"), "Retry-After", "3600"), respond(200, okEnvelope(createdData))))

		patient := make(chan time.Duration)
		go func() {
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithRetryAfterCap(time.Hour))
			assert.NoError(t, err, "the patient call waited out its hour")
			patient <- time.Since(api.start)
		}()
		synctest.Wait()
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.NoError(t, err, "another create waits for the client's cap, then goes")
		assert.Equal(t, defaultRetryAfterCap, time.Since(api.start))
		assert.Equal(t, time.Hour, <-patient)
		cooldowns, _ := lim.heard()
		assert.Equal(t, []time.Time{api.start.Add(defaultRetryAfterCap)}, cooldowns, "the fleet hears the client's cap")
		assert.Equal(t, []time.Duration{0, defaultRetryAfterCap, time.Hour}, api.times())
	})
}

// TestACallToAnotherBaseURLLeavesTheClientsStateAlone: the client's
// cool-downs, its pacing and its limiter's shared state are about the
// client's API. A call sent elsewhere (WithBaseURL) neither waits for them
// nor teaches them; it waits out its own 429 on its own.
func TestACallToAnotherBaseURLLeavesTheClientsStateAlone(t *testing.T) {
	const other = "https://other.test/api"
	synctest.Test(t, func(t *testing.T) {
		lim := &recordingLimiter{}
		c, api := newFakeClient(t, WithRateLimiter(lim))
		api.on(http.MethodPost, other+"/v1/verifications",
			sequence(respond(429, "", "Retry-After", "10"), respond(200, okEnvelope(createdData))))
		api.on(http.MethodPost, testBaseURL+"/v1/verifications",
			sequence(respond(429, "", "Retry-After", "20"), respond(200, okEnvelope(createdData))))

		start := time.Now()
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithBaseURL(other))
		require.NoError(t, err)
		assert.Equal(t, 10*time.Second, time.Since(start), "the call waited out its own 429")
		cooldowns, feedback := lim.heard()
		assert.Empty(t, cooldowns, "nothing shared with the fleet")
		assert.Empty(t, feedback)
		assert.False(t, c.creates.pace.Active(), "nothing taught to the pacer")

		start = time.Now()
		_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithMaxRetries(0))
		require.ErrorIs(t, err, ErrRateLimited, "the client's own API answers its own 429")
		_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithBaseURL(other))
		require.NoError(t, err)
		assert.Zero(t, time.Since(start), "the client's pause does not hold a call sent elsewhere")
	})
}

// TestAMiddlewaresOwn429PausesNothingElse: a 429 a call's middleware makes
// up (a stub, a circuit breaker) is that call's answer; only what the API
// answered pauses the client, teaches its pacer or reaches the fleet.
func TestAMiddlewaresOwn429PausesNothingElse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := &recordingLimiter{}
		c, api := newFakeClient(t, WithRateLimiter(lim))
		api.otherwise(respond(200, okEnvelope(createdData)))
		stub := WithMiddleware(func(*http.Request, MiddlewareNext) (*http.Response, error) {
			h := http.Header{}
			h.Set("Retry-After", "10")
			return &http.Response{StatusCode: http.StatusTooManyRequests, Header: h}, nil
		})
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{}, stub, WithMaxRetries(0))
		require.ErrorIs(t, err, ErrRateLimited)
		start := time.Now()
		_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.NoError(t, err)
		assert.Zero(t, time.Since(start), "the client was not paused")
		assert.False(t, c.creates.pace.Active())
		cooldowns, feedback := lim.heard()
		assert.Empty(t, cooldowns)
		assert.Equal(t, []bool{false}, feedback, "the limiter heard the API's answer only")
	})
}

// TestPerCallSettingsAndTheClientsState: what each per-call setting may do
// to the client-wide state, one by one.
func TestPerCallSettingsAndTheClientsState(t *testing.T) {
	t.Run("a call's WithAdaptiveRate(false) still teaches the pacer of a pacing client", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, api := newFakeClient(t)
			api.otherwise(respond(429, "", "Retry-After", "1"))
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithAdaptiveRate(false), WithMaxRetries(0))
			require.ErrorIs(t, err, ErrRateLimited)
			assert.True(t, c.creates.pace.Active(), "the server's answer is the client's to learn from")
		})
	})
	t.Run("a call's WithAdaptiveRate(true) on a client without pacing paces that call only", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, api := newFakeClient(t, WithAdaptiveRate(false))
			api.otherwise(respond(429, "", "Retry-After", "1"))
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithMaxRetries(0))
			require.ErrorIs(t, err, ErrRateLimited)
			assert.False(t, c.creates.pace.Active(), "a client without pacing keeps no pacer")
			_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithAdaptiveRate(true), WithMaxRetries(0))
			require.ErrorIs(t, err, ErrRateLimited)
			assert.True(t, c.creates.pace.Active(), "the calls that pace share what they learned")
		})
	})
	t.Run("a call's own limiter hears that call, bounded by the client's cap", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			clients, calls := &recordingLimiter{}, &recordingLimiter{}
			c, api := newFakeClient(t, WithRateLimiter(clients))
			api.otherwise(sequence(respond(429, "", "Retry-After", "600"), respond(200, okEnvelope(createdData))))
			start := time.Now()
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithRateLimiter(calls), WithRetryAfterCap(time.Hour))
			require.NoError(t, err)
			cooldowns, feedback := calls.heard()
			assert.Equal(t, []time.Time{start.Add(defaultRetryAfterCap)}, cooldowns)
			assert.Equal(t, []bool{true, false}, feedback)
			cooldowns, feedback = clients.heard()
			assert.Empty(t, cooldowns, "the client's limiter did not gate this create")
			assert.Empty(t, feedback)
		})
	})
	t.Run("a call's own http.Client reaches the same API: its 429 pauses the client", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, api := newFakeClient(t)
			api.otherwise(respond(200, okEnvelope(createdData)))
			own := newFakeAPI()
			own.otherwise(respond(429, "", "Retry-After", "5"))
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithHTTPClient(&http.Client{Transport: own}), WithMaxRetries(0))
			require.ErrorIs(t, err, ErrRateLimited)
			start := time.Now()
			_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithAdaptiveRate(false))
			require.NoError(t, err)
			assert.Equal(t, 5*time.Second, time.Since(start))
		})
	})
	t.Run("a call's lower cap does not lower the client's pause", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, api := newFakeClient(t, WithRateLimiter(rate.NewLimiter(rate.Inf, 1)))
			api.otherwise(sequence(respond(429, "", "Retry-After", "5"), respond(200, okEnvelope(createdData))))
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithRetryAfterCap(0))
			require.ErrorIs(t, err, ErrRateLimited, "the call itself would not wait")
			start := time.Now()
			_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithAdaptiveRate(false))
			require.NoError(t, err)
			assert.Equal(t, 5*time.Second, time.Since(start), "the client still pauses by its own cap")
		})
	})
}

func TestTheLimiterPacesEveryCreateAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := &recordingLimiter{inner: rate.NewLimiter(rate.Every(time.Second), 1)}
		c, api := newFakeClient(t, WithRateLimiter(lim))
		api.on(http.MethodPost, testBaseURL+"/v1/verifications",
			sequence(respond(429, ""), respond(200, okEnvelope(createdData))))
		api.otherwise(respond(200, okEnvelope(`{"id":"v","status":"started"}`)))

		for range 5 {
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
			require.NoError(t, err)
		}
		assert.Equal(t, 6, lim.waits, "five creates plus the retry of the 429")
		for i, gap := range api.gaps() {
			// x/time/rate computes in float64: allow it a microsecond.
			assert.InDelta(t, time.Second, gap, float64(time.Microsecond), "attempt %d", i+1)
		}
		assert.InDelta(t, 5*time.Second, api.times()[5], float64(time.Microsecond), "one attempt per second, retries included")

		before := lim.waits
		for range 3 {
			_, err := c.GetVerification(context.Background(), "v")
			require.NoError(t, err)
		}
		assert.Equal(t, before, lim.waits, "reads are not gated")
	})
}

func TestALimiterThatCannotWaitIsRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithRateLimiter(rate.NewLimiter(rate.Every(time.Minute), 1)))
		api.otherwise(respond(200, okEnvelope(createdData)))
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.NoError(t, err)

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = c.CreateVerification(ctx, &CreateVerificationRequest{})
		require.ErrorIs(t, err, ErrRateLimited, "the limiter knows a minute will not fit in a second")
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 1, api.count())

		ctx, cancel2 := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel2)
		_, err = c.CreateVerification(ctx, &CreateVerificationRequest{})
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 1, api.count())
	})
}

// TestA429IsSharedWithACooldownSharer: a create's pause reaches the
// limiter; when it cannot share it, that is logged, and this process still
// pauses.
func TestA429IsSharedWithACooldownSharer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := &recordingLimiter{inner: rate.NewLimiter(rate.Inf, 1), shareErr: errors.New("redis down")}
		logs, logger := newLogRecorder()
		c, api := newFakeClient(t, WithRateLimiter(lim), WithMaxRetries(0), WithLogger(logger))
		api.otherwise(respond(429, "", "Retry-After", "7"))
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.ErrorIs(t, err, ErrRateLimited)
		require.Len(t, lim.cooldowns, 1)
		assert.Equal(t, time.Now().Add(7*time.Second), lim.cooldowns[0])
		assert.Contains(t, logs.text(), "could not share the 429 cool-down")
		assert.Contains(t, logs.text(), "redis down")

		start := time.Now()
		api.otherwise(respond(200, okEnvelope(createdData)))
		_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.NoError(t, err)
		assert.Equal(t, 7*time.Second, time.Since(start), "paused all the same")
	})
}

type refusingLimiter struct{ err error }

func (l refusingLimiter) Wait(context.Context) error { return l.err }

func TestLimiterErrorsAreNotWrappedTwice(t *testing.T) {
	own := fmt.Errorf("%w: shared cool-down longer than allowed", ErrRateLimited)
	c, api := newFakeClient(t, WithRateLimiter(refusingLimiter{own}))
	_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
	require.ErrorIs(t, err, ErrRateLimited)
	assert.Equal(t, 1, strings.Count(err.Error(), "rate limited"), err.Error())

	outage := errors.New("redis unreachable")
	c, _ = newFakeClient(t, WithRateLimiter(refusingLimiter{outage}))
	_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{})
	require.ErrorIs(t, err, ErrRateLimited, "no session may be created while the limiter refuses")
	assert.ErrorIs(t, err, outage, "the limiter's own error stays matchable")
	assert.Zero(t, api.count())
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
		api := newCappedAPI(perSecond, perSecond/5)
		c := api.client(t, WithRateLimiter(rate.NewLimiter(perSecond, 1)),
			WithMaxRetries(0)) // a 429 must surface, not be retried away
		for err := range createConcurrently(c, requests, 4) {
			t.Error(err)
		}
		arrivals := api.admitted()
		_, refused := api.created(0, time.Hour)
		require.Len(t, arrivals, requests)
		assert.Zero(t, refused, "the server answered 429")
		assert.InEpsilon(t, perSecond, 1/slope(arrivals).Seconds(), 0.02, "achieved rate")
	})
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

// slope fits t[i] = a + slope·i by least squares over sorted times: the
// interval between requests that best explains all of them.
func slope(t []time.Duration) time.Duration {
	n := float64(len(t))
	meanI := (n - 1) / 2
	var meanT float64
	for _, ti := range t {
		meanT += (ti - t[0]).Seconds()
	}
	meanT /= n
	var num, den float64
	for i, ti := range t {
		di := float64(i) - meanI
		num += di * ((ti - t[0]).Seconds() - meanT)
		den += di * di
	}
	return time.Duration(num / den * float64(time.Second))
}

// TestARead429IsNotSharedWithTheFleet: a read's 429 pauses the client's
// reads, but the limiter gates creation only: it hears no cool-down of a
// read, and no outcome.
func TestARead429IsNotSharedWithTheFleet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := &recordingLimiter{}
		c, api := newFakeClient(t, WithRateLimiter(lim), WithMaxRetries(0))
		api.otherwise(respond(429, "", "Retry-After", "5"))
		_, err := c.GetVerification(context.Background(), "v")
		require.ErrorIs(t, err, ErrRateLimited)
		cooldowns, feedback := lim.heard()
		assert.Empty(t, cooldowns)
		assert.Empty(t, feedback)
		assert.Zero(t, lim.waits, "reads are not gated")
	})
}

// TestCreatesWaitingOutAPauseArePacedWhenPacingBeganMeanwhile: creates
// that began waiting out a pause before pacing was on (the client paces
// only the calls given WithAdaptiveRate(true), and the pause came from a
// call that does not) go out paced when the pause ends if a 429 turned
// pacing on while they waited, not all at once.
func TestCreatesWaitingOutAPauseArePacedWhenPacingBeganMeanwhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		api := newFakeAPI()
		api.otherwise(func(req *http.Request) (*http.Response, error) {
			body, _ := io.ReadAll(req.Body)
			switch string(body) {
			case `{"vendorData":"slow"}`:
				<-release
				return respond(429, "", "Retry-After", "1")(req)
			case `{"vendorData":"pauses"}`:
				return respond(429, "", "Retry-After", "2")(req)
			}
			return respond(200, okEnvelope(createdData))(req)
		})
		c := api.client(t, WithAdaptiveRate(false), WithMaxRetries(0))
		create := func(vendorData string, opts ...Option) error {
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{VendorData: vendorData}, opts...)
			return err
		}
		slow := make(chan error)
		go func() { slow <- create("slow", WithAdaptiveRate(true)) }() // in flight, not paced yet
		synctest.Wait()
		require.ErrorIs(t, create("pauses"), ErrRateLimited) // pauses creates for 2 s; teaches nothing
		assert.False(t, c.creates.pace.Active())

		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() { assert.NoError(t, create("w"+strconv.Itoa(i), WithAdaptiveRate(true))) })
		}
		synctest.Wait() // all ten wait out the pause
		close(release)  // the slow create's 429 turns pacing on
		require.ErrorIs(t, <-slow, ErrRateLimited)
		assert.True(t, c.creates.pace.Active())
		wg.Wait()

		atPauseEnd := 0
		for _, r := range api.requests() {
			if r.at == 2*time.Second {
				atPauseEnd++
			}
		}
		assert.Equal(t, 1, atPauseEnd, "one create when the pause ended, the others paced after it")
		assert.Len(t, api.requests(), 12)
	})
}
