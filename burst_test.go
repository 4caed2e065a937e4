package heliumid

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/heliumid/heliumid-go/internal/unprocessed"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The default client under a burst (transport.go, transport_limit.go):
// the connections to the API host stay within their bound over TLS +
// HTTP/2 and over HTTP/1.1, the callers beyond it wait and then all
// succeed, and a caller whose context ends while it waits returns at once
// with its context's error. The figures are in docs/PERFORMANCE.md,
// "Bursts" (burst_bench_test.go).

// countingListener counts the connections a server accepts, and how many
// are open at once.
type countingListener struct {
	net.Listener
	accepted, open, maxOpen atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	open := l.open.Add(1)
	for m := l.maxOpen.Load(); open > m && !l.maxOpen.CompareAndSwap(m, open); m = l.maxOpen.Load() {
	}
	return &countedServerConn{Conn: c, l: l}, nil
}

type countedServerConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedServerConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// burstServer serves the benchmark session over TLS (HTTP/2 offered when
// streams > 0, at most that many streams per connection) or plain HTTP,
// counting connections and the requests it is answering at once. Each
// request is answered once hold returns.
type burstServer struct {
	*httptest.Server
	conns           *countingListener
	held            *heldListener // nil unless holdAccept
	running, maxRun atomic.Int64  // requests being answered
	served          atomic.Int64  // requests answered

	mu     sync.Mutex
	bodies []string // of the POSTs, in arrival order

	releaseOnce sync.Once
	release     chan struct{}
}

type burstServerConfig struct {
	tls     bool
	streams int // HTTP/2 streams per connection; 0: HTTP/1.1 only
	// blocked: every request waits until release() is called; otherwise
	// requests are answered after latency.
	blocked bool
	latency time.Duration
	// holdAccept: the server accepts no connection until openAccept is
	// called (a client's dial succeeds, its TLS handshake waits).
	holdAccept bool
}

func newBurstServer(tb testing.TB, cfg burstServerConfig) *burstServer {
	s := &burstServer{release: make(chan struct{})}
	h := benchHandler(0)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.running.Add(1)
		for m := s.maxRun.Load(); n > m && !s.maxRun.CompareAndSwap(m, n); m = s.maxRun.Load() {
		}
		defer s.running.Add(-1)
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			s.mu.Lock()
			s.bodies = append(s.bodies, string(b))
			s.mu.Unlock()
		}
		if cfg.blocked {
			select {
			case <-s.release:
			case <-r.Context().Done():
				return
			}
		} else if cfg.latency > 0 {
			time.Sleep(cfg.latency)
		}
		s.served.Add(1)
		h.ServeHTTP(w, r)
	}))
	s.conns = &countingListener{Listener: srv.Listener}
	srv.Listener = s.conns
	if cfg.holdAccept {
		s.held = &heldListener{Listener: s.conns, release: make(chan struct{})}
		srv.Listener = s.held
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // connections the client closes unused
	if cfg.streams > 0 {
		srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: cfg.streams}
		srv.EnableHTTP2 = true
	}
	if cfg.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	s.Server = srv
	tb.Cleanup(func() {
		s.unblock()
		s.openAccept()
		srv.Close()
	})
	return s
}

// unblock answers every held request, and every later one at once.
func (s *burstServer) unblock() { s.releaseOnce.Do(func() { close(s.release) }) }

// openAccept lets a holdAccept server accept connections.
func (s *burstServer) openAccept() {
	if s.held != nil {
		s.held.open()
	}
}

// client returns a Client of this server through the SDK's own transport,
// bounded by limits.
func (s *burstServer) client(tb testing.TB, limits transportLimits, opts ...Option) *Client {
	c, _ := s.clientCounting(tb, limits, opts...)
	return c
}

// clientCounting is client, and counts the HTTP/2 transport's connections
// open at once, as the client sees them (the server notices a close later).
func (s *burstServer) clientCounting(tb testing.TB, limits transportLimits, opts ...Option) (*Client, *openConns) {
	tr := newDefaultTransport(limits)
	open := &openConns{dial: tr.limit.dial}
	tr.limit.dial = open.dialContext
	if s.Certificate() != nil {
		tr.trust(certPool(s.Certificate()), false)
	}
	c, err := NewClient(testKey, append([]Option{WithBaseURL(s.URL + "/api"), WithHTTPClient(&http.Client{Transport: tr})}, opts...)...)
	require.NoError(tb, err)
	tb.Cleanup(c.CloseIdleConnections)
	return c, open
}

// openConns counts the connections a dial function opened and that are
// not yet closed, and the most at once.
type openConns struct {
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	mu        sync.Mutex
	now, peak int
}

func (o *openConns) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := o.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	o.now++
	o.peak = max(o.peak, o.now)
	o.mu.Unlock()
	return &closeCounted{Conn: conn, o: o}, nil
}

func (o *openConns) max() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.peak
}

type closeCounted struct {
	net.Conn
	o    *openConns
	once sync.Once
}

func (c *closeCounted) Close() error {
	c.once.Do(func() {
		c.o.mu.Lock()
		c.o.now--
		c.o.mu.Unlock()
	})
	return c.Conn.Close()
}

// getAll starts n GETs of c at once and returns a channel of their errors,
// closed when all have ended.
func getAll(ctx context.Context, c *Client, n int) <-chan error {
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := c.GetVerification(ctx, benchID)
			errs <- err
		})
	}
	go func() {
		wg.Wait()
		close(errs)
	}()
	return errs
}

// noLeaks checks, once the test and its cleanups are done, that no
// goroutine it started is left: a waiter that gave up leaves nothing behind.
func noLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// TestTheDefaultClientBoundsItsConnections: a burst of more callers than
// the bound allows in flight, every request held by the server, opens
// exactly the bound's connections: over TLS + HTTP/2 (100 streams per
// connection), 2 connections carry 200 requests and the other callers
// wait; over HTTP/1.1, 3 connections carry 3. Once the server answers,
// every caller gets its session, over no further connection. The HTTP/2
// transport dials one connection at a time here, so that none is dialed
// only to be closed (see the next test for the default of a few at once).
//
// The server allows 100 streams, not fewer: until a server's settings
// arrive, Go's HTTP/2 client assumes 100, and a server allowing fewer
// refuses the streams beyond (REFUSED_STREAM), which the client sends
// again later: a race of Go's, not the SDK's.
func TestTheDefaultClientBoundsItsConnections(t *testing.T) {
	limits := transportLimits{http2Conns: 2, http2Dials: 1, http1Conns: 3}
	for _, tc := range []struct {
		name      string
		cfg       burstServerConfig
		inFlight  int // requests the server holds at once
		conns     int
		wantProto int32
	}{
		// The first request finds out the protocol over the HTTP/2
		// transport; over HTTP/1.1 its connection carries it to the end,
		// one beyond the HTTP/1.1 transport's bound.
		{"TLS+HTTP/2", burstServerConfig{tls: true, streams: 100, blocked: true}, 200, 2, protoHTTP2},
		{"TLS+HTTP/1.1", burstServerConfig{tls: true, blocked: true}, 4, 4, protoHTTP1},
		{"HTTP/1.1", burstServerConfig{blocked: true}, 3, 3, protoUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newBurstServer(t, tc.cfg)
			c := srv.client(t, limits)
			const callers = 210
			errs := getAll(context.Background(), c, callers)

			require.Eventually(t, func() bool { return srv.running.Load() == int64(tc.inFlight) },
				10*time.Second, time.Millisecond, "the server should hold %d requests", tc.inFlight)
			assert.Equal(t, int64(tc.conns), srv.conns.accepted.Load(), "connections accepted")
			assert.Empty(t, errs, "a caller beyond the bound returned instead of waiting")
			assert.Equal(t, tc.wantProto, defaultTransportOf(t, c).proto.Load())

			srv.unblock()
			for err := range errs {
				assert.NoError(t, err)
			}
			assert.Equal(t, int64(callers), srv.served.Load())
			assert.Equal(t, int64(tc.inFlight), srv.maxRun.Load(), "requests held at once")
			assert.Equal(t, int64(tc.conns), srv.conns.accepted.Load(), "connections accepted in all")
		})
	}
}

// TestABurstLargerThanConnectionsTimesStreamsCompletes: with the dials of
// the default (a few at once), 2 connections of 100 streams, and 600
// callers against a server answering in a millisecond, every call
// succeeds: the callers beyond the 200 streams take each stream as it
// frees (the transport alone would wake them only when a connection
// closes). The server never has more than 200 requests at once, nor the
// client more than 2 connections open.
func TestABurstLargerThanConnectionsTimesStreamsCompletes(t *testing.T) {
	srv := newBurstServer(t, burstServerConfig{tls: true, streams: 100, latency: time.Millisecond})
	// No retry, and a context that ends long before the SDK's own 60-s
	// bound: a caller left waiting fails the test instead of trying again.
	c, open := srv.clientCounting(t, transportLimits{http2Conns: 2, http2Dials: http2DialsAtOnce, http1Conns: 2}, WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const callers = 600
	for err := range getAll(ctx, c, callers) {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(callers), srv.served.Load())
	assert.LessOrEqual(t, srv.maxRun.Load(), int64(200), "requests at once")
	assert.LessOrEqual(t, open.max(), 2, "connections open at once")
	t.Logf("%d callers: %d connections accepted, at most %d requests at once", callers, srv.conns.accepted.Load(), srv.maxRun.Load())
}

// TestAWaiterHonoursItsContext: a caller waiting for a connection or a
// stream returns with its context's error as soon as the context ends,
// while the request it waits behind is still held by the server, and
// leaves no goroutine behind. It waits at each of the three places one can:
// behind the request that finds out the protocol (the server has not even
// answered the TLS handshake), behind every HTTP/2 stream in use, and inside
// net/http's HTTP/1.1 transport behind every connection in use.
func TestAWaiterHonoursItsContext(t *testing.T) {
	limits := transportLimits{http2Conns: 1, http2Dials: 1, http1Conns: 1}
	for _, tc := range []struct {
		name string
		cfg  burstServerConfig
		fill int // requests held before the waiter comes: every stream or connection
	}{
		{"behind the first handshake", burstServerConfig{tls: true, streams: 100, blocked: true, holdAccept: true}, 1},
		{"behind the HTTP/2 streams", burstServerConfig{tls: true, streams: 100, blocked: true}, 100},
		{"behind the HTTP/1.1 connections", burstServerConfig{blocked: true}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			srv := newBurstServer(t, tc.cfg)
			c := srv.client(t, limits)
			first := getAll(context.Background(), c, tc.fill)
			if !tc.cfg.holdAccept {
				require.Eventually(t, func() bool { return srv.running.Load() == int64(tc.fill) }, 10*time.Second, time.Millisecond)
			}

			ctx, cancel := context.WithCancel(context.Background())
			waiter := getAll(ctx, c, 1)
			assert.Never(t, func() bool { return len(waiter) > 0 }, 50*time.Millisecond, time.Millisecond,
				"the caller beyond the bound should wait")
			cancel()
			select {
			case err := <-waiter:
				require.ErrorIs(t, err, context.Canceled)
			case err := <-first:
				t.Fatalf("a request waited behind ended (%v) before the waiter returned", err)
			case <-time.After(10 * time.Second):
				t.Fatal("the waiter did not return when its context ended")
			}
			assert.Empty(t, first, "a request waited behind ended")

			srv.openAccept()
			srv.unblock()
			for err := range first {
				require.NoError(t, err)
			}
		})
	}
}

// heldListener accepts no connection until open is called.
type heldListener struct {
	net.Listener
	release chan struct{}
	once    sync.Once
}

func (l *heldListener) Accept() (net.Conn, error) {
	<-l.release
	return l.Listener.Accept()
}

func (l *heldListener) open() { l.once.Do(func() { close(l.release) }) }

// TestACreateTurnedAwayAtTheLimitIsSentOnceWithItsBody: a create that
// found every stream in use waits, then goes out once with its whole body,
// the SDK's own and one a middleware put in its place that cannot be read
// once closed: net/http closed the body when it found no connection, and
// the SDK's transport held that back for the next try.
func TestACreateTurnedAwayAtTheLimitIsSentOnceWithItsBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"the SDK's body", nil},
		{"a middleware's body", []Option{WithMiddleware(func(req *http.Request, next MiddlewareNext) (*http.Response, error) {
			if req.Body != nil {
				b, err := io.ReadAll(req.Body)
				if err != nil {
					return nil, err
				}
				req.Body = &closableBody{r: strings.NewReader(string(b))}
			}
			return next(req)
		})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newBurstServer(t, burstServerConfig{tls: true, streams: 100, blocked: true})
			c := srv.client(t, transportLimits{http2Conns: 1, http2Dials: 1, http1Conns: 1}, tc.opts...)
			first := getAll(context.Background(), c, 100) // every stream of the one connection
			require.Eventually(t, func() bool { return srv.running.Load() == 100 }, 10*time.Second, time.Millisecond)

			created := make(chan error, 1)
			go func() {
				_, err := c.CreateVerification(context.Background(), benchCreateRequest, WithMaxRetries(0))
				created <- err
			}()
			assert.Never(t, func() bool { return len(created) > 0 }, 50*time.Millisecond, time.Millisecond)
			srv.unblock()
			for err := range first {
				require.NoError(t, err)
			}
			require.NoError(t, <-created)
			srv.mu.Lock()
			defer srv.mu.Unlock()
			assert.Equal(t, []string{`{"vendorData":"user-8812","method":"auto"}`}, srv.bodies)
			assert.Equal(t, int64(1), srv.conns.accepted.Load())
		})
	}
}

// closableBody is a request body that cannot be read once closed, as a
// file or a pipe cannot.
type closableBody struct {
	r      io.Reader
	closed atomic.Bool
}

func (b *closableBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, errors.New("read after close")
	}
	return b.r.Read(p)
}

func (b *closableBody) Close() error {
	b.closed.Store(true)
	return nil
}

// TestAnAttemptOfTheDefaultClientIsBounded: without a deadline of the
// caller's, an attempt through the SDK's own transport ends after 60 s
// with a timeout (as http.Client.Timeout ended it), whether the server
// never answers or stalls in the body; a caller's sooner deadline is the
// only bound. Fake time (synctest), a transport that never answers.
func TestAnAttemptOfTheDefaultClientIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stall    string // "headers" or "body"
		deadline time.Duration
		want     time.Duration
	}{
		{"no answer", "headers", 0, attemptTimeout},
		{"a body that stalls", "body", 0, attemptTimeout},
		{"a sooner deadline of the caller's", "headers", 5 * time.Second, 5 * time.Second},
		{"a later deadline of the caller's", "headers", time.Hour, attemptTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := newDefaultTransport(defaultLimits)
				tr.http1 = stallingTransport(tc.stall)
				c, err := NewClient(testKey, WithBaseURL("http://127.0.0.1/api"),
					WithHTTPClient(&http.Client{Transport: tr}), WithMaxRetries(0))
				require.NoError(t, err)
				ctx := context.Background()
				if tc.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.deadline)
					defer cancel()
				}
				start := time.Now()
				_, err = c.GetVerification(ctx, benchID)
				assert.Equal(t, tc.want, time.Since(start))
				require.ErrorIs(t, err, context.DeadlineExceeded)
				var ne net.Error
				require.ErrorAs(t, err, &ne)
				assert.True(t, ne.Timeout(), "%v", err)
			})
		})
	}
}

// stallingTransport never answers (stall "headers"), or answers 200 with a
// body that never ends (stall "body"), until the request's context ends.
type stallingTransport string

func (s stallingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if s == "headers" {
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}
	return &http.Response{
		StatusCode: http.StatusOK, Header: benchHeader(), Request: req,
		Body: io.NopCloser(io.MultiReader(strings.NewReader(`{"status":true,"data":`), ctxReader{ctx})),
	}, nil
}

// ctxReader blocks until ctx ends, then fails with its cause.
type ctxReader struct{ ctx context.Context }

func (r ctxReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, context.Cause(r.ctx)
}

// TestAWaitThatEndsReportsNothingSent: a request whose context ends while
// it waits for a connection fails with a dial error, as one whose
// connection could not be established does, so that the retry policy
// knows nothing was sent (a create may then be sent again).
func TestAWaitThatEndsReportsNothingSent(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "https://server.heliumid.io/api/v1/verifications", nil)
	err := notSent(req, errAttemptTimeout)
	assert.True(t, unprocessed.Proven(err))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, "dial tcp: waiting for a connection to server.heliumid.io: "+errAttemptTimeout.Error(), err.Error())
}
