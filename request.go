package heliumid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/heliumid/heliumid-go/internal/unprocessed"
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
	create bool   // session creation: paced and gated (see admission), retried only when nothing can have been created
}

// outcome is what one attempt came to.
type outcome struct {
	err        error
	retry      bool          // the policy allows another attempt
	retryAfter time.Duration // the server's Retry-After, 0 when absent
	rateLimit  *APIError     // set on a 429
	answered   time.Time     // when a 429 arrived, which its Retry-After counts from
	status     int           // the response's status; 0 without a response
	header     http.Header   // the response's headers; nil without a response
	requestID  string        // looked up only when needed (an error, a log record, ResponseInfo)
	fromAPI    bool          // there is a response, and the API sent it: not a middleware's own answer
}

var (
	headerAccept      = []string{"application/json"}
	headerContentType = []string{"application/json"}
)

// do runs the one request path of every endpoint (see run), and fills the
// call's ResponseInfo.
func (c *Client) do(ctx context.Context, cfg *config, r *call, out any) error {
	last, sent, err := c.run(ctx, cfg, r, out)
	if cfg.info != nil {
		cfg.info.fill(c, last, sent)
	}
	return err
}

// run is the loop of attempts of a call: admitted (the 429 cool-down; for
// a create the pace and the limiter: see admission), sent and read
// (attempt), reported to what admitted it, then returned, or retried per
// the policy in the README. It returns the last attempt's outcome and how
// many attempts were sent, for ResponseInfo.
func (c *Client) run(ctx context.Context, cfg *config, r *call, out any) (o outcome, sent int, err error) {
	for attempt := 1; ; attempt++ {
		t, err := c.admit(ctx, cfg, r, attempt)
		if err != nil {
			return o, sent, err
		}
		o = c.attempt(ctx, cfg, r, out, attempt)
		sent++
		pausedUntil := t.report(ctx, o)
		if o.err == nil {
			return o, sent, nil
		}
		setAttempts(o.err, attempt)
		wait, retry, why := cfg.retryDelay(ctx, o, attempt)
		if why != "" {
			cfg.warn(ctx, why, r, attempt, o.err, wait)
		}
		if !retry {
			return o, sent, o.err
		}
		if o.rateLimit != nil && o.retryAfter > 0 {
			// The Retry-After counts from the answer. The client's pause
			// (until pausedUntil), admit waits out with the other callers;
			// what the call's own cap allows beyond it, or all of it when
			// the 429 paused nothing (another base URL, a middleware's own
			// answer), the call waits here, on its own.
			retryAt := o.answered.Add(wait)
			wait = 0
			if retryAt.After(pausedUntil) {
				wait = time.Until(retryAt)
			}
		}
		if err := sleep(ctx, wait); err != nil {
			return o, sent, c.annotate(r, err)
		}
	}
}

// retryDelay applies the retry policy to an attempt that failed with o:
// whether the call tries again (retry), after how long (the server's
// Retry-After, else the backoff), and the warning to log about it (why;
// "" for a failure that is never retried). A call gives up when its
// retries are spent, when the server asks for longer than the call's
// Retry-After cap, and when the wait would outlast ctx's deadline.
func (cfg *config) retryDelay(ctx context.Context, o outcome, attempt int) (wait time.Duration, retry bool, why string) {
	switch {
	case !o.retry:
		return 0, false, ""
	case attempt > cfg.maxRetries:
		return 0, false, "heliumid: giving up"
	}
	wait, fromServer := o.retryAfter, o.retryAfter > 0
	if !fromServer {
		wait = cfg.backoff(attempt)
	}
	switch {
	case fromServer && wait > cfg.retryAfterCap:
		return wait, false, "heliumid: giving up: Retry-After is longer than the cap"
	case outlastsDeadline(ctx, wait):
		return wait, false, "heliumid: giving up: the wait would outlast the context's deadline"
	}
	return wait, true, "heliumid: retrying"
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
	// error and the policy decides (see unprocessed.Proven).
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
		o.retry, o.retryAfter, o.rateLimit, o.answered = true, apiErr.RetryAfter, apiErr, time.Now()
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
	retry := !r.create || unprocessed.Proven(err)
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
