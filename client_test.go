package heliumid

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestNewClientNeedsAKey(t *testing.T) {
	for _, key := range []string{"", "   ", "\n\t"} {
		c, err := NewClient(key)
		assert.ErrorIs(t, err, ErrMissingAPIKey, "%q", key)
		assert.Nil(t, c)
	}
	for _, key := range []string{"sk live", "sk\x00live", "sk\r\nX-Evil: 1", "sk_é"} {
		_, err := NewClient(key)
		assert.ErrorIs(t, err, ErrMissingAPIKey, "%q", key)
		assert.NotContains(t, err.Error(), key, "the key is not echoed, even a broken one")
	}
	c, err := NewClient("  sk_test_1\n")
	require.NoError(t, err)
	assert.Equal(t, "sk_test_1", c.auth.key, "a key pasted with a newline still works")
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

func TestTheDefaultHTTPClientIsTunedAndPrivate(t *testing.T) {
	c, err := NewClient(testKey)
	require.NoError(t, err)
	assert.NotSame(t, http.DefaultClient, c.hc)
	assert.Equal(t, DefaultBaseURL, c.baseURL)
	// The SDK's transport bounds each attempt itself (attemptTimeout,
	// TestAnAttemptOfTheDefaultClientIsBounded): http.Client.Timeout would
	// cost two goroutines per request around a RoundTripper of its own.
	assert.Zero(t, c.hc.Timeout)
	dt := defaultTransportOf(t, c)
	assert.Equal(t, defaultLimits.http2Conns, dt.limit.max)
	for name, rt := range map[string]http.RoundTripper{"http1": dt.http1, "http2": dt.http2} {
		tr, ok := rt.(*http.Transport)
		require.True(t, ok, name)
		assert.NotSame(t, http.DefaultTransport, tr, name)
		assert.GreaterOrEqual(t, tr.MaxIdleConnsPerHost, 64, "%s: a busy backend must not churn connections", name)
		assert.NotZero(t, tr.TLSHandshakeTimeout, name)
		assert.NotZero(t, tr.ResponseHeaderTimeout, name)
		assert.NotNil(t, tr.DialContext, name)
	}
	assert.Equal(t, maxHTTP1Conns, dt.http1.(*http.Transport).MaxConnsPerHost)
	assert.Equal(t, http2DialsAtOnce, dt.http2.(*http.Transport).MaxConnsPerHost)
	assert.NotNil(t, c.hc.CheckRedirect)
}

func TestCloseIdleConnections(t *testing.T) {
	closed := false
	c, err := NewClient(testKey, WithHTTPClient(&http.Client{Transport: closerTransport{&closed}}))
	require.NoError(t, err)
	c.CloseIdleConnections()
	assert.True(t, closed)
}

type closerTransport struct{ closed *bool }

func (closerTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, http.ErrNotSupported
}
func (t closerTransport) CloseIdleConnections() { *t.closed = true }

func TestTheCallersHTTPClientIsNotModified(t *testing.T) {
	hc := &http.Client{Timeout: 3 * time.Second}
	c, err := NewClient(testKey, WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Nil(t, hc.CheckRedirect, "the caller's client keeps its own redirect policy")
	assert.Nil(t, hc.Transport)
	assert.Equal(t, 3*time.Second, hc.Timeout)
	assert.Equal(t, 3*time.Second, c.hc.Timeout, "its settings are used")
	assert.NotSame(t, hc, c.hc)
}

func TestTheKeyIsNeverPrinted(t *testing.T) {
	lim := rate.NewLimiter(1, 1)
	c, err := NewClient(testKey, WithRateLimiter(lim), WithLogger(slog.Default()))
	require.NoError(t, err)
	type holder struct {
		Client *Client
		Value  any
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%T"} {
		for _, v := range []any{c, *c, holder{Client: c, Value: *c}, []*Client{c}} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, testKey, "%s of %T", verb, v)
			assert.NotContains(t, out, fmt.Sprintf("%x", testKey), "%s of %T", verb, v)
		}
	}
	assert.Equal(t, `&heliumid.Client{BaseURL: "https://server.heliumid.io/api", APIKey: [REDACTED]}`, fmt.Sprint(c))
	assert.Equal(t, "<nil>", fmt.Sprint((*Client)(nil)))
}
