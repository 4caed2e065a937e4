package heliumidtest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func statuses(srv *Server) []int {
	var out []int
	for _, r := range srv.Requests() {
		out = append(out, r.Status)
	}
	return out
}

func TestFailNextAnswersWithTheStatus(t *testing.T) {
	srv := newTestServer(t)
	srv.FailNext(1, Failure{Status: http.StatusServiceUnavailable, RetryAfter: 1500 * time.Millisecond, Message: "maintenance"})
	r := send(t, srv, http.MethodGet, "/v1/verifications", "")
	requireError(t, r, http.StatusServiceUnavailable, "maintenance")
	assert.Equal(t, "2", r.header.Get("Retry-After"))

	r = send(t, srv, http.MethodGet, "/v1/verifications", "")
	assert.Equal(t, http.StatusOK, r.status, "only the next request fails")
}

func TestFailNextQueuesInOrder(t *testing.T) {
	srv := newTestServer(t)
	srv.FailNext(1, Failure{Status: 500})
	srv.FailNext(2, Failure{Status: 502})
	srv.FailNext(0, Failure{Status: 400})
	srv.FailNext(-1, Failure{Status: 400})
	for range 4 {
		send(t, srv, http.MethodGet, "/v1/verifications", "", header{"X-Api-Key", ""})
	}
	assert.Equal(t, []int{500, 502, 502, 401}, statuses(srv), "failures come before the key check")
}

func TestFailNextDefaultsAndMistakes(t *testing.T) {
	srv := newTestServer(t)
	srv.FailNext(1, Failure{Status: http.StatusTeapot})
	srv.FailNext(1, Failure{Status: 42})
	requireError(t, send(t, srv, http.MethodGet, "/v1/verifications", ""), http.StatusTeapot, "teapot")
	requireError(t, send(t, srv, http.MethodGet, "/v1/verifications", ""), http.StatusInternalServerError, "Failure.Status 42")
}

func TestFailNextThroughTheClient(t *testing.T) {
	srv := newTestServer(t)
	client := srv.Client()
	ctx := context.Background()
	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)

	srv.FailNext(2, Failure{Status: http.StatusInternalServerError})
	_, err = client.GetVerification(ctx, created.ID)
	require.NoError(t, err, "a GET is retried through two 500s")
	assert.Equal(t, []int{200, 500, 500, 200}, statuses(srv))

	srv.FailNext(1, Failure{Status: http.StatusInternalServerError})
	_, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.ErrorIs(t, err, heliumid.ErrServer, "a create is not retried after a 500")
	assert.Len(t, srv.Requests(), 5)

	srv.FailNext(1, Failure{Status: http.StatusTooManyRequests})
	_, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err, "a create is retried after a 429 without Retry-After")

	srv.FailNext(1, Failure{Status: http.StatusOK})
	_, err = client.GetVerification(ctx, created.ID)
	require.ErrorIs(t, err, heliumid.ErrBadRequest, `a 2xx whose envelope says "status": false`)
}

func TestFailNextWithARawBody(t *testing.T) {
	srv := newTestServer(t)
	srv.FailNext(1, Failure{Status: http.StatusBadGateway, Body: "<html><head><title>502 Bad Gateway</title></head></html>"})
	_, err := srv.Client(heliumid.WithMaxRetries(0)).GetVerification(context.Background(), "x")
	require.ErrorIs(t, err, heliumid.ErrServer)
	var apiErr *heliumid.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "502 Bad Gateway", apiErr.Message)

	srv.FailNext(1, Failure{Status: http.StatusOK, Body: `{"status": tr`})
	_, err = srv.Client().GetVerification(context.Background(), "x")
	require.ErrorIs(t, err, heliumid.ErrUnexpectedResponse)

	srv.FailNext(1, Failure{Status: http.StatusBadGateway, Body: "<html>oops</html>"})
	resp, err := srv.ts.Client().Get(srv.URL + "/v1/verifications")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
}

func TestFailNextHandledCreatesTheSession(t *testing.T) {
	srv := newTestServer(t)
	client := srv.Client()
	ctx := context.Background()
	srv.FailNext(1, Failure{Status: http.StatusGatewayTimeout, Handled: true})
	_, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "order-7"})
	require.ErrorIs(t, err, heliumid.ErrServer)

	// The session exists: find it by VendorData instead of creating another.
	found, err := client.ListVerifications(ctx, &heliumid.ListVerificationsOptions{VendorData: "order-7"})
	require.NoError(t, err)
	assert.Len(t, found, 1)
}

func TestFailNextDrop(t *testing.T) {
	srv := newTestServer(t)
	ctx := context.Background()
	srv.FailNext(1, Failure{Drop: true})
	_, err := srv.Client().CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.Error(t, err)
	assert.Equal(t, []int{0}, statuses(srv), "dropped: no status, and a create is not retried")
	assert.Empty(t, send(t, srv, http.MethodGet, "/v1/verifications", "").data(t)["verifications"], "dropped before handling")

	srv.FailNext(1, Failure{Drop: true, Handled: true})
	_, err = srv.Client().CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.Error(t, err)
	assert.EqualValues(t, 1, send(t, srv, http.MethodGet, "/v1/verifications", "").data(t)["total"], "handled, then dropped")
}

func TestFailNextDelay(t *testing.T) {
	srv := newTestServer(t)
	ctx := context.Background()
	srv.FailNext(1, Failure{Delay: 30 * time.Millisecond})
	start := time.Now()
	_, err := srv.Client().CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err, "a delay alone answers normally, late")
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)

	srv.FailNext(1, Failure{Delay: time.Hour, Status: http.StatusInternalServerError})
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = srv.Client().CreateVerification(short, &heliumid.CreateVerificationRequest{})
	require.ErrorIs(t, err, context.DeadlineExceeded)

	srv.Close() // waits for the abandoned request's handler
	assert.Equal(t, []int{200, 0}, statuses(srv))
	v, ok := srv.Verification(newID(2))
	assert.False(t, ok, "a request the client gave up on during the delay is not handled: %v", v)
}

func TestCloseCutsADelayShort(t *testing.T) {
	srv := NewServer()
	srv.FailNext(1, Failure{Delay: time.Hour})
	errc := make(chan error, 1)
	go func() {
		_, err := srv.Client().GetVerification(context.Background(), "x")
		errc <- err
	}()
	require.Eventually(t, func() bool { return len(srv.Requests()) == 1 }, 5*time.Second, time.Millisecond)
	start := time.Now()
	srv.Close()
	assert.Less(t, time.Since(start), 2*time.Second)
	require.Error(t, <-errc)
}

func TestRequestsLog(t *testing.T) {
	srv := newTestServer(t)
	client := srv.Client(heliumid.WithUserAgent("acme/1.0"))
	ctx := context.Background()
	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-42"})
	require.NoError(t, err)
	_, err = client.ListVerifications(ctx, &heliumid.ListVerificationsOptions{Status: heliumid.StatusStarted, Limit: 5})
	require.NoError(t, err)
	send(t, srv, http.MethodGet, "/v1/verifications/"+created.ID, "", header{"X-Api-Key", "wrong"})

	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	create := reqs[0]
	assert.Equal(t, "req_1", create.ID)
	assert.Equal(t, http.MethodPost, create.Method)
	assert.Equal(t, "/api/v1/verifications", create.Path)
	assert.JSONEq(t, `{"vendorData":"user-42"}`, string(create.Body))
	assert.True(t, create.KeyValid)
	assert.Equal(t, http.StatusOK, create.Status)
	assert.Empty(t, create.Header.Values("X-Api-Key"), "the key is never logged")
	assert.True(t, strings.HasPrefix(create.Header.Get("User-Agent"), "acme/1.0 heliumid-go/"))
	assert.Equal(t, "application/json", create.Header.Get("Content-Type"))
	assert.WithinDuration(t, time.Now(), create.Received, time.Minute)

	list := reqs[1]
	assert.Equal(t, "started", list.Query.Get("status"))
	assert.Equal(t, "5", list.Query.Get("limit"))
	assert.Empty(t, list.Body)

	assert.False(t, reqs[2].KeyValid)
	assert.Equal(t, http.StatusUnauthorized, reqs[2].Status)

	// What Requests returns is a copy.
	reqs[0].Header.Set("X-Api-Key", "tampered")
	reqs[0].Body[0] = 'X'
	reqs[1].Query.Set("status", "tampered")
	again := srv.Requests()
	assert.Empty(t, again[0].Header.Get("X-Api-Key"))
	assert.Equal(t, byte('{'), again[0].Body[0])
	assert.Equal(t, "started", again[1].Query.Get("status"))
}
