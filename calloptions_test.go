package heliumid

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithHeaderReachesTheServer(t *testing.T) {
	rec, _, base := newServedAPI(t, respond(200, sessionStarted))
	c, err := NewClient(testKey, WithBaseURL(base), WithHeader("X-Tenant", "acme"), WithHeader("x-proxy-route", "eu"))
	require.NoError(t, err)

	_, err = c.GetVerification(context.Background(), "v", WithHeader("X-Tenant", "globex"), WithHeader("X-Call", "1"))
	require.NoError(t, err)
	_, err = c.GetVerification(context.Background(), "v")
	require.NoError(t, err)

	got := rec.requests()
	require.Len(t, got, 2)
	assert.Equal(t, []string{"globex"}, got[0].Header.Values("X-Tenant"), "a call's header replaces the client's")
	assert.Equal(t, "eu", got[0].Header.Get("X-Proxy-Route"))
	assert.Equal(t, "1", got[0].Header.Get("X-Call"))
	assert.Equal(t, testKey, got[0].Header.Get("X-Api-Key"))
	assert.Equal(t, "acme", got[1].Header.Get("X-Tenant"), "the call's header did not leak into the client")
	assert.Empty(t, got[1].Header.Get("X-Call"))
}

func TestRefusedHeadersNameTheHeaderAndWhy(t *testing.T) {
	rec, c, _ := newServedAPI(t, respond(200, sessionStarted))
	refused := map[string]string{
		"x-api-key": "sets it itself", "Content-Type": "sets it itself", "content-length": "sets it itself",
		"Accept": "sets it itself", "User-Agent": "sets it itself", "Host": "sets it itself",
		"Connection": "hop-by-hop", "Transfer-Encoding": "hop-by-hop", "Upgrade": "hop-by-hop", "TE": "hop-by-hop",
		"Proxy-Authorization": "hop-by-hop", "Keep-Alive": "hop-by-hop", "Trailer": "hop-by-hop",
		"Bad Name": "not an HTTP token", "": "not an HTTP token", "X-Ok(": "not an HTTP token",
	}
	for name, why := range refused {
		_, err := c.GetVerification(context.Background(), "v", WithHeader(name, "x"))
		require.ErrorIs(t, err, ErrInvalidOption, name)
		assert.Contains(t, err.Error(), "WithHeader", name)
		assert.Contains(t, err.Error(), fmt.Sprintf("%q", name), name)
		assert.Contains(t, err.Error(), why, name)
		_, err = NewClient(testKey, WithHeader(name, "x"))
		assert.ErrorIs(t, err, ErrInvalidOption, name)
	}
	for _, value := range []string{"a\r\nX-Injected: 1", "a\nb", "\x00", "é"} {
		_, err := c.GetVerification(context.Background(), "v", WithHeader("X-Fine", value))
		require.ErrorIs(t, err, ErrInvalidOption, "%q", value)
		assert.Contains(t, err.Error(), "control character")
	}
	assert.Empty(t, rec.requests(), "nothing was sent")
}

func TestPerCallRetriesDoNotLeakIntoTheClient(t *testing.T) {
	rec, c, _ := newServedAPI(t, respond(503, errEnvelope(503, "down")))
	_, err := c.GetVerification(context.Background(), "v", WithMaxRetries(0))
	require.ErrorIs(t, err, ErrServer)
	assert.Len(t, rec.requests(), 1, "the call's own setting")
	_, err = c.GetVerification(context.Background(), "v")
	require.ErrorIs(t, err, ErrServer)
	assert.Len(t, rec.requests(), 1+3, "the client's default is untouched: 1 + 2 retries")
}

// TestEveryClientOptionWorksPerCall: WithBaseURL sends that call (and the
// key) to another base URL; the others change that call only.
func TestEveryClientOptionWorksPerCall(t *testing.T) {
	recA, c, _ := newServedAPI(t, respond(200, sessionStarted))
	recB, _, baseB := newServedAPI(t, respond(200, sessionStarted))
	_, err := c.GetVerification(context.Background(), "v", WithBaseURL(baseB), WithUserAgent("batch/1"))
	require.NoError(t, err)
	_, err = c.GetVerification(context.Background(), "v")
	require.NoError(t, err)
	require.Len(t, recB.requests(), 1)
	assert.Equal(t, testKey, recB.requests()[0].Header.Get("X-Api-Key"), "the key goes to the call's base URL")
	assert.Contains(t, recB.requests()[0].Header.Get("User-Agent"), "batch/1 heliumid-go/")
	require.Len(t, recA.requests(), 1)
	assert.NotContains(t, recA.requests()[0].Header.Get("User-Agent"), "batch/1")

	var viaCallers atomic.Int32
	callers := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		viaCallers.Add(1)
		return http.DefaultTransport.RoundTrip(req)
	})}
	_, err = c.GetVerification(context.Background(), "v", WithHTTPClient(callers))
	require.NoError(t, err)
	assert.Equal(t, int32(1), viaCallers.Load(), "the call's http.Client")
	_, err = c.GetVerification(context.Background(), "v")
	require.NoError(t, err)
	assert.Equal(t, int32(1), viaCallers.Load(), "only that call's")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// TestARequestTimeoutIsRetriedForAGETButNotForACreate: each attempt is
// bounded; a read that timed out is sent again, a create is not (the
// session may exist). Over real HTTP the server stalls the first attempt of
// each call (a middleware tells it which attempt a request is) and the
// client's own attempt count is what is asserted, so no clock is raced.
func TestARequestTimeoutIsRetriedForAGETButNotForACreate(t *testing.T) {
	stallFirst := func(ok string) answer {
		return func(r *http.Request) (*http.Response, error) {
			if r.Header.Get("X-Attempt") == "1" {
				<-r.Context().Done() // the fake has read the body: the server notices the client leaving
			}
			return respond(200, ok)(r)
		}
	}
	tellAttempt := WithMiddleware(func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
		op, _ := OperationFromContext(req.Context())
		req.Header.Set("X-Attempt", strconv.Itoa(op.Attempt))
		return next(req)
	})
	_, c, _ := newServedAPI(t, stallFirst(sessionStarted))
	var info ResponseInfo
	v, err := c.GetVerification(context.Background(), "v", WithRequestTimeout(30*time.Millisecond), tellAttempt, WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, StatusStarted, v.Status)
	assert.GreaterOrEqual(t, info.Attempts, 2, "the timed-out attempt was retried")

	_, c, _ = newServedAPI(t, stallFirst(okEnvelope(createdData)))
	_, err = c.CreateVerification(context.Background(), &CreateVerificationRequest{}, WithRequestTimeout(30*time.Millisecond), tellAttempt, WithResponseInfo(&info))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, IsTransient(err))
	assert.Equal(t, 1, info.Attempts, "a timed-out create is not sent again")

	for _, d := range []time.Duration{0, -time.Second} {
		_, err = c.GetVerification(context.Background(), "v", WithRequestTimeout(d))
		require.ErrorIs(t, err, ErrInvalidOption)
		assert.Contains(t, err.Error(), "WithRequestTimeout")
	}
}

// TestARequestTimeoutBoundsEachAttempt: under synctest, exactly: every
// attempt gets the whole timeout, the call's context bounds them all.
func TestARequestTimeoutBoundsEachAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var starts []time.Duration
		start := time.Now()
		stall := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			starts = append(starts, time.Since(start))
			<-req.Context().Done()
			return nil, req.Context().Err()
		})}
		c, err := NewClient(testKey, WithBaseURL(testBaseURL), WithHTTPClient(stall), WithRetryBackoff(time.Second, time.Second))
		require.NoError(t, err)
		_, err = c.GetVerification(context.Background(), "v", WithRequestTimeout(5*time.Second))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		// 5 s, then a backoff of 0.5–1 s, three attempts in all.
		require.Len(t, starts, 3)
		assert.GreaterOrEqual(t, starts[1]-starts[0], 5500*time.Millisecond)
		assert.LessOrEqual(t, starts[1]-starts[0], 6*time.Second)

		starts = nil
		ctx, cancel := context.WithTimeout(context.Background(), 7*time.Second)
		defer cancel()
		start = time.Now()
		_, err = c.GetVerification(ctx, "v", WithRequestTimeout(5*time.Second))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.LessOrEqual(t, time.Since(start), 7*time.Second, "the call's context bounds the whole call")
	})
}

func TestResponseInfo(t *testing.T) {
	t.Run("after retries", func(t *testing.T) {
		_, c, _ := newServedAPI(t, respond(503, "", "X-Request-Id", "r-1"), respond(502, "", "X-Request-Id", "r-2"),
			respond(200, sessionStarted, "X-Request-Id", "r-3", "X-Proxy", "edge-7"))
		var info ResponseInfo
		_, err := c.GetVerification(context.Background(), "v", WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, 200, info.StatusCode)
		assert.Equal(t, "r-3", info.RequestID)
		assert.Equal(t, "edge-7", info.Header.Get("X-Proxy"))
		assert.Equal(t, 3, info.Attempts)
	})
	t.Run("on an error", func(t *testing.T) {
		_, c, _ := newServedAPI(t, respond(404, errEnvelope(404, "no"), "Request-Id", "r-9"))
		var info ResponseInfo
		_, err := c.GetVerification(context.Background(), "v", WithResponseInfo(&info))
		require.ErrorIs(t, err, ErrNotFound)
		assert.Equal(t, ResponseInfo{StatusCode: 404, RequestID: "r-9", Attempts: 1, Header: info.Header}, info)
		assert.NotNil(t, info.Header)
	})
	t.Run("without a response", func(t *testing.T) {
		c, err := NewClient(testKey, WithBaseURL("http://127.0.0.1:1/api"), WithMaxRetries(1), WithRetryBackoff(1, 1))
		require.NoError(t, err)
		info := ResponseInfo{StatusCode: 7, Header: http.Header{}}
		_, err = c.GetVerification(context.Background(), "v", WithResponseInfo(&info))
		require.Error(t, err)
		assert.Equal(t, ResponseInfo{Attempts: 2}, info, "StatusCode 0 and Header nil when the last attempt got no response")
	})
	t.Run("the key never shows", func(t *testing.T) {
		_, c, _ := newServedAPI(t, respond(200, sessionStarted, "X-Echo", "key="+testKey))
		var info ResponseInfo
		_, err := c.GetVerification(context.Background(), "v", WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, "key="+redacted, info.Header.Get("X-Echo"))
	})
	t.Run("WaitForDecision: its last poll", func(t *testing.T) {
		_, c, _ := newServedAPI(t, respond(200, sessionStarted, "X-Request-Id", "p-1"), respond(503, ""),
			respond(200, okEnvelope(`{"id":"v","status":"failed"}`), "X-Request-Id", "p-3"))
		var info ResponseInfo
		_, err := c.WaitForDecision(context.Background(), "v", WithPollInterval(time.Millisecond, time.Millisecond), WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, "p-3", info.RequestID)
		assert.Equal(t, 2, info.Attempts, "the last poll retried its 503 once")
	})
	t.Run("AllVerifications: its last page", func(t *testing.T) {
		_, c, _ := newServedAPI(t, respond(200, okEnvelope(`[{"id":"a"},{"id":"b"}]`), "X-Request-Id", "page-1"),
			respond(200, okEnvelope(`[{"id":"c"}]`), "X-Request-Id", "page-2"))
		var info ResponseInfo
		n := 0
		for _, err := range c.AllVerifications(context.Background(), &ListVerificationsOptions{Limit: 2}, WithResponseInfo(&info)) {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 3, n)
		assert.Equal(t, ResponseInfo{StatusCode: 200, RequestID: "page-2", Attempts: 1, Header: info.Header}, info)
	})
	t.Run("refused by NewClient", func(t *testing.T) {
		_, err := NewClient(testKey, WithResponseInfo(&ResponseInfo{}))
		require.ErrorIs(t, err, ErrInvalidOption)
		assert.Contains(t, err.Error(), "WithResponseInfo")
	})
}

// TestAnInvalidCallOptionFailsBeforeAnyIO: the call fails with
// ErrInvalidOption naming the option; AllVerifications yields it once.
func TestAnInvalidCallOptionFailsBeforeAnyIO(t *testing.T) {
	rec, c, _ := newServedAPI(t, respond(200, sessionStarted))
	bad := map[string]Option{
		"WithMaxRetries": WithMaxRetries(-1), "WithBaseURL": WithBaseURL("ftp://x"), "WithHTTPClient": WithHTTPClient(nil),
		"WithRetryBackoff": WithRetryBackoff(0, 0), "WithRetryAfterCap": WithRetryAfterCap(-1), "WithPollInterval": WithPollInterval(0, 0),
		"WithRateLimiter": WithRateLimiter(nil), "WithUserAgent": WithUserAgent(""), "WithMiddleware": WithMiddleware(nil),
		"WithResponseInfo": WithResponseInfo(nil), "WithRequestTimeout": WithRequestTimeout(0), "WithHeader": WithHeader("Host", "x"),
	}
	for name, opt := range bad {
		calls := map[string]error{}
		_, calls["CreateVerification"] = c.CreateVerification(context.Background(), &CreateVerificationRequest{}, opt)
		_, calls["GetVerification"] = c.GetVerification(context.Background(), "v", opt)
		_, calls["ListVerifications"] = c.ListVerifications(context.Background(), nil, opt)
		_, calls["WaitForDecision"] = c.WaitForDecision(context.Background(), "v", opt)
		yields := 0
		for v, err := range c.AllVerifications(context.Background(), nil, opt) {
			yields++
			assert.Nil(t, v)
			calls["AllVerifications"] = err
		}
		assert.Equal(t, 1, yields, "AllVerifications yields the error once")
		for method, err := range calls {
			require.ErrorIs(t, err, ErrInvalidOption, "%s with %s", method, name)
			assert.Contains(t, err.Error(), name, method)
		}
	}
	assert.Empty(t, rec.requests())
}
