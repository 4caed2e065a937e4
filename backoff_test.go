package heliumid

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithMaxRetries(8))
		api.otherwise(respond(503, ""))
		_, err := c.GetVerification(context.Background(), "v")
		require.ErrorIs(t, err, ErrServer)
		gaps := api.gaps()
		require.Len(t, gaps, 8)
		nominal := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second}
		for i, gap := range gaps {
			assert.GreaterOrEqual(t, gap, nominal[i]/2, "gap %d", i)
			assert.LessOrEqual(t, gap, nominal[i], "gap %d", i)
		}
	})
	// The jitter spreads retries: many draws are not all equal.
	c, _ := newFakeClient(t)
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[c.backoff(3)] = true
	}
	assert.Greater(t, len(seen), 10)
}

func TestWithRetryBackoffShortensTheWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t, WithRetryBackoff(10*time.Millisecond, 20*time.Millisecond), WithMaxRetries(3))
		api.otherwise(respond(500, ""))
		_, err := c.GetVerification(context.Background(), "v")
		require.ErrorIs(t, err, ErrServer)
		for _, gap := range api.gaps() {
			assert.LessOrEqual(t, gap, 20*time.Millisecond)
			assert.GreaterOrEqual(t, gap, 5*time.Millisecond)
		}
	})
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
