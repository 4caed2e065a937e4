package heliumid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/heliumid/heliumid-go/internal/unprocessed"
)

// Middleware sees every attempt of every call, in order: it may read or
// change the request (add a header, start a span), pass it on with next, and
// read the response or error next returns. It must return what next
// returned, or a response or error of its own.
//
// A middleware never sees the API key, on the request or on resp.Request:
// the SDK adds it after the last middleware, and only if the request still
// goes to the base URL's scheme and host. Otherwise nothing is sent and the
// attempt fails with an error matching [ErrInvalidRequest]. Nor does
// anything it attaches to the request's context observe the keyed request:
// a [net/http/httptrace.ClientTrace] there (otelhttptrace's, say) hears
// every header the transport writes but the key, which it hears as
// "[REDACTED]".
//
// A middleware may answer by itself (a circuit breaker, a stub), as a
// RoundTripper may answer net/http.Client: a response without Body or
// Header is read as an empty one. Such a response is that call's answer
// only: only what the API answered pauses the client after a 429 (see
// [WithRetryAfterCap]), teaches its pacing or reaches its limiter. An
// error a middleware returns is classified as a transport error would be:
// a network error or a timeout is retried by the usual policy; any other
// error ends the call, wrapped. Inside a middleware, [OperationFromContext]
// of req.Context() says which operation and attempt it is.
type Middleware func(req *http.Request, next MiddlewareNext) (*http.Response, error)

// MiddlewareNext sends the request on: through the next middleware, or, after
// the last one, to Helium ID. It is safe for concurrent use (hedging): each
// call sends the request and gets its own answer. Its error wraps the
// http.Client's, so errors.Is and errors.As find what the transport
// returned.
//
// A session creation goes out once per attempt, however often next is
// called: while one send of it may have reached the server, another call of
// next with the same request fails at once with an error matching
// [ErrInvalidRequest], and nothing is sent (a second session would be
// billed). A send that provably never arrived (a refused connection) may be
// made again.
type MiddlewareNext func(req *http.Request) (*http.Response, error)

// Operation names the API operation an attempt belongs to, for middleware,
// traces and metrics. It never holds an id or a query value.
type Operation struct {
	// Name is "CreateVerification", "GetVerification" or
	// "ListVerifications" (WaitForDecision polls as GetVerification,
	// AllVerifications pages as ListVerifications).
	Name string
	// Route is the path template under the base URL: "/v1/verifications"
	// or "/v1/verifications/{id}".
	Route string
	// Attempt is 1 for the first attempt of the call (of each poll, of each
	// page), 2 for its first retry, and so on.
	Attempt int
}

type operationKey struct{}

// OperationFromContext returns the operation an attempt belongs to. ok is
// true for the context of every attempt's request while it passes through
// middleware (req.Context() in a [Middleware], and below it in the
// http.Client's transport), and false elsewhere: a call without middleware
// does not pay for it.
func OperationFromContext(ctx context.Context) (op Operation, ok bool) {
	if ctx == nil {
		return Operation{}, false
	}
	op, ok = ctx.Value(operationKey{}).(Operation)
	return op, ok
}

// errLeftTheAPI is the attempt's error when a middleware sent the request
// somewhere other than the base URL's scheme and host.
var errLeftTheAPI = fmt.Errorf("%w: a middleware sent the request away from the base URL's scheme and host; the API key is only sent there, so nothing was sent", ErrInvalidRequest)

// errCreateSentTwice is next's error when a middleware sends a create's
// request again while an earlier send of it may have reached the server.
var errCreateSentTwice = fmt.Errorf("%w: a middleware sent the same session creation again while an earlier send of it may have created the session; nothing was sent (a create goes out once per attempt: a second session would be billed)", ErrInvalidRequest)

// exchange is one attempt's trip through the middleware to the transport.
// Its next (last) may be called from several goroutines at once (a hedging
// middleware): everything it writes is guarded by mu.
type exchange struct {
	c   *Client
	cfg *config
	// body is the create's JSON (nil for a read), and sdkBody the Body of
	// the request the SDK built, to recognise that request below the
	// middleware: each send of it reads a copy of body of its own.
	body    []byte
	sdkBody io.ReadCloser

	mu      sync.Mutex
	bodyOut bool // a send of the create is under way, or reached the server
	// What the transport answered, to tell it from a middleware's own
	// response: the first answer, and those of further sends (hedging).
	answered     *http.Response
	answeredMore []*http.Response
}

// sendResult is what an attempt's trip through the middleware came to.
type sendResult struct {
	resp *http.Response
	err  error
	// fromTransport: err is the http.Client's (a middleware's own error is
	// retried only when it is a network error).
	fromTransport bool
	// fromAPI: resp is what the transport answered, not a response a
	// middleware made up; only such a response may pause or teach the
	// client-wide state (see Client.run).
	fromAPI bool
}

// send runs req through cfg's middleware and then the http.Client. (Without
// middleware, attempt sends req itself, allocating none of this.) What the
// chain returns is checked here, once: a middleware may answer with a bare
// response, as a RoundTripper may answer net/http.Client.
func (x *exchange) send(req *http.Request) sendResult {
	x.sdkBody = req.Body
	next := MiddlewareNext(x.last)
	for i := len(x.cfg.middleware) - 1; i >= 0; i-- {
		mw, inner := x.cfg.middleware[i], next
		next = func(r *http.Request) (*http.Response, error) { return mw(r, inner) }
	}
	resp, err := next(req)
	var res sendResult
	switch {
	case err != nil:
		if resp != nil && resp.Body != nil {
			resp.Body.Close() // net/http.Client also ignores a response that comes with an error
		}
		var te *transportError
		res.fromTransport = errors.As(err, &te)
		if te != nil && err == error(te) {
			err = te.err // returned as next gave it: the http.Client's own error
		}
		res.err = err
		return res
	case resp == nil:
		res.err = errors.New("a middleware returned neither a response nor an error")
		return res
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	if resp.Header == nil {
		resp.Header = make(http.Header)
	}
	x.mu.Lock()
	res.fromAPI = resp == x.answered || slices.Contains(x.answeredMore, resp)
	x.mu.Unlock()
	res.resp = resp
	return res
}

// last is the step after the last middleware: check what the middleware
// passed on and where it goes, add the key to a copy the middleware never
// see, send it. It is safe for concurrent use (see exchange).
func (x *exchange) last(req *http.Request) (*http.Response, error) {
	if req == nil || req.URL == nil || req.URL.Scheme != x.cfg.baseScheme || req.URL.Host != x.cfg.baseHost {
		return nil, errLeftTheAPI
	}
	out := req.Clone(hideKeyFromTrace(req.Context()))
	out.GetBody = nil // a middleware's new request must not be replayable below the SDK either
	if out.Header == nil {
		out.Header = make(http.Header, 1) // net/http accepts a request without headers
	}
	out.Header["X-Api-Key"] = x.c.auth.header
	ownBody := x.body != nil && req.Body == x.sdkBody
	if ownBody {
		if !x.takeBody() {
			return nil, errCreateSentTwice
		}
		out.Body = io.NopCloser(bytes.NewReader(x.body))
	}
	resp, err := x.cfg.hc.Do(out)
	if err != nil {
		if ownBody && unprocessed.Proven(err) {
			x.giveBackBody() // nothing reached the server: the create may go again
		}
		return nil, &transportError{err}
	}
	resp.Request = req // the middleware's request, without the key
	x.mu.Lock()
	if x.answered == nil {
		x.answered = resp
	} else {
		x.answeredMore = append(x.answeredMore, resp)
	}
	x.mu.Unlock()
	return resp, nil
}

// takeBody claims the create's one send; false when another holds it.
func (x *exchange) takeBody() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.bodyOut {
		return false
	}
	x.bodyOut = true
	return true
}

func (x *exchange) giveBackBody() {
	x.mu.Lock()
	x.bodyOut = false
	x.mu.Unlock()
}

// transportError marks an error of the http.Client on its way up through
// the middleware, so that what the chain returns is classified without
// state shared between concurrent calls of next. It says and matches what
// it wraps (errors.Is, errors.As).
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }
