package heliumid

import (
	"context"
	"net/http"
	"testing"
	"time"

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
