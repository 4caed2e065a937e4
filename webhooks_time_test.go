package heliumid

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tolerance is checked against time.Now, which synctest fakes: these
// tests step the clock to the millisecond without sleeping for real.

func TestParseWebhook_toleranceBoundary(t *testing.T) {
	tests := []struct {
		name      string
		opts      []WebhookOption
		tolerance time.Duration
	}{
		{name: "default", tolerance: 5 * time.Minute},
		{name: "WithWebhookTolerance", opts: []WebhookOption{WithWebhookTolerance(30 * time.Second)}, tolerance: 30 * time.Second},
		{name: "sub-millisecond tolerance", opts: []WebhookOption{WithWebhookTolerance(time.Microsecond)}, tolerance: time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/past", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := SignWebhook(webhookFixture, testKey, time.Now())

				time.Sleep(tt.tolerance)
				ev, err := ParseWebhook(webhookFixture, h, testKey, tt.opts...)
				require.NoError(t, err, "exactly the tolerance old is accepted")
				assert.True(t, time.Now().Add(-tt.tolerance).Equal(ev.Timestamp), "signed at %v", ev.Timestamp)

				time.Sleep(time.Nanosecond)
				_, err = ParseWebhook(webhookFixture, h, testKey, tt.opts...)
				require.ErrorIs(t, err, ErrInvalidSignature)
				assert.Contains(t, err.Error(), "in the past, beyond the tolerance of "+tt.tolerance.String())
			})
		})
		t.Run(tt.name+"/future", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// Whole milliseconds only: the header cannot say more.
				ahead := tt.tolerance.Truncate(time.Millisecond)
				_, err := ParseWebhook(webhookFixture, SignWebhook(webhookFixture, testKey, time.Now().Add(ahead)), testKey, tt.opts...)
				require.NoError(t, err, "exactly the tolerance ahead is accepted")

				_, err = ParseWebhook(webhookFixture, SignWebhook(webhookFixture, testKey, time.Now().Add(ahead+time.Millisecond)), testKey, tt.opts...)
				require.ErrorIs(t, err, ErrInvalidSignature)
				assert.Contains(t, err.Error(), "in the future, beyond the tolerance of "+tt.tolerance.String())
			})
		})
	}
}

func TestParseWebhook_replayLaterIsRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := SignWebhook(webhookFixture, testKey, time.Now())
		_, err := ParseWebhook(webhookFixture, h, testKey)
		require.NoError(t, err)

		time.Sleep(time.Hour)
		_, err = ParseWebhook(webhookFixture, h, testKey)
		require.ErrorIs(t, err, ErrInvalidSignature)
		assert.Contains(t, err.Error(), "1h0m0s in the past")
	})
}
