package heliumid

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heliumid/heliumid-go/internal/safetext"
)

// Every Option of the package, client-wide and per call, is here. (The
// options of ParseWebhook and WebhookHandler, WebhookOption, are in
// webhooks_options.go.)

// Option configures a [Client] in [NewClient] (every call of that client),
// or one call, given after the call's arguments (that call only, over the
// client's setting). An option given an invalid value makes NewClient, or
// the call, return an error matching [ErrInvalidOption] that names it; a
// call fails so before any network I/O.
type Option func(*config) error

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

// WithAdaptiveRate turns the Client's adaptive pacing of session creation on
// or off (default on).
//
// Helium ID caps session creation per plan and does not publish the number.
// With adaptive pacing, a Client that has been answered 429 on a create
// paces every create attempt, in every goroutine, at a rate it learns from
// the server's answers, in the manner of the AWS SDK's adaptive retry mode:
// cut on throttles, grown back while creates succeed. It holds just under
// the highest rate that succeeded and probes above it less and less often
// while the cap stays where it was (again sooner once it moved). One 429 at
// the held rate steps it a little lower (two creates bunched by the
// network); a second cuts it by 30 % (the cap fell). Before the
// first 429 nothing is paced, and reads are never paced. When a 429's pause
// ends, the waiting creates go out at the learned rate, not all at once, and
// those on their later attempts first, so that no call runs out of retries
// behind fresh ones.
//
// It combines with [WithRateLimiter]: a create waits for both. You do not
// need to know your cap; set WithRateLimiter only to stay below a budget of
// your own. WithAdaptiveRate(false) restores the behaviour of 0.1: nothing
// paced, every waiting create sent when a pause ends.
//
// Given to one call, it decides whether that call waits in the client's
// pacing, nothing more: a client that paces still learns from the answers
// to a call that does not, and on a client that does not pace, the calls
// given WithAdaptiveRate(true) pace among themselves, without ever holding
// back the client's other creates.
func WithAdaptiveRate(on bool) Option {
	return func(c *config) error {
		c.adaptiveOff = !on
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

// WithConcurrency sets how many sessions [Client.GetVerifications] fetches
// at once (default 8; n ≥ 1, else [ErrInvalidOption]). Other calls send one
// request at a time and ignore it.
func WithConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return invalidOption("WithConcurrency", "%d must be at least 1", n)
		}
		c.concurrency = n
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

// WithMiddleware runs mw around every attempt, the first given outermost.
// Several WithMiddleware add up in the order given; a client's middleware
// (given to NewClient) runs outside a call's. A nil middleware is refused.
func WithMiddleware(mw ...Middleware) Option {
	return func(c *config) error {
		for i, m := range mw {
			if m == nil {
				return invalidOption("WithMiddleware", "middleware %d of %d is nil", i+1, len(mw))
			}
		}
		c.middleware = append(c.middleware, mw...)
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
