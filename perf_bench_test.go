package heliumid

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// What users feel, behind docs/PERFORMANCE.md: the connection pool under
// concurrency, HTTP/2, the memory of a long walk and the rate limiter. The
// tests assert what the default client and the limiter do, never how fast;
// the benchmarks measure.

// concurrencyClient is one way of reaching the server of
// BenchmarkConcurrency.
type concurrencyClient struct {
	name string
	tls  bool // the server speaks TLS, with HTTP/2 offered
	// client returns the Client to measure, for a server of srv.
	client func(tb testing.TB, srv *httptest.Server) *Client
}

var concurrencyClients = []concurrencyClient{
	{name: "sdk", client: func(tb testing.TB, srv *httptest.Server) *Client {
		return newBenchClient(tb, WithBaseURL(srv.URL+"/api")) // NewClient's own pool
	}},
	{name: "default-transport", client: func(tb testing.TB, srv *httptest.Server) *Client {
		// http.DefaultTransport's settings: 2 idle connections per host.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tb.Cleanup(tr.CloseIdleConnections)
		return newBenchClient(tb, WithBaseURL(srv.URL+"/api"), WithHTTPClient(&http.Client{Transport: tr}))
	}},
	{name: "sdk-tls-http1", tls: true, client: func(tb testing.TB, srv *httptest.Server) *Client {
		return newBenchClient(tb, WithBaseURL(srv.URL+"/api"), WithHTTPClient(trustingClient(srv, false)))
	}},
	{name: "sdk-http2", tls: true, client: func(tb testing.TB, srv *httptest.Server) *Client {
		return newBenchClient(tb, WithBaseURL(srv.URL+"/api"), WithHTTPClient(trustingClient(srv, true)))
	}},
}

func newBenchClient(tb testing.TB, opts ...Option) *Client {
	c, err := NewClient(testKey, opts...)
	require.NoError(tb, err)
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

// trustingClient is the SDK's default client, made to trust srv's test
// certificate, with or without HTTP/2.
func trustingClient(srv *httptest.Server, http2 bool) *http.Client {
	hc := newDefaultHTTPClient()
	hc.Transport.(*defaultTransport).trust(certPool(srv.Certificate()), !http2)
	return hc
}

// protoServer serves benchResponse and records the HTTP major version of
// the last request, so a benchmark can check it measured what it says.
func protoServer(tb testing.TB, useTLS bool, cc *connCounter) (*httptest.Server, *atomic.Int32) {
	var proto atomic.Int32
	h := benchHandler(0)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(int32(r.ProtoMajor))
		h.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = cc.hook
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short when it closes
	if useTLS {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	tb.Cleanup(srv.Close)
	return srv, &proto
}

// BenchmarkConcurrency measures the throughput of one Client shared by
// 1 to 256 goroutines getting a session from a loopback server, and the
// TCP connections it used: conns is how many the server accepted in the
// measured run, closed how many of them were closed during it (0: the pool
// did not churn). It compares the SDK's own pool with one of
// http.DefaultTransport's settings, and, over TLS, HTTP/1.1 with HTTP/2
// (which multiplexes every caller over one connection). The server runs on
// the same cores as the callers.
//
// It splits b.N requests among the goroutines, so it uses b.N rather than
// b.Loop, which belongs to one goroutine.
func BenchmarkConcurrency(b *testing.B) {
	for _, g := range []int{1, 8, 64, 256} {
		b.Run("goroutines="+strconv.Itoa(g), func(b *testing.B) {
			var impls []benchImpl
			for _, cl := range concurrencyClients {
				impls = append(impls, benchImpl{cl.name, func(b *testing.B) {
					var cc connCounter
					srv, proto := protoServer(b, cl.tls, &cc)
					c := cl.client(b, srv)
					want := int32(1)
					if cl.name == "sdk-http2" {
						want = 2
					}
					// One request first: a burst of callers on a client without
					// a connection dials one each, and HTTP/2 then closes all
					// but one; in steady state that is long over.
					require.NoError(b, getConcurrently(c, 1, 1))
					cc.opened.Store(0)
					cc.closed.Store(0)
					b.ReportAllocs()
					b.ResetTimer()
					start := time.Now()
					err := getConcurrently(c, g, b.N)
					elapsed := time.Since(start)
					b.StopTimer()
					require.NoError(b, err)
					require.Equal(b, want, proto.Load(), "HTTP major version")
					b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
					b.ReportMetric(float64(cc.opened.Load()), "conns")
					b.ReportMetric(float64(cc.closed.Load()), "closed")
				}})
			}
			runRounds(b, impls...)
		})
	}
}

// BenchmarkWalkMemory walks AllVerifications (or the hand-written walk)
// over b.N pages of benchPageSize full sessions, in memory: one op is one
// page, so -benchtime=100x is a walk of 10,000 sessions. Besides B/op it
// reports B/session and peak-heap-MiB, the most the heap grew during the
// walk: flat when the walk streams, whatever b.N.
func BenchmarkWalkMemory(b *testing.B) {
	ctx := context.Background()
	// Consecutive pages differ (the SDK stops on a repeated page); the
	// last says it is the last.
	more := [2][]byte{benchListBody(1, 3), benchListBody(2, 3)}
	last := benchListBody(3, 3)
	hc := func(pages int) *http.Client {
		return &http.Client{Transport: &memoryTransport{header: benchHeader(), respond: func(r *http.Request) []byte {
			n, _ := strconv.Atoi(r.URL.Query().Get("page"))
			n = max(n, 1) // the first request names no page
			if n >= pages {
				return last
			}
			return more[n%2]
		}}}
	}
	walk := func(b *testing.B, each func(hc *http.Client, yield func()) error) {
		var peak heapPeak
		peak.start()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.ResetTimer()
		sessions := 0
		err := each(hc(b.N), func() {
			if sessions++; sessions%benchPageSize == 0 {
				peak.sample()
			}
		})
		b.StopTimer()
		runtime.ReadMemStats(&after)
		require.NoError(b, err)
		require.Equal(b, b.N*benchPageSize, sessions)
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(sessions), "B/session")
		b.ReportMetric(float64(peak.max)/(1<<20), "peak-heap-MiB")
	}
	runRounds(b, benchImpl{"baseline", func(b *testing.B) {
		b.ReportAllocs()
		walk(b, func(hc *http.Client, yield func()) error {
			return handAll(ctx, hc, "https://server.heliumid.io/api", testKey, benchPageSize, func(*handVerification) { yield() })
		})
	}}, benchImpl{"sdk", func(b *testing.B) {
		b.ReportAllocs()
		walk(b, func(hc *http.Client, yield func()) error {
			c := newBenchClient(b, WithHTTPClient(hc))
			for _, err := range c.AllVerifications(ctx, &ListVerificationsOptions{Limit: benchPageSize}) {
				if err != nil {
					return err
				}
				yield()
			}
			return nil
		})
	}})
}

// heapPeak tracks how far the heap's objects grew above where they were at
// start.
type heapPeak struct {
	samples []metrics.Sample
	base    uint64
	max     uint64
}

func (h *heapPeak) start() {
	runtime.GC()
	h.samples = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(h.samples)
	h.base = h.samples[0].Value.Uint64()
}

func (h *heapPeak) sample() {
	metrics.Read(h.samples)
	if v := h.samples[0].Value.Uint64(); v > h.base {
		h.max = max(h.max, v-h.base)
	}
}
