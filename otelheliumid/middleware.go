package otelheliumid

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
	"go.opentelemetry.io/otel/trace"
)

// scopeName is the instrumentation scope of the spans and the histogram.
const scopeName = "github.com/heliumid/heliumid-go/otelheliumid"

// OperationKey is the span attribute naming the SDK operation an attempt
// belongs to: [heliumid.Operation]'s Name, such as "GetVerification".
const OperationKey = attribute.Key("heliumid.operation")

// Middleware returns a [heliumid.Middleware] that traces and measures every
// attempt of every call it is given to (see the package documentation for
// what it records, and what it never does). Give it to the client, to trace
// every call, or to one call:
//
//	client, err := heliumid.NewClient(apiKey, heliumid.WithMiddleware(otelheliumid.Middleware()))
//
// Without options it uses the global tracer provider, meter provider and
// propagator (otel.GetTracerProvider(), otel.GetMeterProvider(),
// otel.GetTextMapPropagator()) as they are when Middleware is called: set
// them first, at start-up. (One made before any is set follows the first
// one set, as OpenTelemetry's globals delegate until then.) The tracer, the
// meter and the histogram are made here, once, not per attempt: call
// Middleware once and reuse what it returns.
//
// When the span is not recorded and no reader wants the histogram
// (OpenTelemetry not configured, say), an attempt costs little more than
// the clone of its request that carries the propagated headers.
//
// Give it outermost (first) when other middleware run too, so that its span
// covers them and the span context it injects reaches the server.
func Middleware(opts ...Option) heliumid.Middleware {
	cfg := newConfig(opts)
	in := &instruments{
		tracer: cfg.tracerProvider.Tracer(scopeName,
			trace.WithInstrumentationVersion(heliumid.Version),
			trace.WithSchemaURL(semconv.SchemaURL)),
		propagator: cfg.propagator,
	}
	meter := cfg.meterProvider.Meter(scopeName,
		metric.WithInstrumentationVersion(heliumid.Version),
		metric.WithSchemaURL(semconv.SchemaURL))
	var err error
	in.duration, err = httpconv.NewClientRequestDuration(meter)
	if err != nil {
		// The histogram is then a no-op; tracing goes on. OpenTelemetry's
		// error handler is where the API reports such errors.
		otel.Handle(err)
	}
	return in.handle
}

// instruments are what one Middleware call resolved, shared by every
// attempt it sees (concurrently: they are all safe for concurrent use).
type instruments struct {
	tracer     trace.Tracer
	duration   httpconv.ClientRequestDuration
	propagator propagation.TextMapPropagator
}

// handle is the middleware: start the attempt's span, send a clone of req
// carrying it, and end the span once the response is read.
func (in *instruments) handle(req *http.Request, next heliumid.MiddlewareNext) (*http.Response, error) {
	a, out := in.start(req)
	if !a.span.IsRecording() && !in.duration.Enabled(a.ctx) {
		// Nothing to record (OpenTelemetry not configured, or the span not
		// sampled and no reader for the histogram): propagate only.
		a.span.End()
		return next(out)
	}
	resp, err := next(out)
	switch {
	case err != nil:
		if resp != nil {
			a.status = resp.StatusCode
		}
		a.end(err)
	case resp == nil:
		a.end(errNoResponse) // the SDK reports it; the span must still end
	case resp.Body == nil:
		a.status = resp.StatusCode
		a.end(nil)
	default:
		a.status = resp.StatusCode
		resp.Body = &body{rc: resp.Body, a: a}
	}
	return resp, err
}

// errNoResponse stands for a middleware below this one returning neither a
// response nor an error.
var errNoResponse = errors.New("otelheliumid: no response and no error")

// attempt is one attempt's span and measurement, ended once.
type attempt struct {
	in    *instruments
	ctx   context.Context // the span's
	span  trace.Span
	begin time.Time
	// base holds the request's attributes, which the span and the
	// histogram share: method, url.template, server.address, server.port.
	base   []attribute.KeyValue
	status int // the response's status code; 0 without one
	once   sync.Once
}

// start starts req's span and returns the clone of req to send, which
// carries the span in its context and the span context in its headers.
func (in *instruments) start(req *http.Request) (*attempt, *http.Request) {
	op, known := heliumid.OperationFromContext(req.Context())
	method := methodAttr(req.Method)

	a := &attempt{in: in, begin: time.Now(), base: make([]attribute.KeyValue, 0, 6)}
	a.base = append(a.base, method)
	if known && op.Route != "" {
		a.base = append(a.base, semconv.URLTemplate(op.Route))
	}
	if req.URL != nil {
		a.base = append(a.base, semconv.ServerAddress(req.URL.Hostname()))
		if port := serverPort(req.URL.Scheme, req.URL.Port()); port > 0 {
			a.base = append(a.base, semconv.ServerPort(port))
		}
	}

	spanAttrs := make([]attribute.KeyValue, len(a.base), len(a.base)+2)
	copy(spanAttrs, a.base)
	if known {
		spanAttrs = append(spanAttrs, OperationKey.String(op.Name))
		if op.Attempt > 1 {
			spanAttrs = append(spanAttrs, semconv.HTTPRequestResendCount(op.Attempt-1))
		}
	}
	a.ctx, a.span = in.tracer.Start(req.Context(), spanName(method.Value.AsString(), op.Route),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(spanAttrs...),
		trace.WithTimestamp(a.begin))

	out := req.Clone(a.ctx)
	if out.Header == nil {
		out.Header = make(http.Header)
	}
	in.propagator.Inject(a.ctx, propagation.HeaderCarrier(out.Header))
	return a, out
}

// end ends the attempt (the first time only): err is a transport error, or
// an error reading the body, or nil.
func (a *attempt) end(err error) {
	a.once.Do(func() {
		now := time.Now()
		var errType string
		switch {
		case a.status >= 400:
			errType = strconv.Itoa(a.status)
		case err != nil:
			errType = errorType(a.ctx, err)
		}

		attrs := make([]attribute.KeyValue, len(a.base), len(a.base)+2)
		copy(attrs, a.base)
		if a.status > 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(a.status))
		}
		if errType != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
			// No description: an error's text names the URL, and with it
			// the session id or the query.
			a.span.SetStatus(codes.Error, "")
		}
		a.span.SetAttributes(attrs[len(a.base):]...)
		a.in.duration.RecordSet(a.ctx, now.Sub(a.begin).Seconds(), attribute.NewSet(attrs...))
		a.span.End(trace.WithTimestamp(now))
	})
}

// spanName is "<METHOD> <route>", as the semantic conventions name a client
// span with a URL template; "HTTP" stands for a method they do not know.
func spanName(method, route string) string {
	if method == "_OTHER" {
		method = "HTTP"
	}
	if route == "" {
		return method
	}
	return method + " " + route
}
