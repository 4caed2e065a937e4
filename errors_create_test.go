package heliumid

import (
	"context"
	"testing"

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
