package heliumidtest

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIKey is the API key a Server accepts unless [WithAPIKey] says
// otherwise. It is obviously fake, so it can sit in test code and logs.
const DefaultAPIKey = "heliumidtest_key"

// Webhook delivery defaults: quick enough that a test waiting for a retry
// takes milliseconds, slow enough that a receiver restarting in a test
// (another goroutine) gets a chance. maxWebhookBackoff bounds every wait
// between attempts, however many doublings.
const (
	defaultWebhookAttempts = 3
	defaultWebhookBackoff  = 50 * time.Millisecond
	maxWebhookBackoff      = time.Hour
)

// Option configures a [Server] in [NewServer].
//
// An option given an invalid value makes NewServer panic with a message
// naming it, as httptest.NewServer panics when it cannot listen: a broken
// test setup is reported at once rather than served wrongly.
type Option func(*config)

// config is what the options set.
type config struct {
	apiKey          string
	start           time.Time // zero: the wall clock at NewServer
	wallClock       bool
	creations       func(now time.Time) creationCap // nil: no cap
	webhookURL      string                          // "": no webhooks
	webhookAttempts int
	webhookBackoff  time.Duration
	webhookObserver func(Delivery)
	resubmission    bool
	pageOrigin      string   // "": the Server's own listener
	errs            []string // invalid option values, reported by NewServer
}

func defaultConfig() config {
	return config{
		apiKey:          DefaultAPIKey,
		webhookAttempts: defaultWebhookAttempts,
		webhookBackoff:  defaultWebhookBackoff,
	}
}

func (c *config) invalid(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// WithAPIKey makes the Server accept key, instead of [DefaultAPIKey], in
// the x-api-key header, and sign webhooks with it. The key must be non-empty
// printable ASCII without spaces, as heliumid.NewClient requires; the panic
// of NewServer over an invalid key says what is wrong without showing it.
func WithAPIKey(key string) Option {
	return func(c *config) {
		// The message never quotes the key, not even a bad one: a key with
		// a stray character is usually a real key, and panics end up in logs.
		switch {
		case key == "":
			c.invalid("WithAPIKey: the key is empty")
			return
		case strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
			c.invalid("WithAPIKey: the key (%d bytes, not shown) holds a space or a character other than printable ASCII", len(key))
			return
		}
		c.apiKey = key
	}
}

// WithRateLimit caps session creation at n sessions per window of length
// per, measured on the Server's clock as a sliding window: a create is
// refused while n sessions were created within the last per. A refused
// create is answered 429 with a Retry-After header (whole seconds, rounded
// up, at least 1) saying when the oldest of them leaves the window. On the
// virtual clock, which moves only with [Server.Advance], Advance(per) always
// frees the cap. Only sessions actually created count; gets and lists are
// never capped. n and per must be positive. [WithTokenBucket] is the other
// kind of cap; the last of the two given wins, and [Server.SetRateLimit]
// changes it while the Server runs.
func WithRateLimit(n int, per time.Duration) Option {
	return func(c *config) {
		if msg := checkWindow(n, per); msg != "" {
			c.invalid("WithRateLimit(%d, %v): %s", n, per, msg)
			return
		}
		c.creations = func(time.Time) creationCap { return &windowCap{n: n, per: per} }
	}
}

// WithTokenBucket caps session creation with a strict token bucket, as
// many APIs enforce a rate: the bucket holds at most burst tokens, starts
// full, gains ratePerSecond tokens per second of the Server's clock, and
// each create takes one. A create that finds no token is refused with 429
// and a Retry-After header saying when the next token comes, in whole
// seconds rounded up and at least 1 (so against a bucket of 10 per second
// every Retry-After is 1, as against such a server in production). Use it
// with [WithWallClock] to rehearse how a client paces itself near a cap
// (burst 1 is the strictest); on the virtual clock, tokens come only with
// [Server.Advance]. Only sessions actually created take a token.
//
// It is built on golang.org/x/time/rate, driven by the Server's clock.
// ratePerSecond must be positive and finite, burst at least 1.
// [Server.SetTokenBucket] changes the rate while the Server runs.
func WithTokenBucket(ratePerSecond float64, burst int) Option {
	return func(c *config) {
		if msg := checkBucket(ratePerSecond, burst); msg != "" {
			c.invalid("WithTokenBucket(%g, %d): %s", ratePerSecond, burst, msg)
			return
		}
		c.creations = func(now time.Time) creationCap { return newBucketCap(ratePerSecond, burst, now) }
	}
}

// WithWallClock makes the Server's clock follow the wall clock: it starts
// at the wall clock's now (or at [WithStartTime]) and runs in real time,
// plus whatever [Server.Advance] adds. Sessions then expire as real time
// passes too, and the creation cap frees or refills in real time: what a
// benchmark of a client's pacing, or a server left running for manual
// tests, needs. Tests that want timestamps, expiry and the cap to move only
// when they say keep the default, virtual clock. "heliumid fake" runs on
// the wall clock unless started with --clock virtual.
func WithWallClock() Option {
	return func(c *config) { c.wallClock = true }
}

// WithWebhookURL makes the Server POST a signed webhook to rawURL on every
// status change of a session ([Server.SetStatus], and expiry in
// [Server.Advance]), not on creation. See [Server.Deliveries] for how they
// are delivered. rawURL must be an absolute http or https URL, typically an
// httptest.Server's URL plus your handler's path.
func WithWebhookURL(rawURL string) Option {
	return func(c *config) {
		if msg := checkWebhookURL(rawURL); msg != "" {
			c.invalid("WithWebhookURL%s", msg)
			return
		}
		c.webhookURL = rawURL
	}
}

// checkWebhookURL says what is wrong with a webhook URL, after the name of
// the function that got it, or "" when it is an absolute http(s) URL. The
// message shows the URL without its password (u.Redacted), and not at all
// when it does not parse: a receiver's URL may carry a secret.
func checkWebhookURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return ": the URL does not parse; want an absolute http(s) URL"
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Sprintf("(%q): want an absolute http(s) URL", u.Redacted())
	}
	return ""
}

// WithWebhookRetries sets how webhook deliveries are retried: at most
// attempts requests per event (default 3), the first at once, then after
// backoff, 2×backoff, 4×backoff … (default backoff 50 ms), each wait at most
// an hour. The defaults suit tests: a failing receiver costs a test about
// 150 ms. For a receiver you restart by hand, spread the attempts over
// minutes, as a real sender does: "heliumid fake" uses 8 attempts from 5 s
// (5 s, 10 s, 20 s … about 10 minutes in all). [Server.Redeliver] sends a
// webhook again at any time. attempts must be at least 1 and backoff
// between 0 and an hour.
func WithWebhookRetries(attempts int, backoff time.Duration) Option {
	return func(c *config) {
		if attempts < 1 || backoff < 0 || backoff > maxWebhookBackoff {
			c.invalid("WithWebhookRetries(%d, %v): want attempts >= 1 and backoff from 0 to %v", attempts, backoff, maxWebhookBackoff)
			return
		}
		c.webhookAttempts, c.webhookBackoff = attempts, backoff
	}
}

// WithWebhookObserver makes the Server call fn after every webhook delivery
// attempt, and when Close abandons a webhook, with the delivery as it then
// stands (see [Delivery]): to log deliveries as they happen (t.Logf in a
// test; "heliumid fake" logs them on standard error). fn runs on the
// Server's delivery goroutine, one call at a time, in the order of the
// attempts: it must return quickly and must not call the Server's methods
// that wait for webhooks (WaitWebhooks, Close). A nil fn observes nothing.
func WithWebhookObserver(fn func(Delivery)) Option {
	return func(c *config) { c.webhookObserver = fn }
}

// WithStartTime starts the Server's clock at t instead of the wall clock's
// now, for deterministic timestamps (createdAt, updatedAt) in golden files
// and examples. t is truncated to the millisecond, the precision of the
// API's timestamps, and must be from year 1 to 9999.
func WithStartTime(t time.Time) Option {
	return func(c *config) {
		if t.IsZero() || t.After(lastInstant) || t.Before(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)) {
			c.invalid("WithStartTime: the time must be from year 1 to 9999, and not the zero time")
			return
		}
		c.start = t
	}
}

// WithResubmission lets a failed session be resubmitted once, as Helium
// ID's session-decisions page allows: [Server.SetStatus] (and the hosted
// page's button) moves it from failed to started, once, within its 7-day
// lifetime, and it walks to a decision again. A second resubmission is
// refused with [ErrInvalidTransition] ("limit exceeded"), and a session
// that fails again carries a reason saying the resubmission is used.
// Without this option failed is final, as Helium ID's statuses page says:
// use it to test that your code applies a decision that follows a failure.
func WithResubmission() Option {
	return func(c *config) { c.resubmission = true }
}

// WithPageURL makes the links of new sessions point at the hosted
// verification page (see the package documentation) on origin, such as
// "http://127.0.0.1:8080", instead of the Server's own listener: for
// serving [Server.Handler] from a listener of your own, as "heliumid fake"
// does on its --addr. Links are then origin + "/?processId=" + the id, and
// whatever serves origin must pass "/" to Handler. origin is an absolute
// http or https URL with no path (or "/"), query, fragment or user
// information.
func WithPageURL(origin string) Option {
	return func(c *config) {
		u, err := url.Parse(origin)
		if err == nil && u.User != nil {
			c.invalid("WithPageURL: the origin must not carry user information (not shown); want one such as \"http://127.0.0.1:8080\"")
			return
		}
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			c.invalid("WithPageURL(%q): want an origin such as \"http://127.0.0.1:8080\": http or https, a host, no path, query or fragment", origin)
			return
		}
		c.pageOrigin = u.Scheme + "://" + u.Host
	}
}
