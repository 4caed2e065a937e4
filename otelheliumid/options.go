package otelheliumid

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Option configures [Middleware].
type Option func(*config)

// config is what Middleware resolves its tracer, meter and propagator from.
type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     propagation.TextMapPropagator
}

// newConfig applies opts over the global providers. A nil Option, or a nil
// provider given to one, leaves the default in place: Middleware has no
// error to return, and the default is what a caller passing nil most
// likely meant.
func newConfig(opts []Option) config {
	var c config
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	// The globals are delegates: a provider set with otel.SetTracerProvider
	// (and friends) after Middleware was called is still used.
	if c.tracerProvider == nil {
		c.tracerProvider = otel.GetTracerProvider()
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	if c.propagator == nil {
		c.propagator = otel.GetTextMapPropagator()
	}
	return c
}

// WithTracerProvider makes the middleware start its spans with tp's tracer
// instead of the global one, otel.GetTracerProvider(). A nil tp keeps the
// global one.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		if tp != nil {
			c.tracerProvider = tp
		}
	}
}

// WithMeterProvider makes the middleware record its histogram with mp's
// meter instead of the global one, otel.GetMeterProvider(). A nil mp keeps
// the global one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) {
		if mp != nil {
			c.meterProvider = mp
		}
	}
}

// WithPropagators makes the middleware inject each attempt's span context
// into the request headers with p instead of the global propagator,
// otel.GetTextMapPropagator(). propagation.TraceContext{} sends trace
// context and no baggage; propagation.NewCompositeTextMapPropagator(), with
// no argument, sends nothing. A nil p keeps the global one.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return func(c *config) {
		if p != nil {
			c.propagator = p
		}
	}
}
