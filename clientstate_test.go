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

// sharingLimiter is a limiter that records what the Client shares with it:
// cool-downs and feedback.
type sharingLimiter struct {
	mu        sync.Mutex
	cooldowns []time.Time
	feedback  []bool
}

func (l *sharingLimiter) Wait(context.Context) error { return nil }

func (l *sharingLimiter) ShareCooldown(_ context.Context, until time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cooldowns = append(l.cooldowns, until)
	return nil
}

func (l *sharingLimiter) Feedback(throttled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.feedback = append(l.feedback, throttled)
}

func (l *sharingLimiter) heard() ([]time.Time, []bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.cooldowns...), append([]bool(nil), l.feedback...)
}

// TestALongerCapOfOneCallPausesOnlyThatCall: one call allowed to wait an
// hour (WithRetryAfterCap) meets Retry-After: 3600. That call waits the
// hour on its own; the client's other creates, and the fleet through
// ShareCooldown, pause for the client's own cap (30 s), no longer.
func TestALongerCapOfOneCallPausesOnlyThatCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := &sharingLimiter{}
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
		lim := &sharingLimiter{}
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
		lim := &sharingLimiter{}
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
			clients, calls := &sharingLimiter{}, &sharingLimiter{}
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
