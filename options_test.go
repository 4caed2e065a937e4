package heliumid

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
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

// TestWithAdaptiveRateSetsWhetherTheClientPaces: on by default, off with
// WithAdaptiveRate(false), the last one given wins; reads have no pace.
// (What pacing does, and what a call's own setting does, is in
// admission_pace_test.go and admission_test.go.)
func TestWithAdaptiveRateSetsWhetherTheClientPaces(t *testing.T) {
	c, err := NewClient(testKey)
	require.NoError(t, err)
	assert.True(t, c.creates.paces, "on by default")
	assert.Nil(t, c.reads.pace, "reads are never paced")
	c, err = NewClient(testKey, WithAdaptiveRate(false))
	require.NoError(t, err)
	assert.False(t, c.creates.paces)
	c, err = NewClient(testKey, WithAdaptiveRate(false), WithAdaptiveRate(true))
	require.NoError(t, err)
	assert.True(t, c.creates.paces, "the last one given wins")
}

func TestWithBaseURL(t *testing.T) {
	valid := map[string]string{
		"https://server.heliumid.io/api":   "https://server.heliumid.io/api",
		"https://server.heliumid.io/api/":  "https://server.heliumid.io/api",
		"https://eu.example.com":           "https://eu.example.com",
		"http://localhost:8080/api":        "http://localhost:8080/api",
		"http://127.0.0.1:9999":            "http://127.0.0.1:9999",
		"http://127.3.4.5":                 "http://127.3.4.5",
		"http://[::1]:8080/x":              "http://[::1]:8080/x",
		" https://server.heliumid.io/api ": "https://server.heliumid.io/api",
	}
	for in, want := range valid {
		c, err := NewClient(testKey, WithBaseURL(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, c.baseURL, in)
	}
	invalid := []string{
		"", "server.heliumid.io/api", "/api", "http://server.heliumid.io/api", "http://10.0.0.1",
		"ftp://localhost", "https://user:pass@server.heliumid.io", "https://server.heliumid.io/api?x=1",
		"https://server.heliumid.io/api#frag", "https://server.heliumid.io/api?", "://bad", "https://%zz",
		// A URL with a password that does not parse, or is not absolute:
		// the message must not quote it.
		"https://user:s3cret@server.heliumid.io:x/api", "user:s3cret@server.heliumid.io", "//user:s3cret@server.heliumid.io",
	}
	for _, in := range invalid {
		_, err := NewClient(testKey, WithBaseURL(in))
		assert.ErrorIs(t, err, ErrInvalidOption, in)
		if err != nil {
			assert.NotContains(t, err.Error(), "pass", "no credentials in the message: %v", err)
			assert.NotContains(t, err.Error(), "s3cret", "no credentials in the message: %v", err)
		}
	}
}

func TestOptionsRejectInvalidValues(t *testing.T) {
	for name, opt := range map[string]Option{
		"nil http client":  WithHTTPClient(nil),
		"empty user agent": WithUserAgent("  "),
		"header injection": WithUserAgent("app/1\r\nX-Evil: 1"),
		"negative retries": WithMaxRetries(-1),
		"zero backoff":     WithRetryBackoff(0, time.Second),
		"max below base":   WithRetryBackoff(time.Second, time.Millisecond),
		"negative cap":     WithRetryAfterCap(-time.Second),
		"nil limiter":      WithRateLimiter(nil),
	} {
		_, err := NewClient(testKey, opt)
		assert.ErrorIs(t, err, ErrInvalidOption, name)
	}
	_, err := NewClient(testKey, nil, WithLogger(nil))
	assert.NoError(t, err, "a nil Option is skipped and a nil logger disables logging")
}

func TestUserAgent(t *testing.T) {
	c, api := newFakeClient(t, WithUserAgent("acme-signup/1.4"))
	api.otherwise(respond(200, okEnvelope(`{"id":"v","status":"started"}`)))
	_, err := c.GetVerification(context.Background(), "v")
	require.NoError(t, err)
	req, _ := api.last(t)
	assert.True(t, strings.HasPrefix(req.Header.Get("User-Agent"), "acme-signup/1.4 heliumid-go/"+Version+" (go"), req.Header.Get("User-Agent"))
}

// TestOptionsAtTheirExtremes drives each duration option at the extreme
// values it accepts through real calls (under synctest, so the waits are
// exact and instant): no panic, no overflowed wait that turns into a busy
// loop, no negative duration in a message; each call ends as its context
// or its options say.
func TestOptionsAtTheirExtremes(t *testing.T) {
	const forever = time.Duration(math.MaxInt64)
	cases := map[string]func(t *testing.T){
		"WithRetryBackoff(500ms, MaxInt64), retried past the doubling's overflow": func(t *testing.T) {
			c, api := newFakeClient(t, WithRetryBackoff(500*time.Millisecond, forever), WithMaxRetries(100))
			var n atomic.Int32
			api.otherwise(func(req *http.Request) (*http.Response, error) {
				if n.Add(1) <= 40 { // Retry-After stands in for the backoff: 40 attempts in 40 s
					return respond(503, "", "Retry-After", "1")(req)
				}
				return respond(503, "")(req)
			})
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			start := time.Now()
			_, err := c.GetVerification(ctx, "v")
			require.ErrorIs(t, err, ErrServer)
			assert.Equal(t, int32(41), n.Load(), "the 41st attempt's backoff (about 2^40 × 500 ms) outlasts the deadline: given up")
			assert.Equal(t, 40*time.Second, time.Since(start))
		},
		"WithRetryBackoff(MaxInt64, MaxInt64)": func(t *testing.T) {
			c, api := newFakeClient(t, WithRetryBackoff(forever, forever), WithMaxRetries(3))
			api.otherwise(respond(503, ""))
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			_, err := c.GetVerification(ctx, "v")
			require.ErrorIs(t, err, ErrServer)
			assert.Equal(t, 1, api.count())
		},
		"WithPollInterval(MaxInt64/2+1, MaxInt64)": func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*365*24*time.Hour)
			defer cancel()
			c, api := newFakeClient(t, WithPollInterval(forever/2+1, forever))
			var polls atomic.Int32
			api.otherwise(func(req *http.Request) (*http.Response, error) {
				if polls.Add(1) > 10 {
					cancel() // a busy loop: stop it
				}
				return respond(200, sessionStarted)(req)
			})
			_, err := c.WaitForDecision(ctx, "v")
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, int32(2), polls.Load(), "at once, after 146 years, then a wait the deadline ends")
		},
		"WithPollInterval(1ns, 1ns)": func(t *testing.T) {
			c, api := newFakeClient(t, WithPollInterval(1, 1))
			api.otherwise(sequence(respond(200, sessionStarted), respond(200, sessionStarted), respond(200, okEnvelope(`{"id":"v","status":"failed"}`))))
			v, err := c.WaitForDecision(context.Background(), "v")
			require.NoError(t, err)
			assert.Equal(t, StatusFailed, v.Status)
		},
		"WithRetryAfterCap(MaxInt64) meeting the longest Retry-After": func(t *testing.T) {
			lim := &recordingLimiter{}
			c, api := newFakeClient(t, WithRetryAfterCap(forever), WithRateLimiter(lim))
			api.otherwise(respond(429, "", "Retry-After", "99999999999999999999999"))
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			start := time.Now()
			for range 2 { // the first meets the 429, the second the pause
				_, err := c.CreateVerification(ctx, &CreateVerificationRequest{})
				require.ErrorIs(t, err, ErrRateLimited)
				assert.NotRegexp(t, `-\d|\d{7,} days`, err.Error())
				assert.Contains(t, err.Error(), "106752 days")
			}
			assert.Zero(t, time.Since(start))
			assert.Equal(t, 1, api.count())
			cooldowns, _ := lim.heard()
			require.Len(t, cooldowns, 1)
			assert.True(t, cooldowns[0].After(start.Add(200*365*24*time.Hour)), "the pause ends in 292 years, not in the past: %v", cooldowns[0])
		},
		"WithRetryAfterCap(0)": func(t *testing.T) {
			c, api := newFakeClient(t, WithRetryAfterCap(0))
			api.otherwise(respond(429, "", "Retry-After", "1"))
			_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{})
			require.ErrorIs(t, err, ErrRateLimited)
			assert.Equal(t, 1, api.count())
		},
		"WithRequestTimeout(MaxInt64)": func(t *testing.T) {
			c, api := newFakeClient(t, WithRequestTimeout(forever))
			api.otherwise(sequence(respond(503, ""), respond(200, sessionStarted)))
			v, err := c.GetVerification(context.Background(), "v")
			require.NoError(t, err)
			assert.Equal(t, StatusStarted, v.Status)
		},
		"WithMaxRetries(MaxInt)": func(t *testing.T) {
			c, api := newFakeClient(t, WithMaxRetries(math.MaxInt), WithRetryBackoff(time.Second, time.Second))
			api.otherwise(sequence(respond(503, ""), respond(503, ""), respond(200, sessionStarted)))
			_, err := c.GetVerification(context.Background(), "v")
			require.NoError(t, err)
			assert.Equal(t, 3, api.count())
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, run)
		})
	}
}

// TestACallWithoutOptionsAllocatesNothingForThem: the options machinery
// (the copy of the settings, the Operation in the context, the middleware
// chain, ResponseInfo) allocates only when a call or its client uses it: a
// plain call allocates exactly what the request path beneath the options
// does.
func TestACallWithoutOptionsAllocatesNothingForThem(t *testing.T) {
	hc := &http.Client{Transport: &memoryTransport{header: benchHeader()}}
	c, err := NewClient(testKey, WithHTTPClient(hc))
	require.NoError(t, err)
	ctx := context.Background()
	get := func(opts ...Option) func() {
		return func() {
			if _, err := c.GetVerification(ctx, benchID, opts...); err != nil {
				t.Fatal(err)
			}
		}
	}
	beneath := testing.AllocsPerRun(200, func() {
		if _, err := c.getVerification(ctx, &c.config, benchID); err != nil {
			t.Fatal(err)
		}
	})
	plain := testing.AllocsPerRun(200, get())
	withMaxRetries := testing.AllocsPerRun(200, get(WithMaxRetries(2)))
	pass := WithMiddleware(func(req *http.Request, next MiddlewareNext) (*http.Response, error) { return next(req) })
	withMiddleware := testing.AllocsPerRun(200, get(pass))
	t.Logf("allocations per GET: beneath the options %.0f, plain %.0f, with a call option %.0f, with a middleware %.0f",
		beneath, plain, withMaxRetries, withMiddleware)
	assert.InDelta(t, beneath, plain, poolSlack(0), "a call without options pays nothing for them")
	assert.LessOrEqual(t, withMaxRetries-plain, 2.0, "a call option costs its copy of the settings, whatever they hold")
	assert.Greater(t, withMiddleware, withMaxRetries, "middleware cost their chain and context, only when used")
}
