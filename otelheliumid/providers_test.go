package otelheliumid_test

import (
	"context"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/otelheliumid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// setGlobals makes tel's providers and the W3C trace-context propagator
// OpenTelemetry's globals for the test. (Tests using it must not run in
// parallel.)
func setGlobals(t *testing.T, tel *telemetry) {
	tp, mp, prop := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() {
		otel.SetTracerProvider(tp)
		otel.SetMeterProvider(mp)
		otel.SetTextMapPropagator(prop)
	})
	otel.SetTracerProvider(tel.tp)
	otel.SetMeterProvider(tel.mp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
}

func TestDefaultsAreTheGlobals(t *testing.T) {
	global := newTelemetry(t)
	setGlobals(t, global)
	srv := newServer(t)
	client := srv.Client(heliumid.WithMiddleware(otelheliumid.Middleware()))

	_, err := client.ListVerifications(context.Background(), nil)
	require.NoError(t, err)
	spans := global.ended()
	require.Len(t, spans, 1, "the span went to the global tracer provider")
	assert.Equal(t, "GET /v1/verifications", spans[0].Name())
	_, points := global.durations(t)
	assert.Equal(t, uint64(1), sumCount(points), "the measurement went to the global meter provider")
	sc := spans[0].SpanContext()
	assert.Equal(t, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-01", srv.Requests()[0].Header.Get("Traceparent"),
		"the global propagator injected the span")
}

func TestOptionsOverrideTheGlobals(t *testing.T) {
	global, own := newTelemetry(t), newTelemetry(t)
	setGlobals(t, global)
	srv := newServer(t)
	mw := otelheliumid.Middleware(
		otelheliumid.WithTracerProvider(own.tp),
		otelheliumid.WithMeterProvider(own.mp),
		otelheliumid.WithPropagators(propagation.NewCompositeTextMapPropagator()),
	)
	client := srv.Client(heliumid.WithMiddleware(mw))

	_, err := client.ListVerifications(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, own.ended(), 1)
	assert.Empty(t, global.ended(), "nothing went to the global tracer provider")
	_, points := own.durations(t)
	assert.Equal(t, uint64(1), sumCount(points))
	assert.Empty(t, global.metrics(t).ScopeMetrics, "nothing went to the global meter provider")
	assert.Empty(t, srv.Requests()[0].Header.Get("Traceparent"), "the given propagator, not the global one")
}

func TestNilOptionsKeepTheDefaults(t *testing.T) {
	global := newTelemetry(t)
	setGlobals(t, global)
	srv := newServer(t)
	mw := otelheliumid.Middleware(nil, otelheliumid.WithTracerProvider(nil), otelheliumid.WithMeterProvider(nil), otelheliumid.WithPropagators(nil))
	client := srv.Client(heliumid.WithMiddleware(mw))

	_, err := client.ListVerifications(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, global.ended(), 1)
	_, points := global.durations(t)
	assert.Equal(t, uint64(1), sumCount(points))
	assert.NotEmpty(t, srv.Requests()[0].Header.Get("Traceparent"))
}

func TestUnsampledAttemptIsStillMeasuredAndPropagated(t *testing.T) {
	tel := newTelemetry(t)
	unsampled := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(tel.spans))
	t.Cleanup(func() { require.NoError(t, unsampled.Shutdown(context.Background())) })
	srv := newServer(t)
	mw := otelheliumid.Middleware(otelheliumid.WithTracerProvider(unsampled), otelheliumid.WithMeterProvider(tel.mp),
		otelheliumid.WithPropagators(propagation.TraceContext{}))
	client := srv.Client(heliumid.WithMiddleware(mw))

	_, err := client.ListVerifications(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, tel.ended(), "not sampled")
	_, points := tel.durations(t)
	assert.Equal(t, uint64(1), sumCount(points), "measured all the same")
	assert.Regexp(t, `^00-[0-9a-f]{32}-[0-9a-f]{16}-00$`, srv.Requests()[0].Header.Get("Traceparent"), "propagated, as not sampled")
}

func TestWithoutProvidersTheCallersSpanIsPropagated(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	mw := otelheliumid.Middleware(otelheliumid.WithTracerProvider(tracenoop.NewTracerProvider()),
		otelheliumid.WithMeterProvider(metricnoop.NewMeterProvider()), otelheliumid.WithPropagators(propagation.TraceContext{}))
	client := srv.Client(heliumid.WithMiddleware(mw))

	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "caller")
	_, err := client.ListVerifications(ctx, nil)
	require.NoError(t, err)
	parent.End()
	sc := parent.SpanContext()
	assert.Equal(t, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-01", srv.Requests()[0].Header.Get("Traceparent"))
	assert.Len(t, tel.ended(), 1, "only the caller's span")
}
