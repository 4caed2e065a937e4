package heliumid

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// BenchmarkCallOptions measures what per-call options and middleware cost
// on a GET, in memory (where only the client's own work is left): a call
// without options must cost what it cost before options existed, so
// "plain" is the figure to compare with 0.1's BenchmarkGetVerification.
//
//	go test -run '^$' -bench CallOptions -benchmem .
func BenchmarkCallOptions(b *testing.B) {
	hc := &http.Client{Transport: &memoryTransport{header: benchHeader()}}
	pass := func(req *http.Request, next MiddlewareNext) (*http.Response, error) { return next(req) }
	var info ResponseInfo
	cases := []struct {
		name   string
		client []Option
		call   []Option
	}{
		{name: "plain"},
		{name: "call=timeout+header+info", call: []Option{WithRequestTimeout(time.Minute), WithHeader("X-Tenant", "acme"), WithResponseInfo(&info)}},
		{name: "client=middleware", client: []Option{WithMiddleware(pass)}},
		{name: "call=middleware", call: []Option{WithMiddleware(pass)}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			c, err := NewClient(testKey, append([]Option{WithHTTPClient(hc)}, tc.client...)...)
			require.NoError(b, err)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.GetVerification(ctx, benchID, tc.call...); err != nil {
					b.Fatal(err)
				}
			}
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
