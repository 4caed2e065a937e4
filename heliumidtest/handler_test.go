package heliumidtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mounted serves srv.Handler() from an httptest.Server of the test's own,
// under "/api/" of a mux that also serves "/health", and returns its base
// URL (with "/api") and an HTTP client for it.
func mounted(t *testing.T, srv *Server) (baseURL string, hc *http.Client) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/api/", srv.Handler())
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	own := httptest.NewServer(mux)
	t.Cleanup(own.Close)
	return own.URL + "/api", own.Client()
}

func TestHandlerServesTheAPIFromAnotherListener(t *testing.T) {
	srv := newTestServer(t)
	base, hc := mounted(t, srv)
	require.NotEqual(t, srv.URL, base)
	client, err := heliumid.NewClient(srv.APIKey(), heliumid.WithBaseURL(base), heliumid.WithHTTPClient(hc))
	require.NoError(t, err)
	ctx := context.Background()

	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-42"})
	require.NoError(t, err)
	walk(t, srv, created.ID, heliumid.StatusStarted)
	v, err := client.GetVerification(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, heliumid.StatusStarted, v.Status, "one Server behind both listeners")
	_, err = srv.Client().GetVerification(ctx, created.ID)
	require.NoError(t, err, "and through its own listener")

	keyless, err := heliumid.NewClient("wrong-key", heliumid.WithBaseURL(base), heliumid.WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = keyless.GetVerification(ctx, created.ID)
	require.ErrorIs(t, err, heliumid.ErrUnauthorized)

	reqs := srv.Requests()
	require.Len(t, reqs, 4, "the request log holds the requests of both listeners")
	assert.Equal(t, "/api/v1/verifications", reqs[0].Path)
	assert.Equal(t, []int{200, 200, 200, 401}, statuses(srv))
	assert.False(t, reqs[3].KeyValid)

	resp, err := hc.Get(strings.TrimSuffix(base, "/api") + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Len(t, srv.Requests(), 4, "the rest of the mux is not the Server's")
}

func TestHandlerAppliesInjectedFailures(t *testing.T) {
	srv := newTestServer(t)
	base, hc := mounted(t, srv)

	srv.FailNext(1, Failure{Drop: true})
	req, err := http.NewRequest(http.MethodGet, base+"/v1/verifications", nil)
	require.NoError(t, err)
	req.Header.Set("X-Api-Key", srv.APIKey())
	_, err = hc.Do(req)
	require.Error(t, err, "the connection is dropped without a response")

	srv.FailNext(1, Failure{Delay: 30 * time.Millisecond, Status: http.StatusServiceUnavailable})
	start := time.Now()
	resp, err := hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	assert.NotEmpty(t, resp.Header.Get("X-Request-Id"))
	assert.Equal(t, []int{0, 503}, statuses(srv))
}

func TestCloseCutsADelayThroughTheHandlerShort(t *testing.T) {
	srv := NewServer()
	base, hc := mounted(t, srv)
	srv.FailNext(1, Failure{Delay: time.Hour})
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/verifications", nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	require.Eventually(t, func() bool { return len(srv.Requests()) == 1 }, 5*time.Second, time.Millisecond)
	srv.Close()
	select {
	case err := <-errc:
		require.Error(t, err, "dropped")
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the delay of a request through Handler")
	}
}
