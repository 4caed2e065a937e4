package heliumid

import (
	"context"
	"math"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionsAtTheirExtremes drives each duration option at the extreme
// values it accepts through real calls (under synctest, so the waits are
// exact and instant): no panic, no overflowed wait that turns into a busy
// loop, no negative duration in a message; each call ends as its context
// or its options say.
func TestOptionsAtTheirExtremes(t *testing.T) {
	const forever = time.Duration(math.MaxInt64)
	cases := map[string]func(t *testing.T){
		"WithRetryBackoff(500ms, MaxInt64), retried past the doubling's overflow": func(t *testing.T) {
			c, api := newFakeClient(t, WithRetryBackoff(500*time.Millisecond, forever), WithMaxRetries(100))
			var n atomic.Int32
			api.otherwise(func(req *http.Request) (*http.Response, error) {
				if n.Add(1) <= 40 { // Retry-After stands in for the backoff: 40 attempts in 40 s
					return respond(503, "", "Retry-After", "1")(req)
				}
				return respond(503, "")(req)
			})
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			start := time.Now()
			_, err := c.GetVerification(ctx, "v")
			require.ErrorIs(t, err, ErrServer)
			assert.Equal(t, int32(41), n.Load(), "the 41st attempt's backoff (about 2^40 × 500 ms) outlasts the deadline: given up")
			assert.Equal(t, 40*time.Second, time.Since(start))
		},
		"WithRetryBackoff(MaxInt64, MaxInt64)": func(t *testing.T) {
			c, api := newFakeClient(t, WithRetryBackoff(forever, forever), WithMaxRetries(3))
			api.otherwise(respond(503, ""))
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			_, err := c.GetVerification(ctx, "v")
			require.ErrorIs(t, err, ErrServer)
			assert.Equal(t, 1, api.count())
		},
		"WithPollInterval(MaxInt64/2+1, MaxInt64)": func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*365*24*time.Hour)
			defer cancel()
			c, api := newFakeClient(t, WithPollInterval(forever/2+1, forever))
			var polls atomic.Int32
			api.otherwise(func(req *http.Request) (*http.Response, error) {
				if polls.Add(1) > 10 {
					cancel() // a busy loop: stop it
				}
				return respond(200, sessionStarted)(req)
			})
			_, err := c.WaitForDecision(ctx, "v")
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, int32(2), polls.Load(), "at once, after 146 years, then a wait the deadline ends")
		},
		"WithPollInterval(1ns, 1ns)": func(t *testing.T) {
			c, api := newFakeClient(t, WithPollInterval(1, 1))
			api.otherwise(sequence(respond(200, sessionStarted), respond(200, sessionStarted), respond(200, okEnvelope(`{"id":"v","status":"failed"}`))))
			v, err := c.WaitForDecision(context.Background(), "v")
			require.NoError(t, err)
			assert.Equal(t, StatusFailed, v.Status)
		},
		"WithRetryAfterCap(MaxInt64) meeting the longest Retry-After": func(t *testing.T) {
			lim := &sharingLimiter{}
			c, api := newFakeClient(t, WithRetryAfterCap(forever), WithRateLimiter(lim))
			api.otherwise(respond(429, "", "Retry-After", "99999999999999999999999"))
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			start := time.Now()
			for range 2 { // the first meets the 429, the second the pause
				_, err := c.CreateVerification(ctx, &CreateVerificationRequest{})
				require.ErrorIs(t, err, ErrRateLimited)
				assert.NotRegexp(t, `-\d|\d{7,} days`, err.Error())
				assert.Contains(t, err.Error(), "106752 days")
			}
			assert.Zero(t, time.Since(start))
			assert.Equal(t, 1, api.count())
			cooldowns, _ := lim.heard()
			require.Len(t, cooldowns, 1)
			assert.True(t, cooldowns[0].After(start.Add(200*365*24*time.Hour)), "the pause ends in 292 years, not in the past: %v", cooldowns[0])
		},
		"WithRetryAfterCap(0)": func(t *testing.T) {
			c, api := newFakeClient(t, WithRetryAfterCap(0))
			api.otherwise(respond(429, "", "Retry-After", "1"))
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
			require.ErrorIs(t, err, ErrRateLimited)
			assert.Equal(t, 1, api.count())
		},
		"WithRequestTimeout(MaxInt64)": func(t *testing.T) {
			c, api := newFakeClient(t, WithRequestTimeout(forever))
			api.otherwise(sequence(respond(503, ""), respond(200, sessionStarted)))
			v, err := c.GetVerification(context.Background(), "v")
			require.NoError(t, err)
			assert.Equal(t, StatusStarted, v.Status)
		},
		"WithMaxRetries(MaxInt)": func(t *testing.T) {
			c, api := newFakeClient(t, WithMaxRetries(math.MaxInt), WithRetryBackoff(time.Second, time.Second))
			api.otherwise(sequence(respond(503, ""), respond(503, ""), respond(200, sessionStarted)))
			_, err := c.GetVerification(context.Background(), "v")
			require.NoError(t, err)
			assert.Equal(t, 3, api.count())
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, run)
		})
	}
}

// TestDurationsSaturate: the arithmetic under the options, at its edges.
func TestDurationsSaturate(t *testing.T) {
	const forever = time.Duration(math.MaxInt64)
	cfg := defaultConfig()
	cfg.backoffBase, cfg.backoffMax = 500*time.Millisecond, forever
	for attempt := 1; attempt < 200; attempt++ {
		d := cfg.backoff(attempt)
		require.Positive(t, d, "attempt %d", attempt)
	}
	assert.GreaterOrEqual(t, cfg.backoff(math.MaxInt), forever/2)
	assert.Equal(t, forever, doubled(forever/2+1, forever))
	assert.Equal(t, forever, doubled(forever, forever))
	assert.Equal(t, 4*time.Second, doubled(2*time.Second, 30*time.Second))
	assert.Equal(t, 30*time.Second, doubled(20*time.Second, 30*time.Second))
	assert.Equal(t, "106752 days", humanDuration(forever))
}
