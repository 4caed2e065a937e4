package heliumid

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statusAfter answers "started" until the n-th poll, then final.
func statusAfter(n int, final Status) func(*http.Request) (*http.Response, error) {
	var calls atomic.Int32
	return func(req *http.Request) (*http.Response, error) {
		st := StatusStarted
		if int(calls.Add(1)) >= n {
			st = final
		}
		return respond(200, okEnvelope(`{"id":"v","status":"`+string(st)+`"}`))(req)
	}
}

func TestWaitForDecisionPollsWithGrowingCappedDelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t)
		api.otherwise(statusAfter(9, StatusSuccessful))
		v, err := c.WaitForDecision(context.Background(), "v")
		require.NoError(t, err)
		assert.Equal(t, StatusSuccessful, v.Status)
		s := time.Second
		assert.Equal(t, []time.Duration{0, 1 * s, 3 * s, 7 * s, 15 * s, 31 * s, 61 * s, 91 * s, 121 * s}, api.times(),
			"at once, then 1 s doubling to a 30 s cap")
	})
}

func TestWaitForDecisionStopsAtEveryDecision(t *testing.T) {
	for _, st := range []Status{StatusSuccessful, StatusFailed, StatusExpired, StatusAbandoned, StatusReview} {
		synctest.Test(t, func(t *testing.T) {
			c, api := newFakeClient(t)
			api.otherwise(statusAfter(2, st))
			v, err := c.WaitForDecision(context.Background(), "v")
			require.NoError(t, err)
			assert.Equal(t, st, v.Status)
			assert.Equal(t, 2, api.count())
		})
	}
}

func TestWaitForDecisionRidesOutTransientErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithMaxRetries(0))
		api.otherwise(sequence(
			respond(200, okEnvelope(`{"id":"v","status":"started"}`)),
			respond(503, ""),
			respond(429, ""),
			respond(408, ""),
			failWith(refused),
			respond(200, okEnvelope(`{"id":"v","status":"failed","reason":"document expired"}`)),
		))
		v, err := c.WaitForDecision(context.Background(), "v")
		require.NoError(t, err)
		assert.Equal(t, StatusFailed, v.Status)
		assert.Equal(t, "document expired", v.Reason)
		assert.Equal(t, 6, api.count())
	})
}

func TestWaitForDecisionReturnsPermanentErrorsAtOnce(t *testing.T) {
	for status, want := range map[int]error{404: ErrNotFound, 401: ErrUnauthorized, 400: ErrBadRequest} {
		synctest.Test(t, func(t *testing.T) {
			c, api := newFakeClient(t)
			api.otherwise(sequence(respond(200, okEnvelope(`{"id":"v","status":"started"}`)), respond(status, "")))
			start := time.Now()
			v, err := c.WaitForDecision(context.Background(), "v")
			require.ErrorIs(t, err, want)
			assert.Equal(t, time.Second, time.Since(start), "one interval, no retries")
			require.NotNil(t, v, "the last status read comes back with the error")
			assert.Equal(t, StatusStarted, v.Status)
		})
	}
}

func TestWaitForDecisionEndsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t)
		api.otherwise(respond(200, okEnvelope(`{"id":"v","status":"submitted"}`)))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		v, err := c.WaitForDecision(ctx, "v")
		assert.Equal(t, 10*time.Second, time.Since(start))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), `stopped at status "submitted"`)
		require.NotNil(t, v)
		assert.Equal(t, StatusSubmitted, v.Status)
	})
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithMaxRetries(0))
		api.otherwise(respond(503, errEnvelope(503, "down")))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := c.WaitForDecision(ctx, "v")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Nil(t, v)
		assert.Contains(t, err.Error(), "before any status was read")
		assert.Contains(t, err.Error(), "down", "the last failure is part of the story")
	})
}

func TestWithPollInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithPollInterval(10*time.Millisecond, 25*time.Millisecond))
		api.otherwise(statusAfter(5, StatusReview))
		_, err := c.WaitForDecision(context.Background(), "v")
		require.NoError(t, err)
		ms := time.Millisecond
		assert.Equal(t, []time.Duration{0, 10 * ms, 30 * ms, 55 * ms, 80 * ms}, api.times())
	})
	for _, bad := range [][2]time.Duration{{0, time.Second}, {time.Second, time.Millisecond}, {-1, -1}} {
		_, err := NewClient(testKey, WithPollInterval(bad[0], bad[1]))
		assert.ErrorIs(t, err, ErrInvalidOption)
	}
}
