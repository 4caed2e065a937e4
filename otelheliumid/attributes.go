package otelheliumid

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// methodAttr is http.request.method: the method when the semantic
// conventions know it, else "_OTHER" (so that a method cannot blow up the
// metric's cardinality).
func methodAttr(m string) attribute.KeyValue {
	switch m {
	case http.MethodGet:
		return semconv.HTTPRequestMethodGet
	case http.MethodPost:
		return semconv.HTTPRequestMethodPost
	case http.MethodPut:
		return semconv.HTTPRequestMethodPut
	case http.MethodPatch:
		return semconv.HTTPRequestMethodPatch
	case http.MethodDelete:
		return semconv.HTTPRequestMethodDelete
	case http.MethodHead:
		return semconv.HTTPRequestMethodHead
	case http.MethodOptions:
		return semconv.HTTPRequestMethodOptions
	case http.MethodConnect:
		return semconv.HTTPRequestMethodConnect
	case http.MethodTrace:
		return semconv.HTTPRequestMethodTrace
	}
	return semconv.HTTPRequestMethodOther
}

// serverPort is the URL's port, or the scheme's default when it has none
// (0 when neither is known).
func serverPort(scheme, port string) int {
	if port != "" {
		if n, err := strconv.Atoi(port); err == nil && n > 0 && n <= 65535 {
			return n
		}
		return 0
	}
	switch scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}

// errorType names the class of a transport error (or of an error reading
// the response body) for error.type: a short, low-cardinality name, never
// the error's text, which holds the URL. Timeouts and cancellations, the
// common cases, get a word; others the Go type of the error under
// net/http's *url.Error ("*net.OpError", "*net.DNSError",
// "*tls.CertificateVerificationError", …), and an error that has nothing
// but its text "_OTHER". ctx is the attempt's: an error while it is done is
// its timeout or cancellation, whatever cause the context was given (the
// SDK's WithRequestTimeout gives one, which net/http returns instead of
// context.DeadlineExceeded).
func errorType(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(ctx.Err(), context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout"
	}
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "io.ErrUnexpectedEOF"
	case errors.Is(err, io.EOF):
		return "io.EOF"
	}
	// *url.Error is what every error of http.Client.Do is: say what it wraps.
	for {
		var ue *url.Error
		if !errors.As(err, &ue) || ue.Err == nil {
			break
		}
		err = ue.Err
	}
	t := semconv.ErrorType(err).Value.AsString()
	switch t {
	case "*errors.errorString", "*errors.joinError", "*fmt.wrapError", "*fmt.wrapErrors":
		return semconv.ErrorTypeOther.Value.AsString()
	}
	return t
}
