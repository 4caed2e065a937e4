package heliumidtest

import (
	"context"
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

	srv.Advance(10 * time.Second)
	_, err = srv.Client().CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err, "a fresh client after Advance gets through")
}
