package heliumid

import (
	"context"
	"errors"
	"net/http"
)

// Sentinel errors. Every error the client returns matches at most one of them
// with [errors.Is]; an error that came from an HTTP response is also an
// [*APIError], reachable with [errors.As], carrying the details.
var (
	// ErrInvalidRequest reports an argument the SDK rejected locally, before
	// any network I/O: a nil request, an unknown Method, an empty or unsafe
	// id, a nil context. Nothing was sent.
	ErrInvalidRequest = errors.New("heliumid: invalid request")

	// ErrMissingAPIKey reports that NewClient got no usable API key.
	ErrMissingAPIKey = errors.New("heliumid: missing API key: pass the key of your integration (dashboard → API keys) to NewClient")

	// ErrInvalidOption reports an Option with an invalid value given to
	// NewClient.
	ErrInvalidOption = errors.New("heliumid: invalid option")

	// ErrBadRequest reports a 400, or another 4xx without a sentinel of its
	// own: the server rejected the request; APIError.Message says why.
	ErrBadRequest = errors.New("heliumid: bad request")

	// ErrUnauthorized reports a 401 or 403: the API key is missing, invalid
	// or expired, or belongs to another integration or environment.
	ErrUnauthorized = errors.New("heliumid: unauthorized")

	// ErrNotFound reports a 404: no session has that id for this API key.
	ErrNotFound = errors.New("heliumid: not found")

	// ErrRateLimited reports a 429 (the session-creation cap), or a wait the
	// SDK refused because it would outlast the Retry-After cap or the
	// context's deadline. APIError.RetryAfter, when set, says when to try
	// again.
	ErrRateLimited = errors.New("heliumid: rate limited")

	// ErrServer reports a 5xx: Helium ID, or a proxy in front of it, failed.
	ErrServer = errors.New("heliumid: server error")

	// ErrUnexpectedResponse reports a 2xx the SDK cannot use: a body that is
	// not the documented envelope, invalid JSON, a create without data.link,
	// or a body over the size limit.
	ErrUnexpectedResponse = errors.New("heliumid: unexpected response")
)

// IsTransient reports whether err may pass on its own, so that asking again
// later can succeed. It agrees with the retry policy of reads: it is true for
// the statuses a GET is retried on (408, 429, 500, 502, 503, 504), a network
// failure, a timeout (the HTTP client's, or a context deadline: with more
// time the call may succeed), a 429 pause the SDK refused to wait out, and a
// limiter that could not grant a slot in time. It is false for nil, for
// context.Canceled (someone decided to stop), for other statuses (a 501 will
// not implement itself), and for errors that repeat until something changes
// on your side: ErrInvalidRequest, ErrUnauthorized, ErrNotFound,
// ErrBadRequest, ErrUnexpectedResponse, an invalid option or key. To tell
// whether your own context ended, check ctx.Err().
//
// The Client already retried what was safe to retry before returning err.
// For a failed CreateVerification, "transient" does not mean "create again":
// the session may exist; look it up by VendorData first.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		if apiErr.kind != nil {
			return apiErr.kind == ErrRateLimited
		}
		return retriedStatus(apiErr.StatusCode)
	}
	for _, permanent := range []error{ErrInvalidRequest, ErrMissingAPIKey, ErrInvalidOption, ErrUnauthorized,
		ErrNotFound, ErrBadRequest, ErrUnexpectedResponse} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	return true
}

// retriedStatus reports whether a read answered with status is retried: the
// GET row of the README's retry table, which IsTransient follows too.
func retriedStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
