package heliumid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/heliumid/heliumid-go/internal/ctxwait"
)

// errNilContext is what every method returns for a nil context, before
// anything else.
var errNilContext = fmt.Errorf("%w: nil context; pass context.Background() or a request's context", ErrInvalidRequest)

// call is one API operation, possibly sent several times.
type call struct {
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
}

var (
	headerAccept      = []string{"application/json"}
	headerContentType = []string{"application/json"}
)

// do runs c's one request path for every endpoint: wait out the 429
// cool-down, wait for the limiter (creation only), send, classify, and either
// decode the envelope's data into out or retry per the policy in the README.
func (c *Client) do(ctx context.Context, r *call, out any) error {
	if ctx == nil {
		return errNilContext
	}
	for attempt := 1; ; attempt++ {
		if err := c.cool[r.class()].wait(ctx, c.retryAfterCap); err != nil {
			return c.annotate(r, err)
		}
		if r.create && c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return c.limiterError(ctx, r, err)
			}
		}
		o := c.attempt(ctx, r, out, attempt)
		if o.err == nil {
			return nil
		}
		setAttempts(o.err, attempt)
		if o.rateLimit != nil && o.retryAfter > 0 {
			c.pause(ctx, r, o)
		}
		if !o.retry || attempt > c.maxRetries {
			if o.retry {
				c.warn(ctx, "heliumid: giving up", r, attempt, o.err, 0)
			}
			return o.err
		}
		wait, fromServer := o.retryAfter, o.retryAfter > 0
		if !fromServer {
			wait = c.backoff(attempt)
		}
		switch {
		case fromServer && wait > c.retryAfterCap:
			c.warn(ctx, "heliumid: giving up: Retry-After is longer than the cap", r, attempt, o.err, wait)
			return o.err
		case ctxwait.OutlastsDeadline(ctx, wait):
			c.warn(ctx, "heliumid: giving up: the wait would outlast the context's deadline", r, attempt, o.err, wait)
			return o.err
		}
		c.warn(ctx, "heliumid: retrying", r, attempt, o.err, wait)
		if fromServer && o.rateLimit != nil {
			continue // the cool-down at the top of the loop does the waiting
		}
		if err := ctxwait.Sleep(ctx, wait); err != nil {
			return c.annotate(r, err)
		}
	}
}

// pause holds back every request of r's class (not just this caller, and
// whether or not it retries) after a 429 with Retry-After: they all wait for
// the server's window instead of each collecting its own 429. The pause
// never lasts longer than the Retry-After cap, however long the server asked
// for: a hostile or broken server cannot stall the client (or, through a
// CooldownSharer, the fleet) for years, and once the cap has passed the next
// request finds out whether the window is still closed.
func (c *Client) pause(ctx context.Context, r *call, o outcome) {
	d := min(o.retryAfter, c.retryAfterCap)
	if d <= 0 {
		return
	}
	until := time.Now().Add(d)
	c.cool[r.class()].extend(until, o.rateLimit)
	if r.create {
		c.shareCooldown(ctx, until) // the shared limiter gates creation only
	}
}

// backoff returns the pause before the retry that follows attempt (1-based):
// base × 2^(attempt-1), capped, with "equal jitter" (half fixed, half random)
// so that many clients do not retry in lockstep.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.backoffBase
	for i := 1; i < attempt && d < c.backoffMax; i++ {
		d *= 2
	}
	d = min(d, c.backoffMax)
	half := d / 2
	return half + rand.N(half+1)
}

// attempt sends r once and reads the response.
func (c *Client) attempt(ctx context.Context, r *call, out any, attempt int) outcome {
	target := c.baseURL + r.path
	if r.query != "" {
		target += "?" + r.query
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return outcome{err: fmt.Errorf("%w: building %s %s: %v", ErrInvalidRequest, r.method, r.path, err)}
	}
	// Only the SDK's retry policy resends a request. http.NewRequest sets
	// GetBody for a bytes.Reader, and with it net/http's HTTP/2 transport
	// replays a create whose stream the server reset after reading it
	// (PROTOCOL_ERROR): each replay is a session, billed. Without GetBody
	// no layer below can rebuild the body, so the transport returns the
	// error and the policy below decides (see notProcessed).
	req.GetBody = nil
	req.Header["X-Api-Key"] = c.auth.header
	req.Header["Accept"] = headerAccept
	req.Header["User-Agent"] = c.userAgent
	if r.body != nil {
		req.Header["Content-Type"] = headerContentType
	}

	// The clock is read for the debug record only.
	logging := c.logger != nil && c.logger.Enabled(ctx, slog.LevelDebug)
	var start time.Time
	if logging {
		start = time.Now()
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if logging {
			c.debug(ctx, r, attempt, 0, time.Since(start), "")
		}
		return c.transportOutcome(ctx, r, err)
	}
	defer resp.Body.Close()

	var o outcome
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		o.err = c.decodeSuccess(resp, out)
	} else {
		o = c.errorOutcome(r, resp)
	}
	// The request id goes on errors and in the debug record; a call that
	// succeeds unlogged does not look for it.
	var reqID string
	if o.err != nil || logging {
		reqID = c.requestID(resp.Header)
	}
	if o.err != nil {
		var apiErr *APIError
		if errors.As(o.err, &apiErr) {
			apiErr.method, apiErr.path, apiErr.RequestID = r.method, r.path, reqID
		}
	}
	if logging {
		c.debug(ctx, r, attempt, resp.StatusCode, time.Since(start), reqID)
	}
	return o
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

// transportOutcome classifies an error from http.Client.Do.
func (c *Client) transportOutcome(ctx context.Context, r *call, err error) outcome {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return outcome{err: c.annotate(r, ctxErr)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its message repeats the whole URL; ours names the path
	}
	err = c.scrubTransport(err)
	if errors.Is(err, ErrUnexpectedResponse) { // a refused redirect
		return outcome{err: c.annotate(r, err)}
	}
	// A create is retried only when the server cannot have acted on it.
	retry := !r.create || notProcessed(err)
	return outcome{err: c.annotate(r, err), retry: retry}
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

func (c *Client) shareCooldown(ctx context.Context, until time.Time) {
	sharer, ok := c.limiter.(CooldownSharer)
	if !ok {
		return
	}
	if err := sharer.ShareCooldown(ctx, until); err != nil && c.logger != nil {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "heliumid: could not share the 429 cool-down with the rate limiter",
			slog.String("error", err.Error()))
	}
}

func (c *Client) debug(ctx context.Context, r *call, attempt, status int, d time.Duration, reqID string) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "heliumid: request",
		slog.String("method", r.method),
		slog.String("path", r.path),
		slog.Int("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("duration", d),
		slog.String("request_id", reqID))
}

func (c *Client) warn(ctx context.Context, msg string, r *call, attempt int, err error, wait time.Duration) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelWarn) {
		return
	}
	status := 0 // a transport error has none
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		status = apiErr.StatusCode
	}
	c.logger.LogAttrs(ctx, slog.LevelWarn, msg,
		slog.String("method", r.method),
		slog.String("path", r.path),
		slog.Int("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("wait", wait),
		slog.String("error", err.Error()))
}
