package heliumid

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// transports serves h over HTTP/1.1 on loopback and over TLS with HTTP/2
// negotiated (what the real https API gets), returning a client for each.
// h misbehaves below what the fake API's answers can say (it stalls, cuts
// a body), so it is served as is.
func transports(t *testing.T, h http.HandlerFunc, opts ...Option) map[string]*Client {
	t.Helper()
	clients := map[string]*Client{}
	for _, proto := range protocols {
		base, hc := serveOver(t, proto, h)
		c, err := NewClient(testKey, append([]Option{WithBaseURL(base), WithHTTPClient(hc), WithRetryBackoff(1, 1)}, opts...)...)
		require.NoError(t, err)
		clients[proto] = c
	}
	return clients
}

// expiresOn returns a context whose deadline passes when signal receives:
// a timeout at a moment the test chooses (once the server has the request),
// with no clock to race.
func expiresOn(signal <-chan struct{}) context.Context {
	ctx := &signalDeadline{Context: context.Background(), done: make(chan struct{})}
	go func() {
		<-signal
		close(ctx.done)
	}()
	return ctx
}

type signalDeadline struct {
	context.Context
	done chan struct{}
}

func (c *signalDeadline) Done() <-chan struct{} { return c.done }
func (c *signalDeadline) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// TestCreateFaultsOnTheTransportUsersRun: the create path's ambiguous
// failures, over HTTP/1.1 and HTTP/2, reach the server once; a 429 is the
// one answer that sends the create again.
func TestCreateFaultsOnTheTransportUsersRun(t *testing.T) {
	type fault struct {
		answer  func(w http.ResponseWriter, r *http.Request, n int32)
		timeout bool // the caller's deadline passes once the server has the create
		sent    int32
		want    error
	}
	received := make(chan struct{}, 1)
	created := func(w http.ResponseWriter) { fmt.Fprint(w, okEnvelope(createdData)) }
	faults := map[string]fault{
		"lost response": {answer: func(w http.ResponseWriter, r *http.Request, n int32) {
			panic(http.ErrAbortHandler) // processed, then the connection or stream is cut
		}, sent: 1},
		"timeout": {answer: func(w http.ResponseWriter, r *http.Request, n int32) {
			received <- struct{}{}
			<-r.Context().Done()
		}, timeout: true, sent: 1, want: context.DeadlineExceeded},
		"500 after processing": {answer: func(w http.ResponseWriter, r *http.Request, n int32) {
			w.WriteHeader(500)
		}, sent: 1, want: ErrServer},
		"502": {answer: func(w http.ResponseWriter, r *http.Request, n int32) { w.WriteHeader(502) }, sent: 1, want: ErrServer},
		"503": {answer: func(w http.ResponseWriter, r *http.Request, n int32) { w.WriteHeader(503) }, sent: 1, want: ErrServer},
		"504": {answer: func(w http.ResponseWriter, r *http.Request, n int32) { w.WriteHeader(504) }, sent: 1, want: ErrServer},
		"429 then created": {answer: func(w http.ResponseWriter, r *http.Request, n int32) {
			if n == 1 {
				w.WriteHeader(429)
				return
			}
			created(w)
		}, sent: 2},
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			var sent atomic.Int32
			clients := transports(t, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body) // the create is read, as a server processing it would
				f.answer(w, r, sent.Add(1))
			})
			for proto, c := range clients {
				sent.Store(0)
				ctx := context.Background()
				if f.timeout {
					ctx = expiresOn(received)
				}
				_, err := c.CreateVerification(ctx, &CreateVerificationRequest{VendorData: "u1"})
				assert.Equal(t, f.sent, sent.Load(), "%s: creates the server received", proto)
				switch {
				case f.sent == 2:
					assert.NoError(t, err, proto)
				case f.want != nil:
					assert.ErrorIs(t, err, f.want, proto)
				default:
					assert.Error(t, err, proto)
				}
			}
		})
	}
}

// TestGETFaultsOnTheTransportUsersRun: the same faults on a read are retried.
func TestGETFaultsOnTheTransportUsersRun(t *testing.T) {
	var sent atomic.Int32
	clients := transports(t, func(w http.ResponseWriter, r *http.Request) {
		switch sent.Add(1) {
		case 1:
			panic(http.ErrAbortHandler)
		case 2:
			w.WriteHeader(503)
		default:
			fmt.Fprint(w, okEnvelope(`{"id":"v","status":"started"}`))
		}
	})
	for proto, c := range clients {
		sent.Store(0)
		v, err := c.GetVerification(context.Background(), "v")
		require.NoError(t, err, proto)
		assert.Equal(t, StatusStarted, v.Status)
		assert.GreaterOrEqual(t, sent.Load(), int32(3), proto)
	}
}
