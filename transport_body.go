package heliumid

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
)

// The bodies defaultTransport wraps: a response's, to end its attempt when
// it is closed, and a request's, to send it again after connLimit turned
// the request away.

// attemptBody ends the attempt when the response body is closed: its
// deadline stops, and over HTTP/2 its stream is counted free.
type attemptBody struct {
	io.ReadCloser
	cancel context.CancelFunc // nil: no deadline of its own
	limit  *connLimit         // nil: not over HTTP/2
	closed atomic.Bool
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	if b.closed.CompareAndSwap(false, true) {
		if b.cancel != nil {
			b.cancel()
		}
		if b.limit != nil {
			b.limit.ended()
		}
	}
	return err
}

// replayableBody lets a request body be sent again after connLimit turned
// the request away. net/http closes a request's body when it fails to send
// it, including when no connection could be dialed; the SDK's bodies are
// in memory, and one that was never read can go out on the next try. So a
// Close before the outcome is known is held back until settle, and the body
// is closed then unless it is being sent again.
type replayableBody struct {
	io.ReadCloser
	mu      sync.Mutex
	read    bool
	closed  bool // Close was called and held back
	settled bool // the outcome is known: Close closes
}

func (b *replayableBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	b.read = true
	b.mu.Unlock()
	return b.ReadCloser.Read(p)
}

func (b *replayableBody) Close() error {
	b.mu.Lock()
	if !b.settled {
		b.closed = true
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()
	return b.ReadCloser.Close()
}

// unread reports whether nothing of the body was read, so it can be sent
// again; it reopens the body for that.
func (b *replayableBody) unread() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = false
	return !b.read
}

// settle ends the body's replays: a Close held back happens now, a later
// one at once. A nil body has nothing to settle.
func (b *replayableBody) settle() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.settled = true
	closed := b.closed
	b.mu.Unlock()
	if closed {
		b.ReadCloser.Close()
	}
}
