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
// (another goroutine) gets a chance.
const (
	defaultWebhookAttempts = 3
	defaultWebhookBackoff  = 50 * time.Millisecond
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
	rateN           int       // 0: no creation cap
	ratePer         time.Duration
	webhookURL      string // "": no webhooks
	webhookAttempts int
	webhookBackoff  time.Duration
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
// per, measured on the Server's virtual clock as a sliding window: a create
// is refused while n sessions were created within the last per. A refused
// create is answered 429 with a Retry-After header (whole seconds, rounded
// up) saying when the oldest of them leaves the window. The clock moves only
// with [Server.Advance], so Advance(per) always frees the cap. Only sessions
// actually created count; gets and lists are never capped. n and per must be
// positive.
func WithRateLimit(n int, per time.Duration) Option {
	return func(c *config) {
		if n <= 0 || per <= 0 {
			c.invalid("WithRateLimit(%d, %v): n and per must be positive", n, per)
			return
		}
		c.rateN, c.ratePer = n, per
	}
}

// WithWebhookURL makes the Server POST a signed webhook to rawURL on every
// status change of a session ([Server.SetStatus], and expiry in
// [Server.Advance]), not on creation. See [Server.Deliveries] for how they
// are delivered. rawURL must be an absolute http or https URL, typically an
// httptest.Server's URL plus your handler's path.
func WithWebhookURL(rawURL string) Option {
	return func(c *config) {
		// Messages show the URL without its password (u.Redacted), and not
		// at all when it does not parse: a receiver's URL may carry a secret.
		u, err := url.Parse(rawURL)
		switch {
		case err != nil:
			c.invalid("WithWebhookURL: the URL does not parse; want an absolute http(s) URL")
			return
		case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			c.invalid("WithWebhookURL(%q): want an absolute http(s) URL", u.Redacted())
			return
		}
		c.webhookURL = rawURL
	}
}

// WithWebhookRetries sets how webhook deliveries are retried: at most
// attempts requests per event (default 3), the first at once, then after
// backoff, 2×backoff, 4×backoff … (default backoff 50 ms). attempts must be
// at least 1 and backoff must not be negative.
func WithWebhookRetries(attempts int, backoff time.Duration) Option {
	return func(c *config) {
		if attempts < 1 || backoff < 0 {
			c.invalid("WithWebhookRetries(%d, %v): want attempts >= 1 and backoff >= 0", attempts, backoff)
			return
		}
		c.webhookAttempts, c.webhookBackoff = attempts, backoff
	}
}

// WithStartTime starts the Server's virtual clock at t instead of the wall
// clock's now, for deterministic timestamps (createdAt, updatedAt) in
// golden files and examples. t is truncated to the millisecond, the
// precision of the API's timestamps, and must not be zero.
func WithStartTime(t time.Time) Option {
	return func(c *config) {
		if t.IsZero() {
			c.invalid("WithStartTime: the time must not be zero")
			return
		}
		c.start = t
	}
}
