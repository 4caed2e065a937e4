package heliumid

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAMiddlewaresOwnResponseNeedsNoBodyOrHeader: a circuit breaker or a
// stub answers by itself with a bare *http.Response, as a RoundTripper may
// for net/http.Client: no Body, no Header. The call gets the status's
// error, never a panic, and nothing is sent.
func TestAMiddlewaresOwnResponseNeedsNoBodyOrHeader(t *testing.T) {
	rec, c, _ := newServedAPI(t, respond(200, sessionStarted))
	for status, want := range map[int]error{200: ErrUnexpectedResponse, 429: ErrRateLimited, 503: ErrServer, 404: ErrNotFound} {
		stub := WithMiddleware(func(*http.Request, MiddlewareNext) (*http.Response, error) {
			return &http.Response{StatusCode: status}, nil
		})
		var info ResponseInfo
		_, err := c.GetVerification(context.Background(), "v", stub, WithResponseInfo(&info))
		require.ErrorIs(t, err, want, "GET answered %d", status)
		assert.Equal(t, status, info.StatusCode)
		assert.NotNil(t, info.Header, "an empty header, as net/http gives")
		_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{}, stub)
		require.ErrorIs(t, err, want, "create answered %d", status)
	}
	assert.Empty(t, rec.requests(), "the stub answered every attempt")
}

// TestAMiddlewareMayPassOnARequestWithoutHeaders: net/http accepts a
// request whose Header is nil; the SDK adds the key to it all the same.
func TestAMiddlewareMayPassOnARequestWithoutHeaders(t *testing.T) {
	rec, c, _ := newServedAPI(t, respond(200, sessionStarted))
	bare := WithMiddleware(func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
		out := req.Clone(req.Context())
		out.Header = nil
		return next(out)
	})
	v, err := c.GetVerification(context.Background(), "v", bare)
	require.NoError(t, err)
	assert.Equal(t, StatusStarted, v.Status)
	require.Len(t, rec.requests(), 1)
	assert.Equal(t, testKey, rec.requests()[0].Header.Get("X-Api-Key"))
}

// hedge is a middleware that sends every request twice at once, from two
// goroutines, and keeps the first success (else the first answer).
type hedge struct {
	mu      sync.Mutex
	answers []hedgeAnswer
}

type hedgeAnswer struct {
	requestID string
	err       error
	sawKey    bool
}

func (h *hedge) mw(req *http.Request, next MiddlewareNext) (*http.Response, error) {
	type result struct {
		resp *http.Response
		err  error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			resp, err := next(req)
			results <- result{resp, err}
		}()
	}
	first, second := <-results, <-results
	if first.err != nil {
		first, second = second, first
	}
	h.mu.Lock()
	for _, r := range []result{first, second} {
		a := hedgeAnswer{err: r.err, sawKey: req.Header.Get("X-Api-Key") != ""}
		if r.resp != nil {
			a.requestID = r.resp.Header.Get("X-Request-Id")
			a.sawKey = a.sawKey || r.resp.Request.Header.Get("X-Api-Key") != ""
		}
		h.answers = append(h.answers, a)
	}
	h.mu.Unlock()
	if second.resp != nil {
		second.resp.Body.Close()
	}
	return first.resp, first.err
}

// numbered answers every request with body and its own X-Request-Id,
// counting them.
func numbered(body string, n *atomic.Int32) answer {
	return func(r *http.Request) (*http.Response, error) {
		return respond(200, body, "X-Request-Id", "r-"+strconv.Itoa(int(n.Add(1))))(r)
	}
}

// TestNextIsSafeForConcurrentUse: a hedging middleware calls next from two
// goroutines; each call gets its own answer, race-free (run with -race),
// and neither shows the key. A create's body goes out once per attempt:
// the second send of the same create is refused before anything is sent,
// so hedging never creates a second session.
func TestNextIsSafeForConcurrentUse(t *testing.T) {
	var n atomic.Int32
	rec, _, base := newServedAPI(t, numbered(sessionStarted, &n))
	var h hedge
	c, err := NewClient(testKey, WithBaseURL(base), WithMiddleware(h.mw))
	require.NoError(t, err)
	for range 20 {
		v, err := c.GetVerification(context.Background(), "v")
		require.NoError(t, err)
		assert.Equal(t, "v", v.ID)
	}
	require.Len(t, h.answers, 40)
	seen := map[string]bool{}
	for _, a := range h.answers {
		require.NoError(t, a.err)
		assert.False(t, a.sawKey, "a middleware never sees the key")
		assert.False(t, seen[a.requestID], "each call of next got its own answer: %s twice", a.requestID)
		seen[a.requestID] = true
	}
	assert.Len(t, rec.requests(), 40)
	for _, r := range rec.requests() {
		assert.Equal(t, testKey, r.Header.Get("X-Api-Key"))
	}

	var created atomic.Int32
	recCreate, _, base := newServedAPI(t, numbered(okEnvelope(createdData), &created))
	h = hedge{}
	c, err = NewClient(testKey, WithBaseURL(base), WithMiddleware(h.mw))
	require.NoError(t, err)
	_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{VendorData: "u1"})
	require.NoError(t, err)
	require.Len(t, h.answers, 2)
	assert.NoError(t, h.answers[0].err)
	assert.ErrorIs(t, h.answers[1].err, ErrInvalidRequest, "the second send of the create was refused")
	require.Len(t, recCreate.requests(), 1, "one session, however many times next is called")
}

// TestAMiddlewareMayResendACreateNothingReceived: a middleware that calls
// next again after a failure the transport proves unprocessed (a refused
// connection) sends the whole body the second time.
func TestAMiddlewareMayResendACreateNothingReceived(t *testing.T) {
	api, _, base := newServedAPI(t)
	refuseFirst := sequence(failWith(refused), func(req *http.Request) (*http.Response, error) {
		return http.DefaultTransport.RoundTrip(req)
	})
	retryOnce := func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
		resp, err := next(req)
		if err != nil {
			return next(req)
		}
		return resp, err
	}
	c, err := NewClient(testKey, WithBaseURL(base), WithMaxRetries(0), WithMiddleware(retryOnce),
		WithHTTPClient(&http.Client{Transport: roundTripFunc(refuseFirst)}))
	require.NoError(t, err)
	_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{VendorData: "u1"})
	require.NoError(t, err)
	var bodies []string
	for _, r := range api.requests() {
		bodies = append(bodies, string(r.body))
	}
	assert.Equal(t, []string{`{"vendorData":"u1"}`}, bodies)
}

// TestAMiddlewaresErrorsKeepTheirIdentity: next's error still matches what
// the http.Client returned (errors.Is, errors.As), and an error a
// middleware makes of its own is not taken for a transport's.
func TestAMiddlewaresErrorsKeepTheirIdentity(t *testing.T) {
	var fromNext error
	c, err := NewClient(testKey, WithBaseURL("http://127.0.0.1:1/api"), WithMaxRetries(0),
		WithMiddleware(func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
			_, fromNext = next(req)
			return nil, fromNext
		}))
	require.NoError(t, err)
	_, err = c.GetVerification(context.Background(), "v")
	require.Error(t, err)
	assert.True(t, IsTransient(err))
	var ue interface{ Timeout() bool }
	assert.True(t, errors.As(fromNext, &ue), "a transport error is still a net.Error for the middleware")
}
