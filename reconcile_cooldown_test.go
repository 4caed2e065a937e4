package heliumid

import (
	"context"
	"net/http"
	"path"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGetVerificationsWaitsOutARead429: the sessions are fetched through
// GetVerification's path, so a 429 on one of them is retried after its
// Retry-After, and the reads after it wait for the pause it set.
func TestGetVerificationsWaitsOutARead429(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, api := newFakeClient(t)
		var mu sync.Mutex
		var sent []time.Duration // when each request was sent, from the start
		start := time.Now()
		first := true
		api.otherwise(func(req *http.Request) (*http.Response, error) {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, time.Since(start))
			if first {
				first = false
				return respond(429, "", "Retry-After", "10")(req)
			}
			id := path.Base(req.URL.Path)
			return respond(200, okEnvelope(`{"id":"`+id+`","status":"started"}`))(req)
		})

		ids := []string{"a", "b", "c", "d", "e", "f"}
		got := 0
		for v, err := range c.GetVerifications(context.Background(), ids, WithConcurrency(1)) {
			require.NoError(t, err)
			require.NotNil(t, v)
			got++
		}
		assert.Equal(t, len(ids), got)
		require.Len(t, sent, len(ids)+1, "the throttled one was retried")
		assert.Equal(t, []time.Duration{0, 10 * time.Second}, sent[:2], "the retry waited for Retry-After")
		for _, at := range sent[2:] {
			assert.Equal(t, 10*time.Second, at, "the others ran after the pause")
		}
	})
}
