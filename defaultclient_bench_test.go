package heliumid

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDefaultClient: one caller at a time, what a GET costs through
// the SDK's own client (NewClient without WithHTTPClient) next to the
// hand-written baseline of bench_test.go through the client hand-written
// code has: http.DefaultTransport's settings, its idle pool sized like the
// SDK's, and no timeout. The difference is the SDK's own work plus what its
// client does per request that this one does not: bound each attempt (a
// deadline of 60 s on the request's context, unless it ends sooner),
// bound the wait for the response's headers (30 s), and route the request
// through the transport of the API host's protocol (docs/PERFORMANCE.md,
// "Bursts"). sdk-v0.2 is the SDK through v0.2's own client, whose
// http.Client.Timeout and ResponseHeaderTimeout cost 13 allocations a
// request. Over loopback HTTP/1.1 and TLS + HTTP/2, with the server
// answering at once:
//
//	go test -run '^$' -bench DefaultClient -benchtime 20000x -rounds 10 . | tee default.txt
//	benchstat -col /impl -ignore /round default.txt
func BenchmarkDefaultClient(b *testing.B) {
	ctx := context.Background()
	for _, useTLS := range []bool{false, true} {
		name := "transport=loopback"
		if useTLS {
			name = "transport=loopback-tls-http2"
		}
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewUnstartedServer(benchHandler(0))
			if useTLS {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			b.Cleanup(srv.Close)
			baseURL := srv.URL + "/api"

			plain := http.DefaultTransport.(*http.Transport).Clone()
			plain.MaxIdleConns, plain.MaxIdleConnsPerHost = 1024, 1024
			if useTLS {
				plain.TLSClientConfig.RootCAs = certPool(srv.Certificate())
			}
			b.Cleanup(plain.CloseIdleConnections)
			hand := &http.Client{Transport: plain}

			c := newBenchClient(b, WithBaseURL(baseURL))
			old := v02HTTPClient()
			if useTLS {
				defaultTransportOf(b, c).trust(certPool(srv.Certificate()), false)
				old.Transport.(*http.Transport).TLSClientConfig.RootCAs = certPool(srv.Certificate())
			}
			c02 := newBenchClient(b, WithBaseURL(baseURL), WithHTTPClient(old))
			runRounds(b, benchImpl{"baseline", loopOp(func() error {
				_, err := handGet(ctx, hand, baseURL, testKey, benchID)
				return err
			})}, benchImpl{"sdk", loopOp(func() error {
				_, err := c.GetVerification(ctx, benchID)
				return err
			})}, benchImpl{"sdk-v0.2", loopOp(func() error {
				_, err := c02.GetVerification(ctx, benchID)
				return err
			})})
		})
	}
}

// BenchmarkAttemptBound: what bounding each attempt at 60 s costs a GET, in
// memory (no network, so that only client-side work is left): none, the
// SDK's own way (a deadline its transport puts on the request's context),
// and http.Client.Timeout around the same kind of RoundTripper, one that
// is not an *http.Transport, for which net/http starts two goroutines and
// a timer per request.
//
//	go test -run '^$' -bench AttemptBound -benchtime 50000x -rounds 6 . | tee bound.txt
//	benchstat -col /impl -ignore /round bound.txt
func BenchmarkAttemptBound(b *testing.B) {
	ctx := context.Background()
	mem := &memoryTransport{header: benchHeader()}
	bounded := newDefaultTransport(defaultLimits)
	bounded.http1 = mem
	client := func(hc *http.Client) *Client {
		return newBenchClient(b, WithBaseURL("http://127.0.0.1/api"), WithHTTPClient(hc))
	}
	none := client(&http.Client{Transport: mem})
	deadline := client(&http.Client{Transport: bounded})
	timeout := client(&http.Client{Transport: mem, Timeout: attemptTimeout})
	get := func(c *Client) func(b *testing.B) {
		return loopOp(func() error {
			_, err := c.GetVerification(ctx, benchID)
			return err
		})
	}
	runRounds(b, benchImpl{"none", get(none)}, benchImpl{"deadline", get(deadline)}, benchImpl{"client-timeout", get(timeout)})
}
