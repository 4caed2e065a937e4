package heliumid

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// headerTrace records the request headers an httptrace.ClientTrace hears,
// as otelhttptrace does.
type headerTrace struct {
	mu     sync.Mutex
	fields map[string][]string // lowercased name: values
}

func (h *headerTrace) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{WroteHeaderField: func(key string, value []string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.fields == nil {
			h.fields = map[string][]string{}
		}
		name := strings.ToLower(key)
		h.fields[name] = append(h.fields[name], value...)
	}}
}

func (h *headerTrace) heard(name string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fields[name]
}

// TestAClientTraceNeverHearsTheKey: a ClientTrace attached to the request's
// context, by a middleware (otelhttptrace's way) or by the caller, hears
// every header the SDK writes but the key, which it hears as [REDACTED]:
// over HTTP/1.1 and over TLS with HTTP/2 (where names are lowercase). A
// trace composed with an earlier one (httptrace.WithClientTrace) does not
// hand the key to the earlier one either. The server still gets the key.
func TestAClientTraceNeverHearsTheKey(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			api := newFakeAPI()
			api.otherwise(keyEcho)
			base, hc := serveOver(t, proto, api)
			var outer, inner, callers headerTrace
			traced := func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
				ctx := httptrace.WithClientTrace(req.Context(), outer.trace())
				ctx = httptrace.WithClientTrace(ctx, inner.trace())
				return next(req.WithContext(ctx))
			}
			var protoSeen string
			c, err := NewClient(testKey, WithBaseURL(base), WithHTTPClient(hc))
			require.NoError(t, err)

			_, err = c.GetVerification(context.Background(), "v", WithMiddleware(traced, func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
				resp, err := next(req)
				if resp != nil {
					protoSeen = resp.Proto
				}
				return resp, err
			}))
			require.NoError(t, err, "the server got the key")
			assert.True(t, strings.HasSuffix(proto, strings.TrimSuffix(protoSeen, ".0")), "spoke %s", protoSeen)
			for name, tr := range map[string]*headerTrace{"the middleware's trace": &inner, "the trace it composed with": &outer} {
				assert.Equal(t, []string{redacted}, tr.heard("x-api-key"), name)
				assert.NotEmpty(t, tr.heard("user-agent"), "%s hears the other headers", name)
			}

			// The caller's own trace, on a call without middleware.
			ctx := httptrace.WithClientTrace(context.Background(), callers.trace())
			_, err = c.GetVerification(ctx, "v")
			require.NoError(t, err)
			assert.Equal(t, []string{redacted}, callers.heard("x-api-key"))
			assert.NotEmpty(t, callers.heard("accept"))
		})
	}
}

// keyEcho answers a session when the request carries the test key, 401
// otherwise.
func keyEcho(r *http.Request) (*http.Response, error) {
	if r.Header.Get("X-Api-Key") != testKey {
		return respond(http.StatusUnauthorized, "")(r)
	}
	return respond(http.StatusOK, sessionStarted)(r)
}

// TestNoTraceNoWrapper: without a ClientTrace the request's context is the
// attempt's own (no wrapper, nothing allocated for it).
func TestNoTraceNoWrapper(t *testing.T) {
	ctx := context.Background()
	assert.Equal(t, ctx, hideKeyFromTrace(ctx))
	traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotFirstResponseByte: func() {}})
	assert.Equal(t, traced, hideKeyFromTrace(traced), "a trace that does not listen to headers hears nothing to hide")
}
