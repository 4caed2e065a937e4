package heliumid

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"

	"github.com/heliumid/heliumid-go/internal/safetext"
)

// Everything a server (or a proxy, or the network) says can reach an error
// string, an APIError field or a log record; a broken or hostile server may
// echo the API key into any of it. Each such text passes through here, and
// always in the same order: cleaned, then the key removed, then cut to its
// size. Cutting first could leave part of a key that straddles the cut, and
// cleaning after removing could join a key that arrived split by control
// characters.

// safeText makes server-provided bytes printable (see safetext.Clean), removes
// the API key and keeps at most limit bytes (then "…").
func (c *Client) safeText(b []byte, limit int) string {
	return safetext.Truncate(c.scrub(safetext.Clean(b)), limit)
}

// keep returns a copy of at most keptErrorBody bytes of body, for
// APIError.Body, without the API key.
func (c *Client) keep(body []byte) []byte {
	if len(body) == 0 {
		return nil
	}
	if key := []byte(c.auth.key); bytes.Contains(body, key) {
		body = bytes.ReplaceAll(body, key, []byte(redacted))
	}
	return bytes.Clone(body[:min(len(body), keptErrorBody)])
}

// scrub removes the API key from text.
func (c *Client) scrub(s string) string {
	return strings.ReplaceAll(s, c.auth.key, redacted)
}

// newAPIError builds the APIError of a response: every APIError made from
// what a server sent is made here, so every one is scrubbed the same way.
func (c *Client) newAPIError(status, code int, message string, body []byte) *APIError {
	return &APIError{StatusCode: status, Code: code, Message: c.safeText([]byte(message), maxMessage), Body: c.keep(body)}
}

// scrubTransport returns err (from the transport, or a middleware) unless its
// text holds the API key, as it does when a server echoes the key into a
// malformed header line that net/http then quotes. Such an error is replaced
// by a scrubbed copy that still answers errors.Is for the conditions the
// SDK and its callers test (deadlines, cancellation, timeouts), but no longer
// hands out the original error, whose text would show the key.
func (c *Client) scrubTransport(err error) error {
	if err == nil || !strings.Contains(err.Error(), c.auth.key) {
		return err
	}
	s := &scrubbedError{msg: c.scrub(err.Error())}
	for _, target := range []error{context.DeadlineExceeded, context.Canceled, ErrUnexpectedResponse} {
		if errors.Is(err, target) {
			s.is = append(s.is, target)
		}
	}
	var ne net.Error
	s.timeout = errors.As(err, &ne) && ne.Timeout()
	return s
}

// scrubbedError is a transport error with the API key taken out of its text.
type scrubbedError struct {
	msg     string
	is      []error // the sentinels the original matched
	timeout bool
}

func (e *scrubbedError) Error() string   { return e.msg }
func (e *scrubbedError) Unwrap() []error { return e.is }

// Timeout makes a scrubbed timeout still a net.Error timeout.
func (e *scrubbedError) Timeout() bool { return e.timeout }

// Temporary is part of net.Error; it reports the same as Timeout.
func (e *scrubbedError) Temporary() bool { return e.timeout }
