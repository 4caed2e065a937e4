package heliumid

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// config is what Options set: every setting a call reads. A Client holds
// the one its NewClient options made; a call given Options of its own works
// on a copy, so a call's option never leaks into the client or another call.
type config struct {
	baseURL    string // no trailing slash
	baseScheme string
	baseHost   string       // host[:port] the key may be sent to
	hc         *http.Client // guarded: see guardRedirects
	callerHC   *http.Client // as given to WithHTTPClient; nil: the SDK's own
	userAgent  []string
	header     http.Header // WithHeader's; replaced, never modified in place

	maxRetries     int
	backoffBase    time.Duration
	backoffMax     time.Duration
	retryAfterCap  time.Duration
	requestTimeout time.Duration // 0: attempts bounded by the call's context only
	pollFirst      time.Duration
	pollMax        time.Duration
	concurrency    int // GetVerifications' requests in flight; 0: defaultConcurrency

	limiter     RateLimiter
	adaptiveOff bool         // WithAdaptiveRate(false)
	logger      *slog.Logger // nil: no logging
	middleware  []Middleware // outermost first
	info        *ResponseInfo
}

// Defaults of the retry policy; see the README's "Retries" table.
const (
	defaultMaxRetries    = 2
	defaultBackoffBase   = 500 * time.Millisecond
	defaultBackoffMax    = 10 * time.Second
	defaultRetryAfterCap = 30 * time.Second
)

func defaultConfig() config {
	c := config{
		maxRetries:    defaultMaxRetries,
		backoffBase:   defaultBackoffBase,
		backoffMax:    defaultBackoffMax,
		retryAfterCap: defaultRetryAfterCap,
		pollFirst:     defaultPollFirst,
		pollMax:       defaultPollMax,
		userAgent:     []string{defaultUserAgent},
	}
	_ = c.setBaseURL(DefaultBaseURL) // valid by construction
	return c
}

// callConfig returns the settings of one call: the Client's own when the
// call has no options (no copy, nothing allocated), else a copy with opts
// applied. An invalid option fails the call here, before any I/O.
//
// Every option is applied, even after an invalid one (whose error, the
// first, is returned): a WithResponseInfo among them is reset at the call's
// start whatever the outcome, so that a ResponseInfo reused from an earlier
// call never describes that call instead of this one.
func (c *Client) callConfig(opts []Option) (*config, error) {
	if len(opts) == 0 {
		return &c.config, nil
	}
	cfg := c.config
	cfg.middleware = cfg.middleware[:len(cfg.middleware):len(cfg.middleware)] // a call's WithMiddleware appends to a copy
	var first error
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil && first == nil {
			first = err
		}
	}
	if cfg.info != nil {
		*cfg.info = ResponseInfo{}
	}
	if first != nil {
		return nil, first
	}
	if cfg.callerHC != c.callerHC {
		cfg.hc = guardRedirects(cfg.callerHC)
	}
	return &cfg, nil
}

// startCall is how every method begins: its settings (resetting a
// ResponseInfo it was given), then a nil context refused, then an invalid
// option, each before any I/O.
func (c *Client) startCall(ctx context.Context, opts []Option) (*config, error) {
	cfg, err := c.callConfig(opts)
	if ctx == nil {
		return nil, errNilContext
	}
	return cfg, err
}
