package heliumidtest

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveDirect sends a request straight to the Server's handler, without the
// network: the fast way to push thousands of requests through.
func serveDirect(srv *Server, method, path, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, apiPrefix+path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, req)
	return w
}

func TestFailNextHugeCountIsOneRun(t *testing.T) {
	srv := newTestServer(t)
	allocs := testing.AllocsPerRun(10, func() {
		srv.ClearFailures()
		require.NoError(t, srv.FailNext(math.MaxInt, Failure{Status: 503}))
	})
	assert.LessOrEqual(t, allocs, 2.0, "no work or memory per count")
	assert.Equal(t, math.MaxInt, srv.QueuedFailures())

	for range 5 {
		assert.Equal(t, 503, serveDirect(srv, http.MethodGet, "/v1/verifications", "").Code)
	}
	assert.Equal(t, math.MaxInt-5, srv.QueuedFailures())
	srv.ClearFailures()
	assert.Equal(t, 0, srv.QueuedFailures())
	assert.Equal(t, 200, serveDirect(srv, http.MethodGet, "/v1/verifications", "", "X-Api-Key", srv.APIKey()).Code)
}

func TestFailNextMergesEqualFailures(t *testing.T) {
	srv := newTestServer(t)
	for range 3 * MaxQueuedFailures {
		require.NoError(t, srv.FailNext(1, Failure{Status: 503}))
	}
	require.NoError(t, srv.FailNext(math.MaxInt, Failure{Status: 503}), "the count saturates")
	assert.Equal(t, math.MaxInt, srv.QueuedFailures())
	assert.Len(t, srv.faults, 1)
}

func TestFailNextBoundsDistinctFailures(t *testing.T) {
	srv := newTestServer(t)
	for i := range MaxQueuedFailures {
		require.NoError(t, srv.FailNext(1, Failure{Status: 500, Message: fmt.Sprint(i)}))
	}
	err := srv.FailNext(1, Failure{Status: 502})
	require.ErrorContains(t, err, "1000 different failures are already queued")
	assert.Equal(t, MaxQueuedFailures, srv.QueuedFailures(), "nothing queued by the refused call")

	// Used up in order, then the next one fits.
	w := serveDirect(srv, http.MethodGet, "/v1/verifications", "")
	assert.Contains(t, w.Body.String(), `"message":"0"`)
	require.NoError(t, srv.FailNext(1, Failure{Status: 502}))
}

func TestRequestLogKeepsTheMostRecent(t *testing.T) {
	srv := newTestServer(t)
	for range MaxLoggedRequests + 5 {
		serveDirect(srv, http.MethodGet, "/v1/verifications", "")
	}
	reqs := srv.Requests()
	require.Len(t, reqs, MaxLoggedRequests)
	assert.Equal(t, "req_6", reqs[0].ID, "the oldest were dropped")
	assert.Equal(t, fmt.Sprintf("req_%d", MaxLoggedRequests+5), reqs[len(reqs)-1].ID)
	assert.Equal(t, http.StatusUnauthorized, reqs[0].Status)
}

func TestRequestLogCutsEachRequest(t *testing.T) {
	srv := newTestServer(t)
	big := strings.Repeat("x", 1<<20)
	w := serveDirect(srv, http.MethodPost, "/v1/verifications?"+strings.Repeat("a=b&", 4000), big,
		"X-Big", strings.Repeat("h", 20<<10), "X-Small", "kept", "Content-Type", "application/json", "X-Api-Key", srv.APIKey())
	require.Equal(t, http.StatusBadRequest, w.Code)

	r := srv.Requests()[0]
	assert.Len(t, r.Body, MaxLoggedBody)
	assert.Equal(t, 1<<20, r.BodySize)
	assert.Equal(t, "kept", r.Header.Get("X-Small"))
	assert.Empty(t, r.Header.Get("X-Big"), "a header beyond the 8 KiB kept is left out")
	assert.Empty(t, r.Header.Get("X-Api-Key"))
	assert.LessOrEqual(t, len(r.Query["a"]), 1024, "the query string is cut to 4 KiB")

	// 20 requests of 1 MiB keep at most 20 × 4 KiB of bodies.
	for range 20 {
		serveDirect(srv, http.MethodPost, "/v1/verifications", big)
	}
	total := 0
	for _, r := range srv.Requests() {
		total += len(r.Body)
	}
	assert.LessOrEqual(t, total, 21*MaxLoggedBody)
}

func TestReset(t *testing.T) {
	rc := newReceiver(t, DefaultAPIKey, nil)
	srv := newTestServer(t, WithRateLimit(2, 1e12), WithWebhookURL(rc.url), fastRetries())
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	createRaw(t, srv, `{}`)
	require.NoError(t, srv.FailNext(math.MaxInt, Failure{Status: 503}))
	waitWebhooks(t, srv)
	now := srv.Now()

	srv.Reset()
	assert.Empty(t, srv.Requests())
	assert.Empty(t, srv.Deliveries())
	assert.Equal(t, 0, srv.QueuedFailures())
	assert.Equal(t, now, srv.Now(), "the clock stays")
	r := send(t, srv, http.MethodGet, "/v1/verifications/"+id, "")
	requireError(t, r, http.StatusNotFound, "not found")
	other := createRaw(t, srv, `{}`) // the cap's window emptied
	createRaw(t, srv, `{}`)
	assert.NotEqual(t, id, other, "ids keep counting: an old id is never someone else's")
	assert.Equal(t, http.StatusTooManyRequests, send(t, srv, http.MethodPost, "/v1/verifications", `{}`).status, "the cap stays")
	assert.Equal(t, "req_3", srv.Requests()[0].ID, "request ids keep counting too")

	walk(t, srv, other, heliumid.StatusStarted)
	waitWebhooks(t, srv)
	d := srv.Deliveries()
	require.Len(t, d, 1)
	assert.Equal(t, "whk_2", d[0].ID)
	assert.True(t, bytes.Contains(d[0].Body, []byte(other)))
}
