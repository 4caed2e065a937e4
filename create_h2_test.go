package heliumid

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
)

// h2Clients are the two ways a user's requests reach an HTTP/2 server: the
// SDK's own client (made to trust the test certificate), and a caller's
// http.Client.
func h2Clients(t *testing.T, srv *h2Server, opts ...Option) map[string]*Client {
	t.Helper()
	own, err := NewClient(testKey, append([]Option{WithBaseURL(srv.URL), WithRetryBackoff(1, 1)}, opts...)...)
	require.NoError(t, err)
	defaultTransportOf(t, own).trust(srv.client.Transport.(*http.Transport).TLSClientConfig.RootCAs, false)
	t.Cleanup(own.CloseIdleConnections)

	theirs, err := NewClient(testKey, append([]Option{WithBaseURL(srv.URL), WithRetryBackoff(1, 1), WithHTTPClient(srv.client)}, opts...)...)
	require.NoError(t, err)
	return map[string]*Client{"SDK's client": own, "caller's client": theirs}
}

// TestNoLayerResendsACreateOverHTTP2: a stream reset or GOAWAY after the
// server read a create means the session may exist; the create reaches the
// server exactly once, whatever the retry budget, and the caller gets an
// error saying so. Only the answers that promise the request was not
// processed (REFUSED_STREAM, a GOAWAY below the stream) send it again.
func TestNoLayerResendsACreateOverHTTP2(t *testing.T) {
	ok := h2Respond(200, okEnvelope(createdData))
	tests := []struct {
		name     string
		first    h2Action
		maxRetry int
		sent     int // creates the server received
		created  bool
		always   bool // every request meets first, not only the first
	}{
		{"reset PROTOCOL_ERROR on every request", h2Reset(http2.ErrCodeProtocol), 2, 1, false, true},
		{"reset PROTOCOL_ERROR, no retries", h2Reset(http2.ErrCodeProtocol), 0, 1, false, false},
		{"reset PROTOCOL_ERROR, default retries", h2Reset(http2.ErrCodeProtocol), 2, 1, false, false},
		{"reset INTERNAL_ERROR", h2Reset(http2.ErrCodeInternal), 2, 1, false, false},
		{"reset CANCEL", h2Reset(http2.ErrCodeCancel), 2, 1, false, false},
		{"GOAWAY covering the stream", h2GoAway(true, http2.ErrCodeNo), 2, 1, false, false},
		{"GOAWAY covering the stream, with an error", h2GoAway(true, http2.ErrCodeInternal), 2, 1, false, false},
		{"REFUSED_STREAM", h2Reset(http2.ErrCodeRefusedStream), 2, 2, true, false},
		{"GOAWAY below the stream", h2GoAway(false, http2.ErrCodeNo), 2, 2, true, false},
		{"REFUSED_STREAM, no retries", h2Reset(http2.ErrCodeRefusedStream), 0, 1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"SDK's client", "caller's client"} {
				t.Run(name, func(t *testing.T) {
					srv := newH2Server(t, func(n int) h2Action {
						if n == 1 || tt.always {
							return tt.first
						}
						return ok
					})
					c := h2Clients(t, srv, WithMaxRetries(tt.maxRetry))[name]
					created, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{VendorData: "u1"})
					assert.Equal(t, tt.sent, srv.count(), "creates the server received")
					if tt.created {
						require.NoError(t, err)
						assert.Equal(t, "ver_123", created.ID)
						return
					}
					require.Error(t, err)
					assert.NotErrorIs(t, err, ErrInvalidRequest)
					assert.Contains(t, err.Error(), "POST /v1/verifications")
					assert.True(t, IsTransient(err), "the caller may look the session up and try later: %v", err)
				})
			}
		})
	}
}

// TestGETsKeepTheirRetriesOverHTTP2: a reset read is safe to send again, by
// the transport or by the SDK.
func TestGETsKeepTheirRetriesOverHTTP2(t *testing.T) {
	for _, first := range map[string]h2Action{
		"PROTOCOL_ERROR": h2Reset(http2.ErrCodeProtocol),
		"INTERNAL_ERROR": h2Reset(http2.ErrCodeInternal),
		"GOAWAY":         h2GoAway(true, http2.ErrCodeNo),
	} {
		srv := newH2Server(t, func(n int) h2Action {
			if n == 1 {
				return first
			}
			return h2Respond(200, okEnvelope(`{"id":"v","status":"started"}`))
		})
		for name, c := range h2Clients(t, srv) {
			v, err := c.GetVerification(context.Background(), "v")
			require.NoError(t, err, name)
			assert.Equal(t, StatusStarted, v.Status)
		}
	}
}
