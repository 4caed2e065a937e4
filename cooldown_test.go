package heliumid

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// TestA429PausesOnlyItsOwnClass: the documented cap is on creation, so a
// create's 429 holds back creates but not reads, and a read's 429 (from a
// proxy, say) holds back reads but not creates.
func TestA429PausesOnlyItsOwnClass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithMaxRetries(0))
		api.on(http.MethodPost, testBaseURL+"/v1/verifications",
			sequence(respond(429, "", "Retry-After", "10"), respond(200, okEnvelope(createdData))))
		api.on(http.MethodGet, testBaseURL+"/v1/verifications/v",
			respond(200, okEnvelope(`{"id":"v","status":"started"}`)))

		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.ErrorIs(t, err, ErrRateLimited)
		start := time.Now()
		_, err = c.GetVerification(context.Background(), "v")
		require.NoError(t, err)
		assert.Zero(t, time.Since(start), "a create's 429 does not pause reads")
		_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.NoError(t, err)
		assert.Equal(t, 10*time.Second, time.Since(start), "but it pauses creates")
	})
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithMaxRetries(0))
		api.on(http.MethodGet, testBaseURL+"/v1/verifications/v",
			sequence(respond(429, "", "Retry-After", "10"), respond(200, okEnvelope(`{"id":"v","status":"started"}`))))
		api.on(http.MethodPost, testBaseURL+"/v1/verifications", respond(200, okEnvelope(createdData)))

		_, err := c.GetVerification(context.Background(), "v")
		require.ErrorIs(t, err, ErrRateLimited)
		start := time.Now()
		_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.NoError(t, err)
		assert.Zero(t, time.Since(start), "a read's 429 does not pause creates")
		_, err = c.GetVerification(context.Background(), "v")
		require.NoError(t, err)
		assert.Equal(t, 10*time.Second, time.Since(start), "but it pauses reads")
	})
}

// TestNoPauseOutlastsTheRetryAfterCap: however long a hostile server asks
// the client to wait, the call fails at once with the server's Retry-After,
// and the other callers are paused for at most the cap; after it the next
// request is sent to find out whether the window is still closed.
func TestNoPauseOutlastsTheRetryAfterCap(t *testing.T) {
	asks := map[string]func(now time.Time) string{
		"31 years in seconds": func(time.Time) string { return "999999999" },
		"overflowing seconds": func(time.Time) string { return "99999999999999999999999" },
		"a date in year 9999": func(time.Time) string { return "Fri, 31 Dec 9999 23:59:59 GMT" },
	}
	for name, ask := range asks {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim := &recordingLimiter{inner: rate.NewLimiter(rate.Inf, 1)}
				c, api := newFakeClient(t, WithRateLimiter(lim))
				api.otherwise(sequence(
					func(req *http.Request) (*http.Response, error) {
						return respond(429, errEnvelope(429, "cap"), "Retry-After", ask(time.Now()))(req)
					},
					respond(200, okEnvelope(createdData))))

				_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
				require.ErrorIs(t, err, ErrRateLimited)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Greater(t, apiErr.RetryAfter, 30*365*24*time.Hour, "the caller learns what the server asked for")
				assert.NotRegexp(t, `-\d|\d{5,}h`, err.Error(), "no negative or overflowed duration in the message")
				require.Len(t, lim.cooldowns, 1)
				assert.Equal(t, api.start.Add(defaultRetryAfterCap), lim.cooldowns[0], "the fleet is paused for the cap, no longer")

				_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{})
				require.NoError(t, err)
				assert.Equal(t, []time.Duration{0, defaultRetryAfterCap}, api.times(), "the next create goes out when the cap has passed")
			})
		})
	}
}

// TestAZeroRetryAfterCapNeverPauses: with WithRetryAfterCap(0) (as
// heliumidtest's Server.Client uses), a 429 fails its call at once and holds
// back nothing after it.
func TestAZeroRetryAfterCapNeverPauses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithRetryAfterCap(0))
		api.otherwise(sequence(respond(429, "", "Retry-After", "60"), respond(200, okEnvelope(createdData))))
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.ErrorIs(t, err, ErrRateLimited)
		start := time.Now()
		_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.NoError(t, err)
		assert.Zero(t, time.Since(start))
	})
}

// slowFeedback is a limiter whose Feedback, on the first throttle, takes a
// few milliseconds: the caller that met the 429 is held there, between
// starting the pause and annotating its error, without synchronising with
// anyone, while other callers build their fail-fast errors from the pause.
type slowFeedback struct{ once sync.Once }

func (*slowFeedback) Wait(context.Context) error { return nil }

func (l *slowFeedback) Feedback(throttled bool) {
	if throttled {
		l.once.Do(func() { time.Sleep(5 * time.Millisecond) })
	}
}

// TestConcurrentCreatesMeetingA429ShareNoError: on the plain create path,
// concurrent creates meet a 429 with Retry-After. The 429 that starts the
// pause is kept as the pause's own copy: the caller who met it goes on
// annotating its error (its attempts) while the others build their
// fail-fast errors from the pause. Run with -race. Every caller's error is
// its own: what one does with it shows in no other.
func TestConcurrentCreatesMeetingA429ShareNoError(t *testing.T) {
	c, api := newFakeClient(t, WithRateLimiter(&slowFeedback{}))
	inFlight := make(chan struct{})
	var first sync.Once
	api.otherwise(func(req *http.Request) (*http.Response, error) {
		resp, err := respond(429, errEnvelope(429, "cap"), "Retry-After", "10", "X-Request-Id", "r-429")(req)
		first.Do(func() { close(inFlight) })
		return resp, err
	})
	fromPause := func() *APIError {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second) // shorter than the pause: fail fast
		defer cancel()
		_, err := c.CreateVerification(ctx, &CreateVerificationRequest{})
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		return apiErr
	}

	var met *APIError
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithMaxRetries(0))
		require.ErrorAs(t, err, &met)
	}()
	<-inFlight
	var wg sync.WaitGroup
	errs := make(chan *APIError, 16*8)
	for range 16 {
		wg.Go(func() {
			for range 8 {
				errs <- fromPause()
			}
		})
	}
	wg.Wait()
	<-done
	close(errs)
	seen := map[*APIError]bool{met: true}
	for apiErr := range errs {
		require.ErrorIs(t, apiErr, ErrRateLimited)
		assert.False(t, seen[apiErr], "two callers got the same *APIError")
		seen[apiErr] = true
	}

	met.RequestID, met.Body[0] = "changed by its caller", 'X'
	later := fromPause()
	assert.Equal(t, "r-429", later.RequestID, "the pause's error is not the caller's")
	assert.Equal(t, byte('{'), later.Body[0])
	later.Body[0] = 'Y'
	assert.Equal(t, byte('{'), fromPause().Body[0], "nor is one fail-fast error another's")
}

// TestA429PausesEveryCallerOfTheClient: one 429 with Retry-After holds back
// every goroutine of the Client until the window has passed, instead of each
// sending on and collecting its own 429.
func TestA429PausesEveryCallerOfTheClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t)
		var rateLimited sync.Once
		var mu sync.Mutex
		late := 0
		api.otherwise(func(req *http.Request) (*http.Response, error) {
			first := false
			rateLimited.Do(func() { first = true })
			if first {
				return respond(429, errEnvelope(429, "cap"), "Retry-After", "2")(req)
			}
			mu.Lock()
			if time.Since(api.start) < 2*time.Second {
				late++
			}
			mu.Unlock()
			return respond(200, okEnvelope(createdData))(req)
		})

		var wg sync.WaitGroup
		errs := make(chan error, 101)
		call := func() {
			defer wg.Done()
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
			errs <- err
		}
		wg.Add(1)
		go call()
		synctest.Wait() // the first caller got its 429 and is waiting
		time.Sleep(500 * time.Millisecond)
		for range 100 {
			wg.Add(1)
			go call()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
		assert.Zero(t, late, "no request was sent inside the window")
		assert.Equal(t, 102, api.count(), "one 429, then one request per caller")
		assert.Equal(t, 2*time.Second, api.times()[1], "everyone resumes when the window ends")
	})
}

func TestACoolDownLongerThanTheCallerCanWaitFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithMaxRetries(0))
		api.otherwise(respond(429, errEnvelope(429, "cap"), "Retry-After", "20"))
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.ErrorIs(t, err, ErrRateLimited)

		time.Sleep(5 * time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		_, err = c.CreateVerification(ctx, &CreateVerificationRequest{})
		assert.Zero(t, time.Since(start))
		require.ErrorIs(t, err, ErrRateLimited)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 15*time.Second, apiErr.RetryAfter, "the time left of the window")
		assert.Contains(t, err.Error(), "POST /v1/verifications")
		assert.Equal(t, 1, api.count(), "nothing sent inside the window")

		time.Sleep(15 * time.Second)
		api.otherwise(respond(200, okEnvelope(createdData)))
		_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		assert.NoError(t, err, "after the window the client sends again")
	})
}
