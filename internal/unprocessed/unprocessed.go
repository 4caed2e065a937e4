// Package unprocessed tells, from a transport error, whether the server
// provably did not process a request (it never reached the server, or the
// server refused it unread): the one case in which a request that must not
// run twice (a session creation, which is billed) may be sent again.
package unprocessed

import (
	"errors"
	"net"
	"strings"
)

// Proven reports whether a transport error proves that the server did not
// act on the request, so that even a create may be sent again:
//   - the connection was never established (DNS failure, connection refused,
//     dial timeout): nothing was written;
//   - an HTTP/2 server refused the stream (REFUSED_STREAM), which promises
//     the request was not processed;
//   - an HTTP/2 server's GOAWAY named a last stream below this one, which
//     promises the same.
//
// Everything else after the request may have been written (a reset with
// PROTOCOL_ERROR or INTERNAL_ERROR, a GOAWAY that covers the stream, a lost
// response, a timeout) is ambiguous: the session may exist.
func Proven(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	return refusedByHTTP2(err)
}

// The texts net/http's HTTP/2 transport gives the two "not processed" cases
// when it cannot replay a request itself (the SDK clears Request.GetBody so
// that it cannot). The transport formats them from a frame's error code, not
// from anything the server can word, and keeps no error value to match: the
// reset arrives as "cannot retry err [<cause>] after Request.Body was
// written".
const (
	h2CannotRetry     = "http2: Transport: cannot retry err ["
	h2StreamError     = "stream error: stream ID "
	h2RefusedStream   = "; REFUSED_STREAM"
	h2GracefulGoAway  = "http2: Transport received Server's graceful shutdown GOAWAY"
	h2CannotRetryTail = "] after Request.Body was written"
)

func refusedByHTTP2(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		msg := err.Error()
		if !strings.HasPrefix(msg, h2CannotRetry) {
			continue
		}
		cause, _, ok := strings.Cut(msg[len(h2CannotRetry):], h2CannotRetryTail)
		if !ok {
			return false
		}
		return cause == h2GracefulGoAway ||
			(strings.HasPrefix(cause, h2StreamError) && strings.Contains(cause, h2RefusedStream))
	}
	return false
}
