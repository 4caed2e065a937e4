package heliumid

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIError is an error response from Helium ID, or a 2xx response the SDK
// could not use. Match its class with errors.Is against the sentinels
// (ErrNotFound, ErrRateLimited, ...) rather than comparing StatusCode.
type APIError struct {
	StatusCode int           // HTTP status
	Code       int           // envelope "code", when present
	Message    string        // envelope "message", or a bounded snippet of a non-JSON body
	RequestID  string        // from the X-Request-Id or Request-Id response header, when present
	RetryAfter time.Duration // parsed Retry-After, when present
	Body       []byte        // the raw body, truncated to a few KiB

	method, path string // the request, for the message
	attempts     int    // how many attempts were made, for the message
	kind         error  // the sentinel, when it cannot be derived from the codes
	advice       string // replaces the hint, when set (DownloadMedia's errors come from another host)
}

// newAPIError builds the APIError of a response: every APIError made from
// what a server sent is made here, so every one is scrubbed the same way.
func (c *Client) newAPIError(status, code int, message string, body []byte) *APIError {
	return &APIError{StatusCode: status, Code: code, Message: c.safeText([]byte(message), maxMessage), Body: c.keep(body)}
}

// Error describes the failure and what to do about it. It never contains the
// API key or the body beyond Message.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("heliumid: ")
	if e.method != "" {
		b.WriteString(e.method + " " + e.path + ": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Code != 0 && e.Code != e.StatusCode {
		b.WriteString(" (code " + strconv.Itoa(e.Code) + ")")
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	if e.attempts > 1 {
		b.WriteString(" after " + strconv.Itoa(e.attempts) + " attempts")
	}
	if hint := e.hint(); hint != "" {
		b.WriteString("; " + hint)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and the like work: e matches the one
// sentinel its status class maps to.
func (e *APIError) Is(target error) bool {
	return target == e.sentinel()
}

func (e *APIError) sentinel() error {
	if e.kind != nil {
		return e.kind
	}
	if e.StatusCode >= 200 && e.StatusCode < 300 {
		// A 2xx whose envelope says "status": false.
		if e.Code >= 400 {
			return sentinelForStatus(e.Code)
		}
		return ErrBadRequest
	}
	return sentinelForStatus(e.StatusCode)
}

func sentinelForStatus(status int) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrUnauthorized
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500 && status < 600:
		return ErrServer
	case status >= 400 && status < 500:
		return ErrBadRequest
	}
	return ErrUnexpectedResponse
}

func (e *APIError) hint() string {
	if e.advice != "" {
		return e.advice
	}
	if e.method == http.MethodPost && e.path == "/v1/verifications" && e.mayHaveCreated() {
		// Not retried for that reason: see CreateVerification.
		return "the session may exist: look it up by VendorData (ListVerifications) before creating it again"
	}
	switch e.sentinel() {
	case ErrUnauthorized:
		return "check the API key given to NewClient (test and live keys are different integrations)"
	case ErrNotFound:
		return "check the verification id; sessions belong to the integration whose key created them"
	case ErrRateLimited:
		if e.RetryAfter > 0 {
			return "the session-creation cap was hit; try again in " + humanDuration(e.RetryAfter) + " or pace creation with WithRateLimiter"
		}
		return "the session-creation cap was hit; slow down or pace creation with WithRateLimiter"
	case ErrServer:
		return "Helium ID had a server error; retry later"
	case ErrUnexpectedResponse:
		return "the response was not what the API documents; report it with the request id"
	}
	return ""
}

// mayHaveCreated reports whether Helium ID may have acted on the request
// that got e: it failed after receiving it (5xx), or answered 2xx in a way
// the SDK could not use.
func (e *APIError) mayHaveCreated() bool {
	s := e.sentinel()
	return s == ErrServer || (s == ErrUnexpectedResponse && e.StatusCode >= 200 && e.StatusCode < 300)
}

// clone returns a copy of e that shares nothing with it.
func (e *APIError) clone() *APIError {
	c := *e
	c.Body = bytes.Clone(e.Body)
	return &c
}

// humanDuration prints d the way a person reads a wait: rounded up to whole
// seconds from a second on (milliseconds below), in days beyond two days.
// (APIError.RetryAfter itself stays exact.) It never prints a negative or
// overflowed duration, whatever a server sent.
func humanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d <= 0:
		return "0s"
	case d > 2*day:
		days := d / day
		if d%day != 0 {
			days++
		}
		return strconv.FormatInt(int64(days), 10) + " days"
	case d < time.Second:
		return roundUp(d, time.Millisecond).String()
	}
	return roundUp(d, time.Second).String()
}

// roundUp rounds d (far from overflowing) up to a multiple of unit.
func roundUp(d, unit time.Duration) time.Duration {
	if r := d.Truncate(unit); r < d {
		return r + unit
	}
	return d
}
