package heliumid

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allSentinels = []error{ErrInvalidRequest, ErrMissingAPIKey, ErrInvalidOption, ErrBadRequest, ErrUnauthorized,
	ErrNotFound, ErrRateLimited, ErrServer, ErrUnexpectedResponse}

// assertOnlySentinel checks err matches want and no other sentinel.
func assertOnlySentinel(t *testing.T, err, want error) {
	t.Helper()
	for _, s := range allSentinels {
		assert.Equal(t, s == want, errors.Is(err, s), "errors.Is(%v, %v)", err, s)
	}
}

func TestIsTransient(t *testing.T) {
	transient := []error{
		&APIError{StatusCode: 500}, &APIError{StatusCode: 503}, &APIError{StatusCode: 429}, &APIError{StatusCode: 408},
		&APIError{StatusCode: 429, kind: ErrRateLimited}, // a pause the SDK would not wait out
		fmt.Errorf("heliumid: GET /x: %w", refused), fmt.Errorf("%w: limiter", ErrRateLimited),
		context.DeadlineExceeded, // the caller may try again with more time
	}
	permanent := []error{
		nil, &APIError{StatusCode: 400}, &APIError{StatusCode: 401}, &APIError{StatusCode: 404},
		&APIError{StatusCode: 501}, &APIError{StatusCode: 505}, &APIError{StatusCode: 200, Code: 503},
		&APIError{StatusCode: 200, kind: ErrUnexpectedResponse}, fmt.Errorf("%w: x", ErrInvalidRequest),
		ErrMissingAPIKey, fmt.Errorf("%w: x", ErrInvalidOption),
		fmt.Errorf("heliumid: GET /x: %w", context.Canceled),
	}
	for _, err := range transient {
		assert.True(t, IsTransient(err), "%v", err)
	}
	for _, err := range permanent {
		assert.False(t, IsTransient(err), "%v", err)
	}
}

// TestAStalledServerIsTransient: an HTTP client timeout (the caller's
// context still alive) matches context.DeadlineExceeded, and must not end a
// wait for a decision.
func TestAStalledServerIsTransient(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	api := newFakeAPI()
	api.otherwise(func(req *http.Request) (*http.Response, error) {
		if calls.Add(1) == 1 {
			<-release // stall the first request past the client's timeout
		}
		return respond(200, okEnvelope(`{"id":"v","status":"successful"}`))(req)
	})
	defer close(release)
	base, _ := serveOver(t, "HTTP/1.1", api)
	c, err := NewClient(testKey, WithBaseURL(base), WithMaxRetries(0),
		WithHTTPClient(&http.Client{Timeout: 20 * time.Millisecond}), WithPollInterval(time.Millisecond, time.Millisecond))
	require.NoError(t, err)

	_, err = c.GetVerification(context.Background(), "v")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, IsTransient(err))

	calls.Store(0)
	v, err := c.WaitForDecision(context.Background(), "v")
	require.NoError(t, err, "a stalled poll is ridden out")
	assert.Equal(t, StatusSuccessful, v.Status)
	c.CloseIdleConnections()
}

// TestIsTransientAgreesWithTheGETRetryPolicy: every status a GET is retried
// on is transient, and no other.
func TestIsTransientAgreesWithTheGETRetryPolicy(t *testing.T) {
	for status := 400; status < 600; status++ {
		c, api := newFakeClient(t, WithMaxRetries(1), WithRetryBackoff(1, 1))
		api.otherwise(respond(status, ""))
		_, err := c.GetVerification(context.Background(), "v")
		require.Error(t, err)
		retried := api.count() > 1
		assert.Equal(t, retried, IsTransient(err), "status %d: retried %v, transient %v", status, retried, IsTransient(err))
	}
}

// TestANilContextIsAnInvalidRequestEverywhere: no method panics on a nil
// context, and none sends anything.
func TestANilContextIsAnInvalidRequestEverywhere(t *testing.T) {
	c, api := newFakeClient(t)
	var nilCtx context.Context
	calls := map[string]func() error{
		"CreateVerification": func() error { _, err := c.CreateVerification(nilCtx, &CreateVerificationRequest{}); return err },
		"GetVerification":    func() error { _, err := c.GetVerification(nilCtx, "v"); return err },
		"ListVerifications":  func() error { _, err := c.ListVerifications(nilCtx, nil); return err },
		"WaitForDecision":    func() error { _, err := c.WaitForDecision(nilCtx, "v"); return err },
		"AllVerifications": func() error {
			for _, err := range c.AllVerifications(nilCtx, nil) {
				return err
			}
			return nil
		},
	}
	for name, call := range calls {
		err := call()
		assert.ErrorIs(t, err, ErrInvalidRequest, name)
		assert.Contains(t, err.Error(), "nil context", name)
	}
	assert.Zero(t, api.count())
}
