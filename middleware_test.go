package heliumid

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trace is a middleware that records what it saw under a name.
type trace struct {
	mu   sync.Mutex
	seen []string
}

func (tr *trace) mw(name string) Middleware {
	return func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
		op, ok := OperationFromContext(req.Context())
		tr.mu.Lock()
		tr.seen = append(tr.seen, name+">"+op.Name+" "+op.Route+" "+itoa(op.Attempt)+" "+boolText(ok))
		tr.mu.Unlock()
		resp, err := next(req)
		tr.mu.Lock()
		tr.seen = append(tr.seen, "<"+name)
		tr.mu.Unlock()
		return resp, err
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func boolText(b bool) string {
	if b {
		return "ok"
	}
	return "missing"
}

func TestMiddlewareOrderAndAttempts(t *testing.T) {
	var tr trace
	rec, _, base := newServedAPI(t, respond(503, ""), respond(200, sessionStarted))
	c, err := NewClient(testKey, WithBaseURL(base), WithRetryBackoff(1, 1),
		WithMiddleware(tr.mw("client1"), tr.mw("client2")), WithMiddleware(tr.mw("client3")))
	require.NoError(t, err)

	_, err = c.GetVerification(context.Background(), "v", WithMiddleware(tr.mw("call")))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"client1>GetVerification /v1/verifications/{id} 1 ok", "client2>GetVerification /v1/verifications/{id} 1 ok",
		"client3>GetVerification /v1/verifications/{id} 1 ok", "call>GetVerification /v1/verifications/{id} 1 ok",
		"<call", "<client3", "<client2", "<client1",
		"client1>GetVerification /v1/verifications/{id} 2 ok", "client2>GetVerification /v1/verifications/{id} 2 ok",
		"client3>GetVerification /v1/verifications/{id} 2 ok", "call>GetVerification /v1/verifications/{id} 2 ok",
		"<call", "<client3", "<client2", "<client1",
	}, tr.seen, "the first given is outermost, a client's outside a call's, once per attempt")
	assert.Len(t, rec.requests(), 2)

	tr.seen = nil
	_, err = c.GetVerification(context.Background(), "v")
	require.NoError(t, err)
	assert.Len(t, tr.seen, 6, "the call's middleware did not stay on the client")

	tr.seen = nil
	_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{})
	require.Error(t, err) // the recorder answers a session, not a created one
	assert.Equal(t, "client1>CreateVerification /v1/verifications 1 ok", tr.seen[0])
	tr.seen = nil
	_, _ = c.ListVerifications(context.Background(), &ListVerificationsOptions{VendorData: "u1"})
	assert.Equal(t, "client1>ListVerifications /v1/verifications 1 ok", tr.seen[0], "no query value in the route")

	_, ok := OperationFromContext(context.Background())
	assert.False(t, ok)
	var nilCtx context.Context
	_, ok = OperationFromContext(nilCtx)
	assert.False(t, ok, "a nil context is answered, not a panic")
}

// TestAMiddlewareNeverSeesTheKey: not on the request it is given, not on
// resp.Request; the server still receives it.
func TestAMiddlewareNeverSeesTheKey(t *testing.T) {
	rec, _, base := newServedAPI(t, respond(200, sessionStarted))
	var sawKey []string
	peek := func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
		sawKey = append(sawKey, req.Header.Get("X-Api-Key"))
		resp, err := next(req)
		if resp != nil {
			sawKey = append(sawKey, resp.Request.Header.Get("X-Api-Key"))
		}
		return resp, err
	}
	c, err := NewClient(testKey, WithBaseURL(base), WithMiddleware(peek))
	require.NoError(t, err)
	_, err = c.GetVerification(context.Background(), "v")
	require.NoError(t, err)
	assert.Equal(t, []string{"", ""}, sawKey)
	assert.Equal(t, testKey, rec.requests()[0].Header.Get("X-Api-Key"))
}

// TestARequestAMiddlewareSendsElsewhereIsRefused: the key goes only to the
// base URL's scheme and host; nothing is sent when a middleware points the
// request anywhere else.
func TestARequestAMiddlewareSendsElsewhereIsRefused(t *testing.T) {
	recAPI, _, base := newServedAPI(t, respond(200, sessionStarted))
	recOther, _, otherBase := newServedAPI(t, respond(200, sessionStarted))
	other := strings.TrimSuffix(otherBase, "/api")
	redirects := map[string]func(req *http.Request) *http.Request{
		"another host": func(req *http.Request) *http.Request {
			out := req.Clone(req.Context())
			out.URL.Host = strings.TrimPrefix(other, "http://")
			return out
		},
		"another scheme": func(req *http.Request) *http.Request {
			out := req.Clone(req.Context())
			out.URL.Scheme = "https"
			return out
		},
		"a new request": func(req *http.Request) *http.Request {
			out, _ := http.NewRequestWithContext(req.Context(), req.Method, other+"/steal", nil)
			return out
		},
	}
	for name, redirect := range redirects {
		c, err := NewClient(testKey, WithBaseURL(base), WithMiddleware(func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
			return next(redirect(req))
		}))
		require.NoError(t, err)
		_, err = c.GetVerification(context.Background(), "v")
		require.ErrorIs(t, err, ErrInvalidRequest, name)
		assert.Contains(t, err.Error(), "away from the base URL", name)
	}
	assert.Empty(t, recOther.requests(), "the other host got nothing")
	assert.Empty(t, recAPI.requests(), "and nothing was retried to the API either")
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "middleware: i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// TestAMiddlewaresErrorIsClassifiedLikeATransportError: a network error or
// timeout is retried by the usual policy; any other error ends the call.
func TestAMiddlewaresErrorIsClassifiedLikeATransportError(t *testing.T) {
	failing := func(err error, times int) Middleware {
		n := 0
		return func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
			if n++; n <= times {
				return nil, err
			}
			return next(req)
		}
	}
	rec, _, base := newServedAPI(t, respond(200, sessionStarted))
	c, err := NewClient(testKey, WithBaseURL(base), WithRetryBackoff(1, 1))
	require.NoError(t, err)

	for name, netErr := range map[string]error{"timeout": timeoutError{}, "refused": &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused")}} {
		_, err = c.GetVerification(context.Background(), "v", WithMiddleware(failing(netErr, 1)))
		assert.NoError(t, err, "%s: a GET is retried", name)
	}
	assert.Len(t, rec.requests(), 2)

	own := errors.New("circuit open")
	_, err = c.GetVerification(context.Background(), "v", WithMiddleware(failing(own, 1)))
	require.ErrorIs(t, err, own, "wrapped, still matchable")
	assert.Contains(t, err.Error(), "GET /v1/verifications/v")
	assert.Len(t, rec.requests(), 2, "any other error ends the call")

	_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithMiddleware(failing(timeoutError{}, 1)))
	require.Error(t, err)
	assert.Len(t, rec.requests(), 2, "a create is not retried after a timeout")

	_, err = c.GetVerification(context.Background(), "v", WithMiddleware(func(*http.Request, MiddlewareNext) (*http.Response, error) { return nil, nil }))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "neither a response nor an error")
}

// TestAMiddlewareCannotMakeACreateReplayable: a middleware that builds a new
// request with GetBody still cannot make a layer below resend a create.
func TestAMiddlewareCannotMakeACreateReplayable(t *testing.T) {
	var sawGetBody bool
	rec, _, base := newServedAPI(t, respond(200, okEnvelope(createdData)))
	c, err := NewClient(testKey, WithBaseURL(base), WithHTTPClient(&http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		sawGetBody = req.GetBody != nil
		return http.DefaultTransport.RoundTrip(req)
	})}), WithMiddleware(func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
		out := req.Clone(req.Context())
		out.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return next(out)
	}))
	require.NoError(t, err)
	_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{})
	require.NoError(t, err)
	assert.False(t, sawGetBody)
	assert.Len(t, rec.requests(), 1)
}
