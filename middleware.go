package heliumid

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Middleware sees every attempt of every call, in order: it may read or
// change the request (add a header, start a span), pass it on with next, and
// read the response or error next returns. It must return what next
// returned, or a response or error of its own.
//
// A middleware never sees the API key, on the request or on resp.Request:
// the SDK adds it after the last middleware, and only if the request still
// goes to the base URL's scheme and host. Otherwise nothing is sent and the
// attempt fails with an error matching [ErrInvalidRequest]. An error a
// middleware returns is classified as a transport error would be: a network
// error or a timeout is retried by the usual policy; any other error ends
// the call, wrapped. Inside a middleware, [OperationFromContext] of
// req.Context() says which operation and attempt it is.
type Middleware func(req *http.Request, next MiddlewareNext) (*http.Response, error)

// MiddlewareNext sends the request on: through the next middleware, or, after
// the last one, to Helium ID.
type MiddlewareNext func(req *http.Request) (*http.Response, error)

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

// exchange is one attempt's trip through the middleware to the transport.
type exchange struct {
	c   *Client
	cfg *config
	// transportErr is what the http.Client returned, to tell it from an
	// error of a middleware's own.
	transportErr error
}

// send runs req through cfg's middleware and then the http.Client. (Without
// middleware, attempt sends req itself, allocating none of this.)
func (x *exchange) send(req *http.Request) (*http.Response, error) {
	next := MiddlewareNext(x.last)
	for i := len(x.cfg.middleware) - 1; i >= 0; i-- {
		mw, inner := x.cfg.middleware[i], next
		next = func(r *http.Request) (*http.Response, error) { return mw(r, inner) }
	}
	resp, err := next(req)
	if err == nil && resp == nil {
		err = errors.New("a middleware returned neither a response nor an error")
	}
	return resp, err
}

// last is the step after the last middleware: check where the request goes,
// add the key to a copy the middleware never see, send it.
func (x *exchange) last(req *http.Request) (*http.Response, error) {
	if req == nil || req.URL == nil || req.URL.Scheme != x.cfg.baseScheme || req.URL.Host != x.cfg.baseHost {
		return nil, errLeftTheAPI
	}
	out := req.Clone(req.Context())
	out.GetBody = nil // a middleware's new request must not be replayable below the SDK either
	out.Header["X-Api-Key"] = x.c.auth.header
	resp, err := x.cfg.hc.Do(out)
	x.transportErr = err
	if resp != nil {
		resp.Request = req // the middleware's request, without the key
	}
	return resp, err
}
