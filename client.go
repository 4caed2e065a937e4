package heliumid

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
)

// DefaultBaseURL is the production API. Every endpoint path is relative to it.
const DefaultBaseURL = "https://server.heliumid.io/api"

// Version is this SDK's version; it is sent in the User-Agent header.
const Version = "0.3.0"

// Client calls the Helium ID API with one integration's API key. Create it
// with [NewClient]. A Client is safe for concurrent use by many goroutines;
// share one per API key, so that its connection pool, rate limiter and 429
// cool-downs are shared too.
type Client struct {
	auth    *credentials // behind a pointer: fmt prints nested pointers as addresses, never their contents
	config               // the settings of every call; a call's own Options apply to a copy
	creates *admission   // what holds creates back: the 429 cool-down, the learned pace, the limiter
	reads   *admission   // what holds reads back: the 429 cool-down only
}

// credentials holds the API key ready to be put on a request. The header
// value slice is shared by every request (the transport only reads it).
type credentials struct {
	key    string
	header []string

	formsOnce sync.Once
	forms     *keyForms // compiled the first time server text is scrubbed (an error, a debug record, a ResponseInfo): a plain call that succeeds never pays for it
}

// keyForms returns what finds the key in server text (see scrub.go).
func (cr *credentials) keyForms() *keyForms {
	cr.formsOnce.Do(func() { cr.forms = newKeyForms(cr.key) })
	return cr.forms
}

// NewClient returns a Client that authenticates with apiKey, the key of your
// Helium ID integration (surrounding whitespace is trimmed). A blank key
// returns an error matching [ErrMissingAPIKey].
//
// Without options the client talks to [DefaultBaseURL] through its own tuned
// http.Client (timeouts set, a connection pool sized for concurrent callers,
// its connections bounded under a burst: see [WithHTTPClient]), retries
// transient failures twice, and logs nothing.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	key, problem := normalizeAPIKey(apiKey)
	switch {
	case key == "" && problem == keyIsBlank:
		return nil, ErrMissingAPIKey
	case problem != "":
		return nil, fmt.Errorf("%w: %s", ErrMissingAPIKey, problem)
	}
	c := &Client{
		auth:   &credentials{key: key, header: []string{key}},
		config: defaultConfig(),
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&c.config); err != nil {
			return nil, err
		}
	}
	if c.info != nil {
		return nil, invalidOption("WithResponseInfo", "it describes one call: give it to the call, not to NewClient")
	}
	if c.callerHC == nil {
		c.hc = newDefaultHTTPClient()
	}
	c.hc = guardRedirects(c.hc)
	c.creates, c.reads = newAdmissions(&c.config)
	return c, nil
}

var defaultUserAgent = "heliumid-go/" + Version + " (" + runtime.Version() + "; " + runtime.GOOS + "/" + runtime.GOARCH + ")"

// newDefaultHTTPClient returns the client used without WithHTTPClient. Its
// transport (see defaultTransport) bounds the connections to the API host
// under any burst: at most 64 over HTTP/2, whose streams the callers
// share, and 512 over HTTP/1.1; a caller beyond them waits for a stream or
// a connection, until its context ends. Each attempt is bounded too: 10 s to
// connect, 10 s for the TLS handshake, 30 s for the response to begin and
// 60 s in all, unless the context ends sooner. Idle connections are kept
// for reuse and close after 90 s.
func newDefaultHTTPClient() *http.Client {
	return &http.Client{Transport: newDefaultTransport(defaultLimits)}
}

// guardRedirects returns a shallow copy of hc whose redirect policy keeps the
// API key on the API host: http.Client copies custom headers such as
// x-api-key onto every redirect, whatever its target. The first request of a
// chain always goes to the base URL's host (the SDK sends nothing anywhere
// else), so a redirect must stay on it.
func guardRedirects(hc *http.Client) *http.Client {
	guarded := *hc
	next := hc.CheckRedirect
	guarded.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && req.URL.Host != via[0].URL.Host {
			return fmt.Errorf("%w: refusing to follow a redirect to another host (%s): the API key is only sent to %s", ErrUnexpectedResponse, req.URL.Host, via[0].URL.Host)
		}
		if len(via) > 0 && via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("%w: refusing to follow a redirect from https to %s", ErrUnexpectedResponse, req.URL.Scheme)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return fmt.Errorf("heliumid: stopped after 10 redirects")
		}
		return nil
	}
	return &guarded
}

// CloseIdleConnections closes the idle connections of the Client's
// http.Client, as http.Client.CloseIdleConnections does: for a short-lived
// program (a CLI, a test) that wants its sockets released before it exits.
// The Client stays usable.
func (c *Client) CloseIdleConnections() {
	c.hc.CloseIdleConnections()
}

// Format prints the Client without its API key, whatever the verb, for a
// *Client and a Client value alike: fmt.Printf("%+v", client) is safe to log.
// (A value receiver, because fmt's fallback for an unknown verb prints the
// fields of a struct value, pointers dereferenced.)
func (c Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "&heliumid.Client{BaseURL: %q, APIKey: [REDACTED]}", c.baseURL)
}

const keyIsBlank = "the key is blank"

// normalizeAPIKey trims surrounding whitespace from a key (one pasted from a
// file often ends in a newline) and checks it can travel in a header. problem
// says what is wrong, without quoting the key; it is "" for a usable key.
func normalizeAPIKey(raw string) (key, problem string) {
	key = strings.TrimSpace(raw)
	switch {
	case key == "":
		return "", keyIsBlank
	case !validHeaderValue(key) || strings.ContainsRune(key, ' '):
		return "", "the key contains whitespace or control characters; copy it again from the dashboard"
	}
	return key, ""
}

// validHeaderValue reports whether s can travel in an HTTP header value
// unchanged: printable ASCII and spaces, nothing that could split a header.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b == 0x7f || b >= 0x80 {
			return false
		}
	}
	return true
}
