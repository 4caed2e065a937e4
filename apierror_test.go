package heliumid

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A create that failed after Helium ID may have acted on it says the
// session may exist and how to look it up, not "retry later": a retry
// would create a second, billed session.
func TestFailedCreateSaysTheSessionMayExist(t *testing.T) {
	const mayExist = "the session may exist: look it up by VendorData (ListVerifications) before creating it again"
	for _, tt := range []struct {
		status int
		body   string
		want   string
	}{
		{500, errEnvelope(500, "boom"), mayExist},
		{503, errEnvelope(503, "maintenance"), mayExist},
		{504, "", mayExist},
		{200, `{"status":true,"data":`, mayExist}, // answered, unreadably
		{400, errEnvelope(400, "vendorData too long"), ""},
		{401, errEnvelope(401, "Invalid API key"), "check the API key"},
	} {
		c, api := newFakeClient(t, WithMaxRetries(0))
		api.otherwise(respond(tt.status, tt.body))
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{VendorData: "user-42"})
		require.Error(t, err, tt.status)
		assert.Equal(t, 1, api.count(), "%d: not retried", tt.status)
		if tt.want == "" {
			assert.NotContains(t, err.Error(), "may exist", tt.status)
		} else {
			assert.Contains(t, err.Error(), tt.want, tt.status)
		}
		assert.NotContains(t, err.Error(), "retry later", tt.status)
	}

	// A read is not a create: retrying it is the advice.
	c, api := newFakeClient(t, WithMaxRetries(0))
	api.otherwise(respond(503, errEnvelope(503, "maintenance")))
	_, err := c.GetVerification(context.Background(), "v")
	assert.ErrorContains(t, err, "retry later")
	assert.NotContains(t, err.Error(), "may exist")
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
