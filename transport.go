package heliumid

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The bounds of the default client (see newDefaultHTTPClient and
// docs/PERFORMANCE.md, "Bursts").
const (
	// maxHTTP2Conns caps the connections to the API host over HTTP/2: 64
	// carry 16,000 requests at once against a server allowing Go's default
	// of 250 streams per connection, 6,400 against one allowing 100.
	maxHTTP2Conns = 64
	// http2DialsAtOnce is how many HTTP/2 connections are dialed at once.
	// Each dial that ends while an earlier connection still has a free
	// stream is closed unused: dialing a few at a time keeps those few.
	http2DialsAtOnce = 4
	// maxHTTP1Conns caps the connections to the API host over HTTP/1.1,
	// where each carries one request at a time. It stays well below the
	// 1,024 open files many systems allow a process by default.
	maxHTTP1Conns = 512
	// attemptTimeout bounds an attempt (sending, waiting, reading the
	// body) whose context does not end sooner: a server that stalls after
	// the headers cannot hold a call made with context.Background().
	attemptTimeout = 60 * time.Second
	// responseHeaderTimeout fails an attempt whose response has not begun
	// within 30 s, so that a GET stuck on a bad server instance is retried
	// after 30 s rather than 60.
	responseHeaderTimeout = 30 * time.Second
)

// transportLimits are the bounds a defaultTransport keeps: the constants
// above, or smaller ones in tests.
type transportLimits struct {
	http2Conns, http2Dials, http1Conns int
}

var defaultLimits = transportLimits{http2Conns: maxHTTP2Conns, http2Dials: http2DialsAtOnce, http1Conns: maxHTTP1Conns}

// Which protocol the API host speaks over TLS, as its first handshake said.
const (
	protoUnknown int32 = iota
	protoHTTP1
	protoHTTP2
)

// defaultTransport is the RoundTripper of the SDK's own http.Client. It
// keeps two net/http transports, because the two protocols need bounds
// that one http.Transport cannot hold at once:
//
//   - http2: over TLS, HTTP/2 offered. Connections are capped by connLimit;
//     MaxConnsPerHost, which counts an HTTP/2 connection only while it is
//     dialed or has free streams, keeps the dials to a few at a time.
//   - http1: HTTP/1.1 only, for plain http (loopback tests) and for an API
//     host that does not speak HTTP/2; MaxConnsPerHost caps its
//     connections, and the callers beyond wait inside net/http for one.
//
// A Client learns the protocol from its first TLS handshake: until then,
// one request at a time finds out, and the others wait for it, so that a
// first burst neither dials a connection per caller nor queues behind the
// HTTP/2 transport's few dials when the host speaks HTTP/1.1.
//
// It also bounds each attempt by attemptTimeout, as http.Client.Timeout
// would; that field is left unset because, with a RoundTripper that is not
// an *http.Transport, net/http enforces it with two goroutines per request.
type defaultTransport struct {
	http1, http2 http.RoundTripper
	limit        *connLimit
	proto        atomic.Int32

	mu    sync.Mutex
	probe chan struct{} // closed when the request finding out the protocol has; nil when none is
}

// newDefaultTransport returns a transport holding limits, dialing with a
// 10-s timeout and 30-s keep-alives.
func newDefaultTransport(limits transportLimits) *defaultTransport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t := &defaultTransport{limit: &connLimit{max: limits.http2Conns, dial: dialer.DialContext}}

	h2 := newPooledTransport(t.limit.dialContext)
	h2.ForceAttemptHTTP2 = true
	h2.MaxConnsPerHost = limits.http2Dials
	h2.TLSClientConfig = &tls.Config{VerifyConnection: func(cs tls.ConnectionState) error {
		t.learn(cs.NegotiatedProtocol)
		return nil
	}}
	t.http2 = h2

	h1 := newPooledTransport(dialer.DialContext)
	h1.MaxConnsPerHost = limits.http1Conns
	h1.TLSClientConfig = &tls.Config{}
	h1.Protocols = new(http.Protocols)
	h1.Protocols.SetHTTP1(true)
	t.http1 = h1
	return t
}

// newPooledTransport returns a transport with the settings both of
// defaultTransport's share: bounded at every stage, with an idle pool large
// enough that a busy backend reuses connections instead of churning them
// (http.DefaultTransport keeps only 2 idle connections per host). The idle
// limit is above the number of concurrent callers a backend has: at a burst
// the transport dials for waiting callers while connections are coming
// back, so the pool can briefly hold more connections than callers; a
// limit at the number of callers closes that surplus and dials again later
// (measured: 256 callers against a limit of 256 closed and reopened up to a
// third of their connections; against 1024, none). Idle connections close
// after 90 s.
func newPooledTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dial,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// learn records the protocol a TLS handshake of the HTTP/2 transport
// negotiated, and lets the requests waiting for it go.
func (t *defaultTransport) learn(negotiated string) {
	proto := protoHTTP1
	if negotiated == "h2" {
		proto = protoHTTP2
	}
	if t.proto.Swap(proto) == proto {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.probe != nil {
		close(t.probe)
		t.probe = nil
	}
}

// errAttemptTimeout is the cause of an attempt that attemptTimeout ended.
// Like the error of http.Client.Timeout, it is a timeout (a net.Error
// whose Timeout is true) and matches context.DeadlineExceeded.
var errAttemptTimeout error = attemptTimeoutError{}

type attemptTimeoutError struct{}

func (attemptTimeoutError) Error() string {
	return fmt.Sprintf("the attempt took longer than the SDK's own client allows (%v); give the call a context with a deadline to choose another bound", attemptTimeout)
}
func (attemptTimeoutError) Timeout() bool        { return true }
func (attemptTimeoutError) Temporary() bool      { return true }
func (attemptTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// RoundTrip sends req through the transport of the API host's protocol,
// within attemptTimeout.
func (t *defaultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var cancel context.CancelFunc
	if deadline, ok := req.Context().Deadline(); !ok || time.Until(deadline) > attemptTimeout {
		var ctx context.Context
		ctx, cancel = context.WithTimeoutCause(req.Context(), attemptTimeout, errAttemptTimeout)
		req = req.WithContext(ctx)
	}
	resp, overHTTP2, err := t.send(req)
	if err != nil {
		if cancel != nil {
			cancel()
		}
		return nil, err
	}
	if cancel != nil || overHTTP2 {
		b := &attemptBody{ReadCloser: resp.Body, cancel: cancel}
		if overHTTP2 {
			b.limit = t.limit
		}
		resp.Body = b
	}
	return resp, nil
}

// send sends req through the transport of the API host's protocol. While
// that is unknown, the first request goes through the HTTP/2 transport to
// find out and the others wait for its handshake.
func (t *defaultTransport) send(req *http.Request) (resp *http.Response, overHTTP2 bool, err error) {
	if req.URL.Scheme != "https" {
		resp, err = t.http1.RoundTrip(req)
		return resp, false, err
	}
	for {
		switch t.proto.Load() {
		case protoHTTP2:
			resp, err = t.sendHTTP2(req)
			return resp, true, err
		case protoHTTP1:
			resp, err = t.http1.RoundTrip(req)
			return resp, false, err
		}
		t.mu.Lock()
		if t.proto.Load() != protoUnknown {
			t.mu.Unlock()
			continue
		}
		probe := t.probe
		if probe == nil {
			// This request finds out. If it ends before a handshake (the
			// dial failed, its context ended), the next one does.
			probe = make(chan struct{})
			t.probe = probe
			t.mu.Unlock()
			defer t.probed(probe)
			resp, err = t.sendHTTP2(req)
			return resp, true, err
		}
		t.mu.Unlock()
		select {
		case <-probe:
		case <-req.Context().Done():
			return nil, false, notSent(req, context.Cause(req.Context()))
		}
	}
}

// probed lets the requests waiting for probe go, if learn has not.
func (t *defaultTransport) probed(probe chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.probe == probe {
		close(probe)
		t.probe = nil
	}
}

// sendHTTP2 sends req through the HTTP/2 transport, waiting for a stream
// while every connection connLimit allows is in use.
func (t *defaultTransport) sendHTTP2(req *http.Request) (*http.Response, error) {
	var body *replayableBody
	if req.Body != nil && req.Body != http.NoBody {
		body = &replayableBody{ReadCloser: req.Body}
		req = req.WithContext(req.Context()) // a copy, whose Body this may replace
		req.Body = body
	}
	var idle time.Duration
	for {
		t.limit.started()
		resp, err := t.http2.RoundTrip(req)
		if err == nil || !errors.Is(err, errAtConnLimit) {
			if err != nil {
				t.limit.ended()
			}
			body.settle()
			return resp, err
		}
		// No connection had a free stream and none could be dialed: nothing
		// was sent.
		if !body.unread() {
			body.settle()
			return nil, errors.New("heliumid: the transport read the request body but found no connection to send it on")
		}
		if err := t.limit.wait(req.Context(), &idle); err != nil {
			body.settle()
			return nil, notSent(req, err)
		}
	}
}

// notSent is the error of a request whose context ended while it waited
// for a connection: a dial error, as a connection that could not be
// established is, so that the SDK knows nothing was sent (unprocessed.Proven)
// and may try even a create again if the call's context allows.
func notSent(req *http.Request, err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("waiting for a connection to %s: %w", req.URL.Host, err)}
}

// CloseIdleConnections closes the idle connections of both transports.
func (t *defaultTransport) CloseIdleConnections() {
	for _, rt := range []http.RoundTripper{t.http1, t.http2} {
		if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
}
