// Package otelheliumid traces and measures the heliumid-go SDK's calls with
// OpenTelemetry: one client span and one http.client.request.duration
// measurement per attempt, named by the operation's route template
// ("GET /v1/verifications/{id}"), never by the URL it was sent to.
//
// It is a [heliumid.Middleware], so it sees every attempt (each retry, each
// poll of WaitForDecision, each page of AllVerifications) and knows which
// operation and attempt it is from [heliumid.OperationFromContext]:
//
//	client, err := heliumid.NewClient(apiKey, heliumid.WithMiddleware(otelheliumid.Middleware()))
//
// # What is recorded
//
// Each attempt's span is of kind Client, a child of the span in the call's
// context, named "<METHOD> <Route>", with the HTTP client semantic-convention
// attributes http.request.method, url.template (the route), server.address,
// server.port, http.response.status_code, error.type (on failure) and
// http.request.resend_count (on a retry: the attempt's number minus one),
// and heliumid.operation ("CreateVerification", "GetVerification" or
// "ListVerifications"). Its status is Error for a response of 400 or more
// and for a transport error, with no description. The histogram
// http.client.request.duration (seconds, the semantic conventions' bucket
// boundaries) gets one value per attempt, with the attributes above but for
// the resend count and the operation.
//
// An attempt ends, and its span and measurement with it, when the SDK has
// read or closed the response body, so both include reading the response.
//
// # What is never recorded
//
// No span name, attribute, event, status description or metric attribute
// holds a session id, a query value (a vendorData filter, say), vendor
// data, the API key, a body or personal data. That is why url.full, which
// the semantic conventions ask for, is left out (it holds the session id
// and the query), and why a transport error is recorded by a
// low-cardinality type in error.type ("timeout", "canceled", "*net.OpError")
// and never by its text, which names the URL. The API key never reaches a
// middleware in the first place: the SDK adds it after the last one.
//
// # Propagation
//
// The span's context is injected into the outgoing request's headers (of a
// clone: the request the middleware was given is left alone) with the
// global propagator, otel.GetTextMapPropagator(), as otelhttp's transport
// does, or with the one of [WithPropagators]. Helium ID's docs say nothing
// of trace headers; a proxy or gateway in front of it may read them. Note that a
// baggage propagator sends your baggage to Helium ID too; pass
// WithPropagators(propagation.TraceContext{}) to send trace context only, or
// WithPropagators(propagation.NewCompositeTextMapPropagator()) to send none.
package otelheliumid
