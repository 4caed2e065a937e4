package heliumid

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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

func TestHTTPStatusesMapToSentinels(t *testing.T) {
	tests := []struct {
		status int
		want   error
		hint   string
	}{
		{400, ErrBadRequest, ""},
		{401, ErrUnauthorized, "check the API key"},
		{403, ErrUnauthorized, "check the API key"},
		{404, ErrNotFound, "check the verification id"},
		{405, ErrBadRequest, ""},
		{409, ErrBadRequest, ""},
		{422, ErrBadRequest, ""},
		{429, ErrRateLimited, "session-creation cap"},
		{500, ErrServer, "retry later"},
		{502, ErrServer, "retry later"},
		{503, ErrServer, "retry later"},
		{504, ErrServer, "retry later"},
		{599, ErrServer, "retry later"},
		{302, ErrUnexpectedResponse, "report it"},
	}
	for _, tt := range tests {
		c, api := newFakeClient(t, WithMaxRetries(0))
		api.otherwise(respond(tt.status, errEnvelope(tt.status, "Details here")))
		_, err := c.GetVerification(context.Background(), "ver_1")
		require.Error(t, err, tt.status)
		assertOnlySentinel(t, err, tt.want)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, tt.status, apiErr.StatusCode)
		assert.Equal(t, tt.status, apiErr.Code)
		assert.Equal(t, "Details here", apiErr.Message)
		assert.Contains(t, err.Error(), "GET /v1/verifications/ver_1")
		assert.Contains(t, err.Error(), "Details here")
		if tt.hint != "" {
			assert.Contains(t, err.Error(), tt.hint)
		}
	}
}

func TestErrorBodiesOfEveryKindBecomeAPIErrors(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantMessage string
		wantCode    int
	}{
		{"envelope", errEnvelope(401, "Invalid API key"), "Invalid API key", 401},
		{"code as string", `{"status":false,"message":"Bad","code":"400"}`, "Bad", 400},
		{"message list", `{"status":false,"message":["vendorData must be a string","method is invalid"]}`, "vendorData must be a string; method is invalid", 0},
		{"message object", `{"message":{"field":"x"}}`, `{"field":"x"}`, 0},
		{"error field", `{"error":"Unauthorized"}`, "Unauthorized", 0},
		{"escaped message", `{"message":"line\none \u00e9"}`, "line one é", 0},
		{"HTML page", "<!DOCTYPE html>\n<html><head><TITLE> 502 Bad Gateway </TITLE></head><body><h1>nginx</h1></body></html>", "502 Bad Gateway", 0},
		{"HTML without title", "<html><body>\n\n  Upstream   died\n</body></html>", "<html><body> Upstream died </body></html>", 0},
		{"plain text", "upstream connect error or disconnect/reset before headers", "upstream connect error or disconnect/reset before headers", 0},
		{"empty", "", "", 0},
		{"binary", "\x00\x01\xff\xfe hello", "\uFFFD\uFFFD hello", 0},
		{"JSON scalar", `42`, "42", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newFakeClient(t, WithMaxRetries(0))
			api.otherwise(respond(502, tt.body, "Request-Id", "rid-1"))
			_, err := c.GetVerification(context.Background(), "ver_1")
			require.ErrorIs(t, err, ErrServer)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.wantMessage, apiErr.Message)
			assert.Equal(t, tt.wantCode, apiErr.Code)
			assert.Equal(t, "rid-1", apiErr.RequestID, "Request-Id is read when X-Request-Id is absent")
			if tt.body == "" {
				assert.Nil(t, apiErr.Body)
			} else {
				assert.Equal(t, []byte(tt.body), apiErr.Body)
			}
			assert.NotContains(t, err.Error(), "invalid character")
		})
	}
}

func TestErrorBodiesAreBounded(t *testing.T) {
	long := strings.Repeat("x", 2<<20) // 2 MiB of text: over the 1 MiB error limit
	c, api := newFakeClient(t, WithMaxRetries(0))
	api.otherwise(respond(400, `{"message":"`+long+`"}`))
	_, err := c.GetVerification(context.Background(), "ver_1")
	require.ErrorIs(t, err, ErrBadRequest)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, keptErrorBody)
	assert.LessOrEqual(t, len(apiErr.Message), 256, "a snippet, not the body")
	assert.Less(t, len(err.Error()), 1024)

	c, api = newFakeClient(t, WithMaxRetries(0))
	api.otherwise(respond(400, `{"message":"`+strings.Repeat("y", 5000)+`"}`))
	_, err = c.GetVerification(context.Background(), "ver_1")
	require.ErrorAs(t, err, &apiErr)
	assert.LessOrEqual(t, len(apiErr.Message), maxMessage+len("…"))
	assert.True(t, strings.HasSuffix(apiErr.Message, "…"))
}

func TestTheKeyNeverReachesAnErrorEvenWhenTheServerEchoesIt(t *testing.T) {
	c, api := newFakeClient(t, WithMaxRetries(0))
	api.otherwise(respond(401, errEnvelope(401, "Invalid API key "+testKey), "X-Request-Id", testKey))
	_, err := c.GetVerification(context.Background(), "ver_1")
	require.ErrorIs(t, err, ErrUnauthorized)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, err.Error(), testKey)
	assert.NotContains(t, string(apiErr.Body), testKey)
	assert.Contains(t, apiErr.Message, "[REDACTED]")
}

func TestRequestIDIsSanitized(t *testing.T) {
	c, api := newFakeClient(t, WithMaxRetries(0))
	api.otherwise(respond(404, "", "X-Request-Id", strings.Repeat("r", 500)))
	_, err := c.GetVerification(context.Background(), "ver_1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.LessOrEqual(t, len(apiErr.RequestID), 128+len("…"))
}

func TestAPIErrorBuiltByUsersStillMatches(t *testing.T) {
	// Users build APIErrors in their own tests; classification must not
	// depend on unexported fields.
	assertOnlySentinel(t, &APIError{StatusCode: 404}, ErrNotFound)
	assertOnlySentinel(t, &APIError{StatusCode: 429, RetryAfter: time.Second}, ErrRateLimited)
	assertOnlySentinel(t, &APIError{StatusCode: 200, Code: 401}, ErrUnauthorized)
	assertOnlySentinel(t, &APIError{StatusCode: 200}, ErrBadRequest)
	assertOnlySentinel(t, &APIError{StatusCode: 503}, ErrServer)
	assert.Equal(t, "heliumid: 429 Too Many Requests; the session-creation cap was hit; try again in 1s or pace creation with WithRateLimiter",
		(&APIError{StatusCode: 429, RetryAfter: time.Second}).Error())
	assert.Equal(t, "heliumid: 400 Bad Request: nope (code 4001)", (&APIError{StatusCode: 400, Code: 4001, Message: "nope"}).Error())
	assert.Equal(t, "heliumid: 400 Bad Request", (&APIError{StatusCode: http.StatusBadRequest}).Error())
}

func TestRetryAfterIsRoundedInMessages(t *testing.T) {
	for d, want := range map[time.Duration]string{
		59*time.Minute + 59*time.Second + 999984738: "try again in 1h0m0s",
		1500 * time.Millisecond:                     "try again in 2s",
		2 * time.Second:                             "try again in 2s",
		1234567 * time.Nanosecond:                   "try again in 2ms",
	} {
		e := &APIError{StatusCode: 429, RetryAfter: d}
		assert.Contains(t, e.Error(), want)
		assert.Equal(t, d, e.RetryAfter, "the field stays exact")
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

func TestHumanDurationNeverPrintsNegativeOrOverflowed(t *testing.T) {
	tests := map[time.Duration]string{
		-time.Second:                   "0s",
		0:                              "0s",
		1500 * time.Microsecond:        "2ms",
		1500 * time.Millisecond:        "2s",
		30 * time.Second:               "30s",
		49 * time.Hour:                 "3 days",
		time.Duration(1<<63 - 1):       "106752 days",
		time.Duration(-1 << 63):        "0s",
		48*time.Hour + time.Nanosecond: "3 days",
	}
	for d, want := range tests {
		assert.Equal(t, want, humanDuration(d), "%d", int64(d))
	}
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
