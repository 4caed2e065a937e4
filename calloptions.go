package heliumid

import (
	"net/http"
	"strings"
	"time"

	"github.com/heliumid/heliumid-go/internal/safetext"
)

// WithHeader adds one more header to every request (given to NewClient) or
// to one call's requests: for a proxy or gateway in front of Helium ID, a
// tracing header of your own. A header of the same name set before (a
// call's over the client's) is replaced. The headers the SDK sets itself
// (X-Api-Key, Content-Type, Content-Length, Accept, User-Agent, Host) and
// the hop-by-hop headers (Connection, Keep-Alive, Proxy-*, TE, Trailer,
// Transfer-Encoding, Upgrade) are refused with [ErrInvalidOption], as are a
// name that is not an HTTP token and a value holding control characters.
// Middleware ([WithMiddleware]) sees these headers.
func WithHeader(key, value string) Option {
	return func(c *config) error {
		name := http.CanonicalHeaderKey(strings.TrimSpace(key))
		if why := refusedHeader(name, value); why != "" {
			return invalidOption("WithHeader", "header %q is refused: %s", safetext.Clean([]byte(key)), why)
		}
		h := c.header.Clone() // never modify a map another config shares
		if h == nil {
			h = make(http.Header, 1)
		}
		h[name] = []string{value}
		c.header = h
		return nil
	}
}

// refusedHeader says why the canonical header name (with value) cannot be
// added, or returns "".
func refusedHeader(name, value string) string {
	switch name {
	case "X-Api-Key", "Content-Type", "Content-Length", "Accept", "User-Agent", "Host":
		return "the SDK sets it itself"
	case "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return "it is a hop-by-hop header, which the transport manages"
	}
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
		return "the name is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~)"
	}
	if !validHeaderValue(strings.ReplaceAll(value, "\t", " ")) {
		return "the value holds a control character or a non-ASCII byte"
	}
	return ""
}

func isTokenChar(r rune) bool {
	return r < 0x7f && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}

// WithRequestTimeout bounds each attempt of a call (any d > 0, math.MaxInt64
// included) while its context
// bounds the whole call, retries and waits included: a short timeout on the
// request path of a sign-up page, say. An attempt that runs out of time is a
// timeout: a read is retried by the usual policy, a create is not (the
// session may exist).
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalidOption("WithRequestTimeout", "%v must be positive", d)
		}
		c.requestTimeout = d
		return nil
	}
}

// WithResponseInfo makes one call fill dst before it returns, on success and
// on failure: for a support ticket's request id, or a header of a proxy's.
// dst describes the call it was given to, whatever the outcome: it is reset
// when the call starts, so a call that fails before any I/O (an invalid id
// or option, even one given before WithResponseInfo, a nil context) leaves
// it zero, never describing an earlier call. It is an option of a call
// only; given to NewClient it is refused with [ErrInvalidOption].
func WithResponseInfo(dst *ResponseInfo) Option {
	return func(c *config) error {
		if dst == nil {
			return invalidOption("WithResponseInfo", "nil; pass a *ResponseInfo to fill")
		}
		c.info = dst
		return nil
	}
}

// ResponseInfo describes the last attempt of a call ([WithResponseInfo]):
// of [Client.WaitForDecision], its last poll; of [Client.AllVerifications],
// its last page, each of which counts its attempts from 1.
type ResponseInfo struct {
	StatusCode int         // the last response's HTTP status; 0 when the last attempt got no response
	Header     http.Header // the last response's headers; nil when the last attempt got no response
	RequestID  string      // its X-Request-Id (or Request-Id), for support tickets
	Attempts   int         // attempts sent: 1 + retries
}

// fill describes the last attempt o of a call that sent attempts requests.
func (info *ResponseInfo) fill(c *Client, o outcome, attempts int) {
	*info = ResponseInfo{StatusCode: o.status, RequestID: o.requestID, Attempts: attempts}
	if o.header != nil {
		info.Header = o.header.Clone()
		for name, values := range info.Header {
			for i, v := range values {
				values[i] = c.scrub(v) // a server may echo the key in any header
			}
			info.Header[name] = values
		}
	}
}
