package heliumidtest

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRateLimitRefusesOverTheCap(t *testing.T) {
	srv := newTestServer(t, WithRateLimit(2, time.Minute))
	createRaw(t, srv, `{}`)
	createRaw(t, srv, `{}`)

	r := send(t, srv, http.MethodPost, "/v1/verifications", `{}`)
	requireError(t, r, http.StatusTooManyRequests, "rate limit")
	assert.Equal(t, "60", r.header.Get("Retry-After"))

	// Reads are never capped.
	list := send(t, srv, http.MethodGet, "/v1/verifications", "")
	require.Equal(t, http.StatusOK, list.status)
	assert.EqualValues(t, 2, list.data(t)["total"], "the refused create made nothing")

	srv.Advance(45 * time.Second)
	r = send(t, srv, http.MethodPost, "/v1/verifications", `{}`)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "15", r.header.Get("Retry-After"), "Retry-After counts down on the virtual clock")

	srv.Advance(15 * time.Second)
	createRaw(t, srv, `{}`)
	createRaw(t, srv, `{}`)
	require.Equal(t, http.StatusTooManyRequests, send(t, srv, http.MethodPost, "/v1/verifications", `{}`).status)
}

func TestRateLimitWindowSlides(t *testing.T) {
	srv := newTestServer(t, WithRateLimit(2, time.Minute))
	createRaw(t, srv, `{}`) // t=0
	srv.Advance(40 * time.Second)
	createRaw(t, srv, `{}`) // t=40s

	r := send(t, srv, http.MethodPost, "/v1/verifications", `{}`)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "20", r.header.Get("Retry-After"), "until the t=0 creation leaves the window")

	srv.Advance(20 * time.Second) // t=60s: one slot free
	createRaw(t, srv, `{}`)
	r = send(t, srv, http.MethodPost, "/v1/verifications", `{}`)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "40", r.header.Get("Retry-After"), "until the t=40s creation leaves")
}

func TestRetryAfterRoundsUp(t *testing.T) {
	srv := newTestServer(t, WithRateLimit(1, 1500*time.Millisecond))
	createRaw(t, srv, `{}`)
	assert.Equal(t, "2", send(t, srv, http.MethodPost, "/v1/verifications", `{}`).header.Get("Retry-After"))
	srv.Advance(1400 * time.Millisecond)
	assert.Equal(t, "1", send(t, srv, http.MethodPost, "/v1/verifications", `{}`).header.Get("Retry-After"), "never 0")
}

func TestRateLimitThroughTheClient(t *testing.T) {
	srv := newTestServer(t, WithRateLimit(1, 10*time.Second))
	ctx := context.Background()
	client := srv.Client()
	_, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)

	start := time.Now()
	_, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.ErrorIs(t, err, heliumid.ErrRateLimited)
	var apiErr *heliumid.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 10*time.Second, apiErr.RetryAfter)
	assert.Less(t, time.Since(start), time.Second, "the wired client fails fast instead of sleeping")
	assert.Len(t, srv.Requests(), 2, "and does not retry into the same window")
}

// The Client of Server.Client has a Retry-After cap of 0, so a 429 pauses
// nothing after it: once Advance frees the cap, the same Client creates.
func TestClientCreatesAgainAfterAdvance(t *testing.T) {
	srv := newTestServer(t, WithRateLimit(1, 10*time.Second))
	ctx := context.Background()
	client := srv.Client()
	_, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)
	_, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.ErrorIs(t, err, heliumid.ErrRateLimited)

	srv.Advance(10 * time.Second)
	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err, "the same client, not a fresh one")
	_, ok := srv.Verification(created.ID)
	assert.True(t, ok)
	assert.Len(t, srv.Requests(), 3, "the third create reached the server")

	// Reads were never paused either.
	_, err = client.GetVerification(ctx, created.ID)
	require.NoError(t, err)

	// And creates are not paced in real time after the 429: a test client
	// does not slow down against the virtual clock.
	srv.Advance(10 * time.Second)
	start := time.Now()
	_, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)
	srv.Advance(10 * time.Second)
	_, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 700*time.Millisecond, "not paced (a paced client would space these by a second or more)")
}

func TestTokenBucket(t *testing.T) {
	srv := newTestServer(t, WithTokenBucket(10, 3))
	for range 3 {
		createRaw(t, srv, `{}`) // the bucket starts full
	}
	r := send(t, srv, http.MethodPost, "/v1/verifications", `{}`)
	requireError(t, r, http.StatusTooManyRequests, "at most 10 per second, in bursts of at most 3")
	assert.Equal(t, "1", r.header.Get("Retry-After"), "0.1 s rounds up to 1")

	srv.Advance(99 * time.Millisecond)
	require.Equal(t, http.StatusTooManyRequests, send(t, srv, http.MethodPost, "/v1/verifications", `{}`).status, "not a whole token yet")
	srv.Advance(time.Millisecond)
	createRaw(t, srv, `{}`)

	srv.Advance(time.Hour) // refills to the burst, not beyond
	for range 3 {
		createRaw(t, srv, `{}`)
	}
	require.Equal(t, http.StatusTooManyRequests, send(t, srv, http.MethodPost, "/v1/verifications", `{}`).status)

	list := send(t, srv, http.MethodGet, "/v1/verifications", "")
	require.Equal(t, http.StatusOK, list.status, "reads are never capped")
	assert.EqualValues(t, 7, list.data(t)["total"], "refused creates made nothing")
}

func TestTokenBucketRetryAfter(t *testing.T) {
	srv := newTestServer(t, WithTokenBucket(0.25, 1)) // a token every 4 s
	createRaw(t, srv, `{}`)
	assert.Equal(t, "4", send(t, srv, http.MethodPost, "/v1/verifications", `{}`).header.Get("Retry-After"))
	srv.Advance(2500 * time.Millisecond)
	assert.Equal(t, "2", send(t, srv, http.MethodPost, "/v1/verifications", `{}`).header.Get("Retry-After"), "1.5 s rounds up")
	srv.Advance(1499 * time.Millisecond)
	assert.Equal(t, "1", send(t, srv, http.MethodPost, "/v1/verifications", `{}`).header.Get("Retry-After"), "never 0")
}

func TestSetTokenBucketRaisesTheRateMidRun(t *testing.T) {
	srv := newTestServer(t, WithTokenBucket(10, 1))
	createRaw(t, srv, `{}`)
	require.Equal(t, http.StatusTooManyRequests, send(t, srv, http.MethodPost, "/v1/verifications", `{}`).status)

	require.NoError(t, srv.SetTokenBucket(40, 1))
	require.Equal(t, http.StatusTooManyRequests, send(t, srv, http.MethodPost, "/v1/verifications", `{}`).status,
		"the empty bucket stays empty: raising the rate brings no burst of its own")
	srv.Advance(25 * time.Millisecond) // a token at 40/s
	createRaw(t, srv, `{}`)
	srv.Advance(time.Second)
	createRaw(t, srv, `{}`)
	require.Equal(t, http.StatusTooManyRequests, send(t, srv, http.MethodPost, "/v1/verifications", `{}`).status, "burst 1")

	require.ErrorContains(t, srv.SetTokenBucket(0, 1), "want a rate above 0")
	require.ErrorContains(t, srv.SetTokenBucket(math.Inf(1), 1), "finite")
	require.ErrorContains(t, srv.SetTokenBucket(1, 0), "burst of at least 1")
}

func TestSetRateLimit(t *testing.T) {
	srv := newTestServer(t) // no cap
	for range 5 {
		createRaw(t, srv, `{}`)
	}
	require.NoError(t, srv.SetRateLimit(2, time.Minute))
	createRaw(t, srv, `{}`)
	createRaw(t, srv, `{}`)
	r := send(t, srv, http.MethodPost, "/v1/verifications", `{}`)
	require.Equal(t, http.StatusTooManyRequests, r.status, "the window counts from SetRateLimit on")
	assert.Equal(t, "60", r.header.Get("Retry-After"))

	// Lowered below what the window holds: both must leave first.
	require.NoError(t, srv.SetRateLimit(1, time.Minute))
	srv.Advance(30 * time.Second)
	r = send(t, srv, http.MethodPost, "/v1/verifications", `{}`)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "30", r.header.Get("Retry-After"))

	// Raised: the slots are there at once.
	require.NoError(t, srv.SetRateLimit(4, time.Minute))
	createRaw(t, srv, `{}`)
	createRaw(t, srv, `{}`)
	require.Equal(t, http.StatusTooManyRequests, send(t, srv, http.MethodPost, "/v1/verifications", `{}`).status)

	// From a window to a bucket and back: each starts afresh.
	require.NoError(t, srv.SetTokenBucket(1, 1))
	createRaw(t, srv, `{}`)
	require.NoError(t, srv.SetRateLimit(1, time.Second))
	createRaw(t, srv, `{}`)

	require.ErrorContains(t, srv.SetRateLimit(0, time.Second), "n and per must be positive")
	require.ErrorContains(t, srv.SetRateLimit(1, 0), "n and per must be positive")
}
