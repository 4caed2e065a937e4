package heliumid

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/heliumid/heliumid-go/internal/pace"
)

// DefaultBaseURL is the production API. Every endpoint path is relative to it.
const DefaultBaseURL = "https://server.heliumid.io/api"

// Version is this SDK's version; it is sent in the User-Agent header.
const Version = "0.2.0"

// Client calls the Helium ID API with one integration's API key. Create it
// with [NewClient]. A Client is safe for concurrent use by many goroutines;
// share one per API key, so that its connection pool, rate limiter and 429
// cool-downs are shared too.
type Client struct {
	auth   *credentials          // behind a pointer: fmt prints nested pointers as addresses, never their contents
	config                       // the settings of every call; a call's own Options apply to a copy
	cool   [classCount]*cooldown // one 429 pause per request class: creates, reads
	pacer  *pace.Pacer           // adaptive pacing of creates
}

// credentials holds the API key ready to be put on a request. The header
// value slice is shared by every request (the transport only reads it).
type credentials struct {
	key    string
	header []string

	formsOnce sync.Once
	forms     *keyForms // compiled on the first error: a client that never fails never pays for it
}

// keyForms returns what finds the key in server text (see scrub.go).
func (cr *credentials) keyForms() *keyForms {
	cr.formsOnce.Do(func() { cr.forms = newKeyForms(cr.key) })
	return cr.forms
}

// Option configures a [Client] in [NewClient] (every call of that client),
// or one call, given after the call's arguments (that call only, over the
// client's setting). An option given an invalid value makes NewClient, or
// the call, return an error matching [ErrInvalidOption] that names it; a
// call fails so before any network I/O.
type Option func(*config) error

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
		cool:   [classCount]*cooldown{new(cooldown), new(cooldown)},
		pacer:  new(pace.Pacer),
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
	return c, nil
}

var defaultUserAgent = "heliumid-go/" + Version + " (" + runtime.Version() + "; " + runtime.GOOS + "/" + runtime.GOARCH + ")"

// invalidOption reports an invalid value given to the option named option.
func invalidOption(option, format string, args ...any) error {
	return fmt.Errorf("%w: %s: "+format, append([]any{ErrInvalidOption, option}, args...)...)
}

// WithBaseURL sets the API's base URL, for example the URL of a
// heliumidtest.Server. It must be absolute and use https, except for loopback
// hosts (localhost, 127.0.0.0/8, ::1), where http is allowed for tests. It may
// carry a path prefix (like the real "/api"), but no user info, query or
// fragment. The API key is only ever sent to this host.
//
// Given to one call, it sends that call (and the key) to rawURL. The
// client-wide state (the 429 pauses, adaptive pacing, what the limiter
// shares with a fleet) is about the client's own base URL: such a call
// neither waits for it nor teaches it, and waits out its own 429s on its
// own.
func WithBaseURL(rawURL string) Option {
	return func(c *config) error {
		return c.setBaseURL(rawURL)
	}
}

func (c *config) setBaseURL(rawURL string) error {
	const option = "WithBaseURL"
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		// Neither the URL nor url.Error's text (which quotes it): it may
		// hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return invalidOption(option, "base URL does not parse: %v", err)
	}
	switch {
	case u.Scheme == "" || u.Host == "":
		return invalidOption(option, "base URL must be absolute (a scheme and a host), like %q", DefaultBaseURL)
	case u.User != nil:
		return invalidOption(option, "base URL must not carry user info")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return invalidOption(option, "base URL %q must not have a query or fragment", u.Redacted())
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return invalidOption(option, "base URL %q uses plain http; https is required except for loopback hosts", u.Redacted())
	case u.Scheme != "https" && u.Scheme != "http":
		return invalidOption(option, "base URL %q must use https", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	c.baseURL = u.String()
	c.baseScheme, c.baseHost = u.Scheme, u.Host
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WithHTTPClient makes the Client send requests through hc, for a custom
// transport, proxy or instrumentation. hc is used as is and never modified;
// the Client works on a shallow copy whose redirect policy refuses to follow
// a redirect to another host (so the API key stays with the API), then defers
// to hc.CheckRedirect. Set hc.Timeout or use context deadlines: a zero
// Timeout means a stalled server can hold a call until its context ends.
// (Around a Transport that is not an *http.Transport, an instrumentation
// wrapper say, net/http enforces Timeout with two goroutines per request; a
// context deadline costs less.)
//
// The SDK's own client also bounds its connections to the API host under a
// burst of concurrent calls, and its callers beyond the bound wait (see
// docs/PERFORMANCE.md, "Bursts"). For the same with hc: over HTTP/1.1, set
// the transport's MaxConnsPerHost (the SDK's: 512); over HTTP/2, net/http
// has no such bound: MaxConnsPerHost only limits how many connections are
// dialed at once (a small value, such as 4, keeps a burst from dialing one
// per caller, but over HTTP/1.1 it is also the number of requests at once),
// and HTTP2Config.StrictMaxConcurrentRequests stalls a burst larger than one
// connection's streams (golang.org/issue/70809). Bound instead how many
// calls you make at once (a semaphore, errgroup.Group.SetLimit) to what the
// connections you accept carry: connections × the server's streams per
// connection.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return invalidOption("WithHTTPClient", "nil; omit the option to use the SDK's own client")
		}
		c.callerHC, c.hc = hc, hc
		return nil
	}
}

// WithUserAgent prepends product (such as "acme-signup/1.4") to the SDK's own
// User-Agent, so Helium ID support can tell your integration's traffic apart.
func WithUserAgent(product string) Option {
	return func(c *config) error {
		product = strings.TrimSpace(product)
		if product == "" || !validHeaderValue(product) {
			return invalidOption("WithUserAgent", "%q must be non-empty printable text", product)
		}
		c.userAgent = []string{product + " " + defaultUserAgent}
		return nil
	}
}

// WithMaxRetries sets how many times a failed request is retried (default 2;
// 0 disables retries). Which failures are retried depends on the request: see
// the README's retry table. Session creation is never retried where the
// session may already exist.
func WithMaxRetries(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return invalidOption("WithMaxRetries", "%d must not be negative", n)
		}
		c.maxRetries = n
		return nil
	}
}

// WithRetryBackoff sets the exponential backoff between retries: base ×
// 2^attempt with jitter, never more than max (defaults: 500 ms, 10 s). A
// Retry-After header from the server replaces the backoff. Any max ≥ base
// > 0 is valid, math.MaxInt64 included: the doubling stops at max.
func WithRetryBackoff(base, max time.Duration) Option {
	return func(c *config) error {
		if err := checkGrowth("WithRetryBackoff", base, max); err != nil {
			return err
		}
		c.backoffBase, c.backoffMax = base, max
		return nil
	}
}

// checkGrowth validates the bounds of a wait that doubles from first to max.
func checkGrowth(option string, first, max time.Duration) error {
	if first <= 0 || max < first {
		return invalidOption(option, "needs 0 < first <= max, got %v and %v", first, max)
	}
	return nil
}

// WithRetryAfterCap sets the longest Retry-After the Client waits out on its
// own (default 30 s). When the server asks for longer, the call fails at once
// with an error matching [ErrRateLimited] whose APIError.RetryAfter says how
// long the server asked for, so your code can schedule the retry instead of
// holding a request open.
//
// The client's cap (given to NewClient) also bounds the pause a 429 imposes
// on the other requests of its class (creates, or reads), and what
// [CooldownSharer] hears: they wait out the server's Retry-After, but never
// longer than d; after that the next request finds out whether the window
// is still closed. A cap of 0 is valid: it never waits out a Retry-After,
// and never pauses: every 429 with a Retry-After fails its call at once.
//
// Given to one call, the cap is that call's own: the call waits out a
// Retry-After up to it (the part beyond the client's pause on its own),
// but the pause of the client's other requests, and of the fleet, stays
// bounded by the client's cap, whether the call's is longer or shorter. A
// call's setting never reaches the client-wide state; see [WithBaseURL],
// [WithAdaptiveRate] and [WithRateLimiter] for the others.
func WithRetryAfterCap(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return invalidOption("WithRetryAfterCap", "%v must not be negative", d)
		}
		c.retryAfterCap = d
		return nil
	}
}

// WithPollInterval sets how WaitForDecision polls: first after first, then
// doubling up to max (defaults: 1 s and 30 s). Shorten it in tests against
// heliumidtest; in production, polling more often only spends requests.
// Any max ≥ first > 0 is valid, math.MaxInt64 included.
func WithPollInterval(first, max time.Duration) Option {
	return func(c *config) error {
		if err := checkGrowth("WithPollInterval", first, max); err != nil {
			return err
		}
		c.pollFirst, c.pollMax = first, max
		return nil
	}
}

// WithRateLimiter makes every attempt to create a session (retries included:
// each counts against the server's cap) wait for l first, after the adaptive
// pacing of [WithAdaptiveRate]: use it to stay below a budget of your own, not
// to guess your plan's cap. A *rate.Limiter from golang.org/x/time/rate fits;
// for a budget shared by several processes see the redisrate module. Reads
// (get, list) are not gated. A limiter that implements [RateFeedback] hears
// the outcome of every create it gated that the client's API answered; one
// that implements [CooldownSharer] hears the pauses of those creates'
// 429s. Given to one call, l gates and hears that call only; the client's
// limiter then hears nothing of it.
func WithRateLimiter(l RateLimiter) Option {
	return func(c *config) error {
		if l == nil {
			return invalidOption("WithRateLimiter", "nil; omit the option to create without a local limit")
		}
		c.limiter = l
		return nil
	}
}

// WithLogger makes the Client log through l: a debug record per attempt
// (method, path, status, attempt, duration, request id) and a warning per
// retry and when it gives up. Records never contain the API key, request or
// response bodies, or personal data. A nil l disables logging (the default).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

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
