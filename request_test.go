package heliumid

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	refused    = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	resetAfter = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
)

func TestGETRetriesTransientFailuresWithBackoff(t *testing.T) {
	failures := map[string]answer{
		"408":           respond(408, errEnvelope(408, "timeout")),
		"429 no header": respond(429, errEnvelope(429, "slow down")),
		"500":           respond(500, errEnvelope(500, "oops")),
		"502":           respond(502, "<html><title>502 Bad Gateway</title></html>"),
		"503":           respond(503, errEnvelope(503, "unavailable")),
		"504":           respond(504, ""),
		"refused":       failWith(refused),
		"reset":         failWith(resetAfter),
		"EOF":           failWith(io.ErrUnexpectedEOF),
	}
	for name, failure := range failures {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, api := newFakeClient(t)
				api.otherwise(sequence(failure, failure, respond(200, okEnvelope(`{"id":"v","status":"started"}`))))
				v, err := c.GetVerification(context.Background(), "v")
				require.NoError(t, err)
				assert.Equal(t, StatusStarted, v.Status)
				gaps := api.gaps()
				require.Len(t, gaps, 2, "two retries by default")
				assert.GreaterOrEqual(t, gaps[0], 250*time.Millisecond)
				assert.LessOrEqual(t, gaps[0], 500*time.Millisecond)
				assert.GreaterOrEqual(t, gaps[1], 500*time.Millisecond)
				assert.LessOrEqual(t, gaps[1], time.Second)
			})
		})
	}
}

func TestGETDoesNotRetryClientErrors(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 405, 409, 422} {
		c, api := newFakeClient(t)
		api.otherwise(respond(status, errEnvelope(status, "no")))
		_, err := c.GetVerification(context.Background(), "v")
		require.Error(t, err)
		assert.Equal(t, 1, api.count(), "status %d", status)
	}
}

// TestCreateRetryPolicy proves each row of the create column of the retry
// table: retried only where Helium ID cannot have created the session.
func TestCreateRetryPolicy(t *testing.T) {
	tests := []struct {
		name    string
		failure answer
		retried bool
		want    error
	}{
		{"429", respond(429, errEnvelope(429, "cap")), true, ErrRateLimited},
		{"connection refused", failWith(refused), true, nil},
		{"DNS failure", failWith(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "x"}}), true, nil},
		{"408", respond(408, ""), false, ErrBadRequest},
		{"500", respond(500, errEnvelope(500, "oops")), false, ErrServer},
		{"502", respond(502, ""), false, ErrServer},
		{"503", respond(503, "", "Retry-After", "1"), false, ErrServer},
		{"504", respond(504, ""), false, ErrServer},
		{"reset after sending", failWith(resetAfter), false, nil},
		{"EOF after sending", failWith(io.ErrUnexpectedEOF), false, nil},
		{"timeout awaiting the response", failWith(&net.OpError{Op: "read", Net: "tcp", Err: errTimeout{}}), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, api := newFakeClient(t)
				api.otherwise(tt.failure)
				_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{VendorData: "u"})
				require.Error(t, err)
				if tt.want != nil {
					assert.ErrorIs(t, err, tt.want)
				}
				want := 1
				if tt.retried {
					want = 3
				}
				assert.Equal(t, want, api.count())
			})
		})
	}
}

type errTimeout struct{}

func (errTimeout) Error() string { return "i/o timeout" }
func (errTimeout) Timeout() bool { return true }

func TestCreateRetryReplaysTheBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t)
		api.otherwise(sequence(respond(429, ""), respond(200, okEnvelope(createdData))))
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{VendorData: "u-1"})
		require.NoError(t, err)
		require.Equal(t, 2, api.count())
		for _, r := range api.requests() {
			assert.JSONEq(t, `{"vendorData":"u-1"}`, string(r.body))
		}
	})
}

func TestRetryAfterReplacesTheBackoff(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header func(now time.Time) string
		want   time.Duration
	}{
		{"429 seconds", 429, func(time.Time) string { return "3" }, 3 * time.Second},
		{"429 HTTP date", 429, func(now time.Time) string { return now.Add(4 * time.Second).UTC().Format(http.TimeFormat) }, 4 * time.Second},
		{"503 seconds", 503, func(time.Time) string { return "2" }, 2 * time.Second},
		{"429 zero falls back to backoff", 429, func(time.Time) string { return "0" }, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, api := newFakeClient(t)
				first := func(req *http.Request) (*http.Response, error) {
					return respond(tt.status, "", "Retry-After", tt.header(time.Now()))(req)
				}
				api.otherwise(sequence(first, respond(200, okEnvelope(`{"id":"v","status":"started"}`))))
				_, err := c.GetVerification(context.Background(), "v")
				require.NoError(t, err)
				gaps := api.gaps()
				require.Len(t, gaps, 1)
				if tt.want < 0 {
					assert.LessOrEqual(t, gaps[0], 500*time.Millisecond)
				} else {
					assert.Equal(t, tt.want, gaps[0], "exactly the server's wait")
				}
			})
		})
	}
}

func TestRetryAfterOverTheCapFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t)
		api.otherwise(respond(429, errEnvelope(429, "Too many sessions"), "Retry-After", "31", "X-Request-Id", "r-429"))
		start := time.Now()
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		assert.Zero(t, time.Since(start), "no wait at all")
		require.ErrorIs(t, err, ErrRateLimited)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 31*time.Second, apiErr.RetryAfter)
		assert.Equal(t, "r-429", apiErr.RequestID)
		assert.Equal(t, 1, api.count())
		assert.Contains(t, err.Error(), "try again in 31s")
	})
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithRetryAfterCap(time.Minute))
		api.otherwise(sequence(respond(429, "", "Retry-After", "31"), respond(200, okEnvelope(createdData))))
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
		require.NoError(t, err, "a raised cap waits it out")
		assert.Equal(t, []time.Duration{31 * time.Second}, api.gaps())
	})
}

func TestWaitsThatWouldOutlastTheDeadlineFailAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t)
		api.otherwise(respond(429, "", "Retry-After", "10"))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.GetVerification(ctx, "v")
		assert.Zero(t, time.Since(start))
		require.ErrorIs(t, err, ErrRateLimited)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 10*time.Second, apiErr.RetryAfter)
	})
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t)
		api.otherwise(respond(500, errEnvelope(500, "oops"), "X-Request-Id", "r-1"))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.GetVerification(ctx, "v")
		assert.Zero(t, time.Since(start), "a backoff past the deadline is not started")
		require.ErrorIs(t, err, ErrServer, "the caller gets the server's error, not a bare deadline")
		assert.Contains(t, err.Error(), "r-1")
	})
}

func TestContextEndsEveryWait(t *testing.T) {
	waits := map[string]answer{
		"backoff":     respond(503, ""),
		"Retry-After": respond(429, "", "Retry-After", "20"),
	}
	for name, responder := range waits {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, api := newFakeClient(t, WithRetryBackoff(time.Minute, time.Minute))
				api.otherwise(responder)
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(time.Second, cancel)
				start := time.Now()
				_, err := c.GetVerification(ctx, "v")
				assert.Equal(t, time.Second, time.Since(start), "the wait ends with the context")
				assert.ErrorIs(t, err, context.Canceled)
				assert.Equal(t, 1, api.count())
			})
		})
	}
	c, api := newFakeClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.GetVerification(ctx, "v")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, api.count())
}

func TestTheFinalErrorKeepsTheLastResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t)
		n := 0
		api.otherwise(func(req *http.Request) (*http.Response, error) {
			n++
			return respond(503, errEnvelope(503, "maintenance "+strconv.Itoa(n)), "X-Request-Id", "req-"+strconv.Itoa(n))(req)
		})
		_, err := c.GetVerification(context.Background(), "v")
		require.ErrorIs(t, err, ErrServer)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 503, apiErr.StatusCode)
		assert.Equal(t, "maintenance 3", apiErr.Message)
		assert.Equal(t, "req-3", apiErr.RequestID)
		assert.Equal(t, "heliumid: GET /v1/verifications/v: 503 Service Unavailable: maintenance 3 (request id req-3) after 3 attempts; Helium ID had a server error; retry later", err.Error())
	})
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t)
		api.otherwise(failWith(refused))
		_, err := c.GetVerification(context.Background(), "v")
		require.Error(t, err)
		assert.ErrorIs(t, err, syscall.ECONNREFUSED, "the transport error stays matchable")
		assert.Contains(t, err.Error(), "heliumid: GET /v1/verifications/v:")
		assert.Equal(t, 3, api.count())
	})
}

func TestMaxRetriesZeroDisablesRetries(t *testing.T) {
	c, api := newFakeClient(t, WithMaxRetries(0))
	api.otherwise(respond(503, ""))
	_, err := c.GetVerification(context.Background(), "v")
	require.ErrorIs(t, err, ErrServer)
	assert.Equal(t, 1, api.count())
	assert.NotContains(t, err.Error(), "attempts")
}
