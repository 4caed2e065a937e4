package heliumidtest

import (
	"math"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWallClockRunsAndAdvanceAdds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		c := newClock(start, true)
		assert.Equal(t, start, c.now())
		time.Sleep(1500 * time.Millisecond)
		assert.Equal(t, start.Add(1500*time.Millisecond), c.now(), "real time passes")
		c.advance(time.Hour)
		assert.Equal(t, start.Add(time.Hour+1500*time.Millisecond), c.now(), "Advance adds to it")
		time.Sleep(time.Microsecond)
		assert.Equal(t, start.Add(time.Hour+1500*time.Millisecond), c.now(), "whole milliseconds")
	})
}

func TestVirtualClockMovesOnlyWithAdvance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		c := newClock(start, false)
		time.Sleep(time.Hour)
		assert.Equal(t, start, c.now())
		c.advance(time.Minute)
		assert.Equal(t, start.Add(time.Minute), c.now())
	})
}

// A token bucket on the wall clock refills as real time passes: what a
// benchmark of a client's pacing runs against.
func TestTokenBucketOnTheWallClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newClock(time.Now(), true)
		b := newBucketCap(10, 1, c.now())
		_, ok := b.take(c.now())
		require.True(t, ok)
		wait, ok := b.take(c.now())
		require.False(t, ok)
		assert.Equal(t, 100*time.Millisecond, wait)
		time.Sleep(wait)
		_, ok = b.take(c.now())
		assert.True(t, ok, "a token came in real time")

		granted := 0
		for range 100 { // 10 s at 10/s
			time.Sleep(100 * time.Millisecond)
			if _, ok := b.take(c.now()); ok {
				granted++
			}
		}
		assert.Equal(t, 100, granted)
	})
}

func TestClockStopsAtYear9999(t *testing.T) {
	srv := newTestServer(t, WithStartTime(time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC)))
	id := createRaw(t, srv, `{}`)
	for range 3 {
		srv.Advance(math.MaxInt64)
	}
	assert.Equal(t, lastInstant, srv.Now())
	srv.Advance(time.Hour)
	assert.Equal(t, lastInstant, srv.Now(), "and stays there")
	r := send(t, srv, http.MethodGet, "/v1/verifications/"+id, "")
	require.Equal(t, http.StatusOK, r.status, "every timestamp can still be written")
	assert.Equal(t, "expired", r.data(t)["status"])
	createRaw(t, srv, `{}`)
	_, err := srv.Client().ListVerifications(t.Context(), nil)
	require.NoError(t, err, "the SDK reads the timestamps")

	assert.Panics(t, func() { NewServer(WithStartTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))) })
}

func TestWallClockServer(t *testing.T) {
	srv := newTestServer(t, WithWallClock())
	a := createRaw(t, srv, `{}`)
	time.Sleep(3 * time.Millisecond)
	b := createRaw(t, srv, `{}`)
	va, _ := srv.Verification(a)
	vb, _ := srv.Verification(b)
	assert.True(t, vb.CreatedAt.After(va.CreatedAt), "sessions created later carry a later createdAt: %v, %v", va.CreatedAt, vb.CreatedAt)
	assert.WithinDuration(t, time.Now(), srv.Now(), time.Minute)

	time.Sleep(2 * time.Millisecond)
	require.NoError(t, srv.SetStatus(a, heliumid.StatusStarted))
	va, _ = srv.Verification(a)
	assert.True(t, va.UpdatedAt.After(va.CreatedAt), "a status change moves updatedAt")

	before := srv.Now()
	srv.Advance(heliumid.SessionLifetime)
	assert.GreaterOrEqual(t, srv.Now().Sub(before), heliumid.SessionLifetime)
	va, _ = srv.Verification(a)
	vb, _ = srv.Verification(b)
	assert.Equal(t, heliumid.StatusAbandoned, va.Status, "Advance works on the wall clock too")
	assert.Equal(t, heliumid.StatusExpired, vb.Status)
}
