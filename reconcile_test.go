package heliumid_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// createSessions creates n sessions on srv and returns their ids, in
// creation order.
func createSessions(t *testing.T, srv *heliumidtest.Server, n int) []string {
	t.Helper()
	client := srv.Client()
	ids := make([]string, n)
	for i := range ids {
		s, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{VendorData: fmt.Sprint("user-", i)})
		require.NoError(t, err)
		ids[i] = s.ID
	}
	return ids
}

// gets counts the GETs of one session the fake received.
func gets(srv *heliumidtest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet {
			n++
		}
	}
	return n
}

func TestGetVerificationsFetchesEverySessionOnce(t *testing.T) {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	ids := createSessions(t, srv, 60)
	for _, id := range ids[:20] {
		require.NoError(t, srv.SetStatus(id, heliumid.StatusStarted))
	}

	got := map[string]heliumid.Status{}
	for v, err := range srv.Client().GetVerifications(context.Background(), ids) {
		require.NoError(t, err)
		_, seen := got[v.ID]
		require.False(t, seen, "%s yielded twice", v.ID)
		got[v.ID] = v.Status
	}
	require.Len(t, got, len(ids))
	for i, id := range ids {
		want := heliumid.StatusNotStarted
		if i < 20 {
			want = heliumid.StatusStarted
		}
		assert.Equal(t, want, got[id], id)
	}
	assert.Equal(t, len(ids), gets(srv), "one GET per session")
}

// TestGetVerificationsNamesEachFailure: injected failures, retried or not,
// and unknown ids: each failure names its id and still matches the
// sentinels and APIError; the other sessions arrive.
func TestGetVerificationsNamesEachFailure(t *testing.T) {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	ids := createSessions(t, srv, 30)
	unknown := []string{"7e570000-0000-4000-8000-999999999991", "7e570000-0000-4000-8000-999999999992"}
	all := append(append([]string(nil), ids...), unknown...)

	// Two 503s are retried away (a read is retried twice); then four
	// 401s, which are not retried, fail four sessions.
	require.NoError(t, srv.FailNext(2, heliumidtest.Failure{Status: http.StatusServiceUnavailable}))
	require.NoError(t, srv.FailNext(4, heliumidtest.Failure{Status: http.StatusUnauthorized, Message: "key revoked"}))

	var fetched, unauthorized int
	notFound := map[string]bool{}
	for v, err := range srv.Client().GetVerifications(context.Background(), all, heliumid.WithConcurrency(1)) {
		if err == nil {
			fetched++
			continue
		}
		assert.Nil(t, v)
		var fe *heliumid.FetchError
		require.ErrorAs(t, err, &fe)
		var apiErr *heliumid.APIError
		require.ErrorAs(t, err, &apiErr, "the APIError is reachable through the FetchError")
		assert.Contains(t, err.Error(), fe.ID, "the message names the id")
		switch {
		case errors.Is(err, heliumid.ErrNotFound):
			notFound[fe.ID] = true
		case errors.Is(err, heliumid.ErrUnauthorized):
			unauthorized++
			assert.Contains(t, fe.ID, "7e57")
		default:
			t.Errorf("unexpected failure %v", err)
		}
	}
	assert.Equal(t, 4, unauthorized)
	assert.Equal(t, map[string]bool{unknown[0]: true, unknown[1]: true}, notFound)
	assert.Equal(t, len(ids)-4, fetched)
	assert.Zero(t, srv.QueuedFailures())
}

func TestGetVerificationsRefusesInvalidIDsBeforeAnyRequest(t *testing.T) {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	ids := createSessions(t, srv, 3)
	client := srv.Client()
	before := len(srv.Requests())

	bad := []string{"", "a/b", "..", "x y"}
	var named []string
	for _, err := range client.GetVerifications(context.Background(), append([]string{ids[0], bad[0], ids[1]}, bad[1:]...)) {
		var fe *heliumid.FetchError
		if errors.As(err, &fe) {
			require.ErrorIs(t, err, heliumid.ErrInvalidRequest)
			named = append(named, fe.ID)
			assert.Equal(t, before, len(srv.Requests()), "invalid ids fail before any request")
		}
	}
	assert.Equal(t, bad, named, "each invalid id is named, in the order given")
	assert.Equal(t, 2, gets(srv), "the valid ids are fetched after")

	for range client.GetVerifications(context.Background(), []string{"a/b", ids[0]}) {
		break
	}
	assert.Equal(t, 2, gets(srv), "breaking at the first invalid id sends nothing")
}

func TestGetVerificationsOptions(t *testing.T) {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	ids := createSessions(t, srv, 2)

	_, err := heliumid.NewClient("k", heliumid.WithConcurrency(0))
	require.ErrorIs(t, err, heliumid.ErrInvalidOption)
	var errs []error
	for v, err := range srv.Client().GetVerifications(context.Background(), ids, heliumid.WithConcurrency(-1)) {
		assert.Nil(t, v)
		errs = append(errs, err)
	}
	require.Len(t, errs, 1, "an invalid option is yielded once")
	require.ErrorIs(t, errs[0], heliumid.ErrInvalidOption)
	assert.Zero(t, gets(srv))

	var info heliumid.ResponseInfo
	require.NoError(t, srv.FailNext(1, heliumidtest.Failure{Status: http.StatusBadGateway}))
	n := 0
	for v, err := range srv.Client(heliumid.WithConcurrency(1)).GetVerifications(context.Background(), ids[:1], heliumid.WithResponseInfo(&info)) {
		require.NoError(t, err)
		require.NotNil(t, v)
		n++
	}
	assert.Equal(t, 1, n)
	assert.Equal(t, 2, info.Attempts, "WithResponseInfo describes the fetch yielded: a 502, then the session")
	assert.Equal(t, http.StatusOK, info.StatusCode)
	assert.NotEmpty(t, info.RequestID)
}

// gate is a middleware that holds every request until want of them are
// in flight at once, and records the most it saw, so a test proves both
// that the requests run concurrently and that they never exceed a bound.
type gate struct {
	want     int
	mu       sync.Mutex
	inFlight int
	most     int
	full     chan struct{}
	once     sync.Once
}

func newGate(want int) *gate { return &gate{want: want, full: make(chan struct{})} }

func (g *gate) middleware(req *http.Request, next heliumid.MiddlewareNext) (*http.Response, error) {
	g.mu.Lock()
	g.inFlight++
	g.most = max(g.most, g.inFlight)
	if g.inFlight >= g.want {
		g.once.Do(func() { close(g.full) })
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()
	select {
	case <-g.full:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	case <-time.After(5 * time.Second): // never reached when the bound is met
		return nil, errors.New("gate: the requests never ran concurrently")
	}
	return next(req)
}

func TestGetVerificationsBoundsConcurrency(t *testing.T) {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	ids := createSessions(t, srv, 40)
	for _, n := range []int{3, 8} {
		g := newGate(n)
		client := srv.Client(heliumid.WithMiddleware(g.middleware))
		opts := []heliumid.Option{heliumid.WithConcurrency(n)}
		if n == 8 {
			opts = nil // the default
		}
		count := 0
		for _, err := range client.GetVerifications(context.Background(), ids, opts...) {
			require.NoError(t, err)
			count++
		}
		assert.Equal(t, len(ids), count)
		assert.Equal(t, n, g.most, "%d requests in flight at once, never more", n)
	}
}

// blocker is a middleware that passes the first pass requests on and
// holds every later one until its context ends; it then lingers a
// millisecond before returning, so that a loop that returned without
// waiting for its requests would find them still running. onArrive, when
// set, hears each arrival's count.
type blocker struct {
	pass     int32
	arrived  atomic.Int32
	held     atomic.Int32 // requests held, then returned
	onArrive func(n int32)
}

func (b *blocker) middleware(req *http.Request, next heliumid.MiddlewareNext) (*http.Response, error) {
	n := b.arrived.Add(1)
	if b.onArrive != nil {
		b.onArrive(n)
	}
	if n <= b.pass {
		return next(req)
	}
	<-req.Context().Done()
	time.Sleep(time.Millisecond)
	b.held.Add(1)
	return nil, req.Context().Err()
}

func TestGetVerificationsStopsWhenTheLoopBreaks(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := heliumidtest.NewServer()
	defer srv.Close()
	ids := createSessions(t, srv, 50)
	client := srv.Client()

	n := 0
	for v, err := range client.GetVerifications(context.Background(), ids, heliumid.WithConcurrency(4)) {
		require.NoError(t, err)
		require.NotNil(t, v)
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
	assert.LessOrEqual(t, gets(srv), 3+4, "no more than the requests already in flight")
	client.CloseIdleConnections()

	// Breaking while the other requests hang cancels them, and the loop
	// returns only once they have returned.
	b := blocker{pass: 1}
	slow := srv.Client(heliumid.WithMiddleware(b.middleware))
	for v, err := range slow.GetVerifications(context.Background(), ids, heliumid.WithConcurrency(4)) {
		require.NoError(t, err)
		require.NotNil(t, v)
		break
	}
	// The first, the three in flight beside it, and perhaps the next one
	// the first's goroutine took while the loop ran its body; no other.
	arrived := b.arrived.Load()
	assert.Contains(t, []int32{4, 5}, arrived)
	assert.Equal(t, arrived-1, b.held.Load(), "every request held was cancelled, and returned before the loop did")
	slow.CloseIdleConnections()
}

func TestGetVerificationsStopsWithOneErrorWhenTheContextEnds(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := heliumidtest.NewServer()
	defer srv.Close()
	ids := createSessions(t, srv, 20)

	ctx, cancel := context.WithCancel(context.Background())
	b := blocker{onArrive: func(n int32) {
		if n == 8 { // every request the default concurrency allows is in flight
			cancel()
		}
	}}
	client := srv.Client(heliumid.WithMiddleware(b.middleware))
	var errs []error
	for v, err := range client.GetVerifications(ctx, ids) {
		assert.Nil(t, v)
		errs = append(errs, err)
	}
	require.Len(t, errs, 1, "one error for the context, none for the sessions it cut short")
	require.ErrorIs(t, errs[0], context.Canceled)
	assert.NotErrorAs(t, errs[0], new(*heliumid.FetchError))
	assert.Contains(t, errs[0].Error(), "stopped after 0 of 20 sessions")
	assert.EqualValues(t, 8, b.arrived.Load(), "the default concurrency were in flight")
	assert.EqualValues(t, 8, b.held.Load(), "and returned before the loop did")

	errs = nil
	for _, err := range srv.Client().GetVerifications(ctx, ids) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], context.Canceled, "an ended context sends nothing")
	client.CloseIdleConnections()
}

func TestGetVerificationsOfNothing(t *testing.T) {
	c, err := heliumid.NewClient("k")
	require.NoError(t, err)
	for range c.GetVerifications(context.Background(), nil) {
		t.Fatal("nothing to yield")
	}
}
