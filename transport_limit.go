package heliumid

import (
	"container/list"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// connLimit caps the connections of the default client's HTTP/2 transport
// to the API host, and makes the callers it turns away wait for a stream.
//
// net/http has no such cap of its own. Its HTTP/2 transport dials a new
// connection whenever every stream of the ones it has is in use, so a burst
// of callers against a server that allows 250 streams per connection opens
// thousands. Transport.MaxConnsPerHost does not bound that: a connection
// whose streams are all in use leaves the count it is kept by (Go 1.26), so
// the transport keeps dialing. And the transport's strict stream limit
// (HTTP2Config.StrictMaxConcurrentRequests) stalls a burst larger than one
// connection's streams (golang.org/issue/70809).
//
// So the transport dials through connLimit: once max connections are open
// or being dialed, a dial fails with errAtConnLimit before touching the
// network. The request that needed it had nothing sent; defaultTransport
// catches the error and calls wait, and the caller waits in its own
// goroutine for one of the requests in flight to end (its stream is then
// free) or for a connection to close (there is room to dial again).
type connLimit struct {
	max  int
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu       sync.Mutex
	conns    int       // open or being dialed
	inFlight int       // requests sent through the transport and not yet ended
	waiting  list.List // of chan struct{}: the callers turned away, first come first served
}

// errAtConnLimit is what a dial returns when the connections are all open.
// It never leaves defaultTransport.
var errAtConnLimit = errors.New("heliumid: every connection to the API host is in use")

// dialContext dials for the HTTP/2 transport, or refuses at the cap.
func (l *connLimit) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	l.mu.Lock()
	if l.conns >= l.max {
		l.mu.Unlock()
		return nil, errAtConnLimit
	}
	l.conns++
	l.mu.Unlock()
	conn, err := l.dial(ctx, network, addr)
	if err != nil {
		l.connClosed()
		return nil, err
	}
	return &limitedConn{Conn: conn, limit: l}, nil
}

// connClosed gives a connection's place back and wakes every waiter: each
// goes back to the transport, which dials a few at a time, so the first
// back dials the new connection and the others take its streams.
func (l *connLimit) connClosed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conns--
	for e := l.waiting.Front(); e != nil; e = l.waiting.Front() {
		close(l.waiting.Remove(e).(chan struct{}))
	}
}

// started counts a request going to the transport. Every started request
// ends exactly once, with ended or with wait.
func (l *connLimit) started() {
	l.mu.Lock()
	l.inFlight++
	l.mu.Unlock()
}

// ended counts a request that ended (its response body closed, or an
// error): its stream is free, so the first waiter may take it.
func (l *connLimit) ended() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	if e := l.waiting.Front(); e != nil {
		close(l.waiting.Remove(e).(chan struct{}))
	}
}

// wait ends a request the cap turned away, and returns once the caller may
// try again: a request in flight ended, or a connection closed. Between the
// dial that failed and this call, the requests in flight may all have
// ended: with none left to end, it does not wait for one. It returns the
// context's error if ctx ends first.
func (l *connLimit) wait(ctx context.Context, idle *time.Duration) error {
	l.mu.Lock()
	l.inFlight--
	room, others := l.conns < l.max, l.inFlight > 0
	if room || !others {
		l.mu.Unlock()
		if room {
			return ctx.Err()
		}
		// Streams held by none of ours: requests that were canceled, whose
		// streams the server frees when it acknowledges the reset. Nothing
		// here signals that, so look again shortly, less often each time.
		*idle = min(max(2**idle, time.Millisecond), 100*time.Millisecond)
		return sleep(ctx, *idle)
	}
	ready := make(chan struct{})
	e := l.waiting.PushBack(ready)
	l.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		select {
		case <-ready:
			// Woken as the context ended: pass the turn on.
			if next := l.waiting.Front(); next != nil {
				close(l.waiting.Remove(next).(chan struct{}))
			}
		default:
			l.waiting.Remove(e)
		}
		l.mu.Unlock()
		return context.Cause(ctx)
	}
}

// limitedConn gives its place back to the limit once closed.
type limitedConn struct {
	net.Conn
	limit  *connLimit
	closed atomic.Bool
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.limit.connClosed()
	}
	return err
}
