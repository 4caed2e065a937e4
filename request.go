package heliumid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/heliumid/heliumid-go/internal/ctxwait"
	"github.com/heliumid/heliumid-go/internal/pace"
	"github.com/heliumid/heliumid-go/internal/unsent"
)

// errNilContext is what every method returns for a nil context, before any
// I/O and before any other error (see startCall).
var errNilContext = fmt.Errorf("%w: nil context; pass context.Background() or a request's context", ErrInvalidRequest)

// call is one API operation, possibly sent several times.
type call struct {
	op     string // Operation.Name
	route  string // Operation.Route
	method string
	path   string // escaped, relative to the base URL, starting with "/"
	query  string // encoded, without "?"
	body   []byte // JSON; replayed for every attempt
	create bool   // session creation: gated by the limiter, retried only when nothing can have been created
}

// requestClass is what a 429 pauses: the documented cap is on creation, so
// a create's 429 pauses creates, and a read's 429 (a proxy's, say) pauses
// reads.
type requestClass int

const (
	classRead requestClass = iota
	classCreate
	classCount
)

func (r *call) class() requestClass {
	if r.create {
		return classCreate
	}
	return classRead
}

// outcome is what one attempt came to.
type outcome struct {
	err        error
	retry      bool          // the policy allows another attempt
	retryAfter time.Duration // the server's Retry-After, 0 when absent
	rateLimit  *APIError     // set on a 429
	status     int           // the response's status; 0 without a response
	header     http.Header   // the response's headers; nil without a response
	requestID  string        // looked up only when needed (an error, a log record, ResponseInfo)
	fromAPI    bool          // the response came from the API, not from a middleware's own answer
}

var (
	headerAccept      = []string{"application/json"}
	headerContentType = []string{"application/json"}
)

// do runs the one request path of every endpoint: wait out the 429
// cool-down, wait for the limiter (creation only), send, classify, and either
// decode the envelope's data into out or retry per the policy in the README.
func (c *Client) do(ctx context.Context, cfg *config, r *call, out any) error {
	if ctx == nil {
		return errNilContext
	}
	last, sent, err := c.run(ctx, cfg, r, out)
	if cfg.info != nil {
		cfg.info.fill(c, last, sent)
	}
	return err
}

// run is do's loop of attempts. It returns the last attempt's outcome and
// how many attempts were sent, for ResponseInfo.
//
// The client-wide state (each class's cool-down, the pacer, what a limiter
// shares with a fleet) belongs to the client: a call's own settings never
// reach it. It learns only from what the client's own API answered (a call
// sent to another base URL neither waits for it nor teaches it; a response
// a middleware made up teaches it nothing), a pause is bounded by the
// client's Retry-After cap whatever the call's, and a call's
// WithAdaptiveRate only decides whether that call waits in the pacer.
func (c *Client) run(ctx context.Context, cfg *config, r *call, out any) (o outcome, sent int, err error) {
	shared := cfg.baseURL == c.baseURL
	paced := shared && r.create && !cfg.adaptiveOff
	learn := shared && r.create && (!c.adaptiveOff || !cfg.adaptiveOff)
	for attempt := 1; ; attempt++ {
		var slot pace.Slot
		if shared {
			slot, err = c.waitTurn(ctx, cfg, r, attempt, paced)
		}
		if err != nil {
			return o, sent, c.annotate(r, err)
		}
		if r.create && cfg.limiter != nil {
			if err := cfg.limiter.Wait(ctx); err != nil {
				return o, sent, c.limiterError(ctx, r, err)
			}
		}
		o = c.attempt(ctx, cfg, r, out, attempt)
		sent++
		var answered, pausedUntil time.Time
		if o.rateLimit != nil && o.retryAfter > 0 {
			answered = time.Now()
			if shared && o.fromAPI {
				pausedUntil = c.pause(ctx, cfg, r, o, answered)
			}
		}
		if r.create && o.status != 0 && shared && o.fromAPI {
			throttled := o.status == http.StatusTooManyRequests
			if learn {
				c.pacer.Observe(slot, throttled, pausedUntil)
			}
			if fb, ok := cfg.limiter.(RateFeedback); ok {
				fb.Feedback(throttled)
			}
		}
		if o.err == nil {
			return o, sent, nil
		}
		setAttempts(o.err, attempt)
		if !o.retry || attempt > cfg.maxRetries {
			if o.retry {
				cfg.warn(ctx, "heliumid: giving up", r, attempt, o.err, 0)
			}
			return o, sent, o.err
		}
		wait, fromServer := o.retryAfter, o.retryAfter > 0
		if !fromServer {
			wait = cfg.backoff(attempt)
		}
		switch {
		case fromServer && wait > cfg.retryAfterCap:
			cfg.warn(ctx, "heliumid: giving up: Retry-After is longer than the cap", r, attempt, o.err, wait)
			return o, sent, o.err
		case ctxwait.OutlastsDeadline(ctx, wait):
			cfg.warn(ctx, "heliumid: giving up: the wait would outlast the context's deadline", r, attempt, o.err, wait)
			return o, sent, o.err
		}
		cfg.warn(ctx, "heliumid: retrying", r, attempt, o.err, wait)
		if fromServer && o.rateLimit != nil {
			// The client-wide pause is waited out at the top of the loop,
			// with the other callers. What this call's own cap allows
			// beyond it, or a 429 that paused nothing (another base URL, a
			// middleware's own answer), the call waits here, on its own.
			if retryAt := answered.Add(wait); retryAt.After(pausedUntil) {
				if err := ctxwait.Sleep(ctx, time.Until(retryAt)); err != nil {
					return o, sent, c.annotate(r, err)
				}
			}
			continue
		}
		if err := ctxwait.Sleep(ctx, wait); err != nil {
			return o, sent, c.annotate(r, err)
		}
	}
}

// waitTurn holds an attempt of r until the client-wide state lets it go:
// its class's cool-down, and for a paced create (see WithAdaptiveRate) the
// pacer. Once pacing is on, the pacer serves the create class's cool-down
// too, so that its end releases the waiters at the learned rate, including
// those that began waiting just before it was on.
func (c *Client) waitTurn(ctx context.Context, cfg *config, r *call, attempt int, paced bool) (pace.Slot, error) {
	if !paced || !c.pacer.Active() {
		if err := c.cool[r.class()].wait(ctx, cfg.retryAfterCap); err != nil || !paced || !c.pacer.Active() {
			return pace.Slot{}, err
		}
	}
	cool := c.cool[classCreate]
	if _, err := cool.check(ctx, cfg.retryAfterCap); err != nil {
		return pace.Slot{}, err
	}
	return c.pacer.Wait(ctx, attempt, cool.end)
}

// pause holds back every request of r's class (not just this caller, and
// whether or not it retries) after a 429 with Retry-After, answered at now:
// they all wait for the server's window instead of each collecting its own
// 429. The pause never lasts longer than the client's Retry-After cap,
// however long the server asked for, and whatever cap the call itself was
// given: a hostile or broken server cannot stall the client (or, through a
// CooldownSharer, the fleet) for years, nor can one call's setting; once
// the cap has passed the next request finds out whether the window is
// still closed.
func (c *Client) pause(ctx context.Context, cfg *config, r *call, o outcome, now time.Time) (until time.Time) {
	d := min(o.retryAfter, c.retryAfterCap)
	if d <= 0 {
		return time.Time{}
	}
	until = now.Add(d)
	// The pause keeps a copy of its own: the caller goes on annotating its
	// error, and the others each get a copy of the pause's (cooldown.check).
	c.cool[r.class()].extend(until, o.rateLimit.clone())
	if r.create {
		cfg.shareCooldown(ctx, until) // the shared limiter gates creation only
	}
	return until
}

// backoff returns the pause before the retry that follows attempt (1-based):
// base × 2^(attempt-1), capped, with "equal jitter" (half fixed, half random)
// so that many clients do not retry in lockstep. Any base ≤ max is valid,
// math.MaxInt64 included: the doubling saturates at max.
func (cfg *config) backoff(attempt int) time.Duration {
	d := cfg.backoffBase
	for i := 1; i < attempt && d < cfg.backoffMax; i++ {
		d = doubled(d, cfg.backoffMax)
	}
	half := d / 2
	return half + rand.N(half+1)
}

// doubled returns 2d, or max when that is more (or would overflow).
func doubled(d, max time.Duration) time.Duration {
	if d > max/2 {
		return max
	}
	return 2 * d
}

// attempt sends r once and reads the response.
func (c *Client) attempt(ctx context.Context, cfg *config, r *call, out any, attempt int) outcome {
	if cfg.requestTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cfg.requestTimeout, errAttemptTimedOut)
		defer cancel() // after the body is read: the timeout bounds the whole attempt
	}
	if len(cfg.middleware) > 0 {
		// Only for the middleware that ask for it: a call without them
		// allocates no context.
		ctx = context.WithValue(ctx, operationKey{}, Operation{Name: r.op, Route: r.route, Attempt: attempt})
	} else {
		ctx = hideKeyFromTrace(ctx) // the request carries the key from the start
	}
	req, err := c.newRequest(ctx, cfg, r)
	if err != nil {
		return outcome{err: err}
	}

	// The clock is read for the debug record only.
	logging := cfg.logger != nil && cfg.logger.Enabled(ctx, slog.LevelDebug)
	var start time.Time
	if logging {
		start = time.Now()
	}
	var sent sendResult
	if len(cfg.middleware) == 0 {
		req.Header["X-Api-Key"] = c.auth.header
		sent.resp, sent.err = cfg.hc.Do(req)
		sent.fromTransport, sent.fromAPI = true, true
	} else {
		x := &exchange{c: c, cfg: cfg, body: r.body}
		sent = x.send(req)
	}
	if sent.err != nil {
		if logging {
			cfg.debug(ctx, r, attempt, 0, time.Since(start), "")
		}
		return c.transportOutcome(ctx, r, sent.err, sent.fromTransport)
	}
	resp := sent.resp
	defer resp.Body.Close()

	var o outcome
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		o.err = c.decodeSuccess(resp, out)
		if o.err != nil && !r.create && !errors.As(o.err, new(*APIError)) {
			o.retry = true // the body could not be read (a reset, a timeout): a read may try again
		}
	} else {
		o = c.errorOutcome(r, resp)
	}
	o.status, o.header, o.fromAPI = resp.StatusCode, resp.Header, sent.fromAPI
	// The request id goes on errors, in the debug record and in
	// ResponseInfo; a plain call that succeeds does not look for it.
	if o.err != nil || logging || cfg.info != nil {
		o.requestID = c.requestID(resp.Header)
	}
	if o.err != nil {
		var apiErr *APIError
		if errors.As(o.err, &apiErr) {
			apiErr.method, apiErr.path, apiErr.RequestID = r.method, r.path, o.requestID
		} else {
			o.err = c.annotate(r, o.err)
		}
	}
	if logging {
		cfg.debug(ctx, r, attempt, resp.StatusCode, time.Since(start), o.requestID)
	}
	return o
}

// newRequest builds one attempt's request, with every header but the key,
// which only the last step before the transport adds (see exchange).
func (c *Client) newRequest(ctx context.Context, cfg *config, r *call) (*http.Request, error) {
	target := cfg.baseURL + r.path
	if r.query != "" {
		target += "?" + r.query
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%w: building %s %s: %v", ErrInvalidRequest, r.method, r.path, err)
	}
	// Only the SDK's retry policy resends a request. http.NewRequest sets
	// GetBody for a bytes.Reader, and with it net/http's HTTP/2 transport
	// replays a create whose stream the server reset after reading it
	// (PROTOCOL_ERROR): each replay is a session, billed. Without GetBody
	// no layer below can rebuild the body, so the transport returns the
	// error and the policy decides (see unsent.Proven).
	req.GetBody = nil
	for name, values := range cfg.header {
		req.Header[name] = values
	}
	req.Header["Accept"] = headerAccept
	req.Header["User-Agent"] = cfg.userAgent
	if r.body != nil {
		req.Header["Content-Type"] = headerContentType
	}
	return req, nil
}

// errorOutcome turns a non-2xx response into an APIError and decides,
// by the retry table, whether another attempt is allowed.
func (c *Client) errorOutcome(r *call, resp *http.Response) outcome {
	apiErr := c.readError(resp)
	o := outcome{err: apiErr}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		// The cap was hit before the request was processed: safe to retry
		// even a create.
		o.retry, o.retryAfter, o.rateLimit = true, apiErr.RetryAfter, apiErr
	case retriedStatus(resp.StatusCode):
		// A create may have been processed before the failure: never retried.
		o.retry, o.retryAfter = !r.create, apiErr.RetryAfter
	}
	return o
}

// transportOutcome classifies an error from sending: the http.Client's
// (fromTransport), or one a middleware returned, which is retried only when
// it is a network error or a timeout as well.
func (c *Client) transportOutcome(ctx context.Context, r *call, err error, fromTransport bool) outcome {
	if ctxErr := ctx.Err(); ctxErr != nil {
		// The call's context ended, or only the attempt's (WithRequestTimeout):
		// a timeout, which a read may retry and a create may not.
		attemptOnly := context.Cause(ctx) == errAttemptTimedOut
		return outcome{err: c.annotate(r, ctxErr), retry: attemptOnly && !r.create}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its message repeats the whole URL; ours names the path
	}
	err = c.scrubTransport(err)
	switch {
	case errors.Is(err, ErrUnexpectedResponse), errors.Is(err, ErrInvalidRequest): // a refused redirect; a request a middleware sent away
		return outcome{err: c.annotate(r, err)}
	case !fromTransport && !isNetworkError(err):
		return outcome{err: c.annotate(r, err)}
	}
	// A create is retried only when the server cannot have acted on it.
	retry := !r.create || unsent.Proven(err)
	return outcome{err: c.annotate(r, err), retry: retry}
}

// errAttemptTimedOut is the cause of an attempt's context that
// WithRequestTimeout ended, to tell it from the call's own context ending.
var errAttemptTimedOut = errors.New("heliumid: the attempt took longer than WithRequestTimeout allows")

// isNetworkError reports whether err, returned by a middleware, is a
// network failure or a timeout, as a transport's would be.
func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF)
}

// annotate prefixes an error that is not an APIError with the operation.
func (c *Client) annotate(r *call, err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		apiErr.method, apiErr.path = r.method, r.path
		return err
	}
	return fmt.Errorf("heliumid: %s %s: %w", r.method, r.path, err)
}

func setAttempts(err error, n int) {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		apiErr.attempts = n
	}
}

// limiterError reports that the RateLimiter refused to wait: the context's
// error when it ended; otherwise an error matching ErrRateLimited, since no
// session may be created now (x/time/rate refuses a wait that would outlast
// the deadline; redisrate refuses while Redis is unreachable, failing
// closed). A limiter error that already matches ErrRateLimited is not
// wrapped twice.
func (c *Client) limiterError(ctx context.Context, r *call, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("heliumid: %s %s: waiting for the rate limiter: %w", r.method, r.path, ctx.Err())
	case errors.Is(err, ErrRateLimited):
		return fmt.Errorf("heliumid: %s %s: waiting for the rate limiter: %w", r.method, r.path, err)
	}
	return fmt.Errorf("%w: %s %s: waiting for the rate limiter: %w", ErrRateLimited, r.method, r.path, err)
}
