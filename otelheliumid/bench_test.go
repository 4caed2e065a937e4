package otelheliumid_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heliumid/heliumid-go/otelheliumid"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// BenchmarkMiddleware measures what the middleware adds to one attempt,
// around a next that answers at once: with no-op providers (OpenTelemetry
// not configured) and with the SDK's (every span sampled, the histogram
// recorded), propagating trace context.
func BenchmarkMiddleware(b *testing.B) {
	const payload = `{"status":true,"data":{"id":"x"}}`
	next := func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(payload)), Request: req}, nil
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://api.heliumid.test/api/v1/verifications/x", nil)
	if err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	for _, bm := range []struct {
		name string
		opts []otelheliumid.Option
	}{
		{"noop", []otelheliumid.Option{otelheliumid.WithTracerProvider(tracenoop.NewTracerProvider()), otelheliumid.WithMeterProvider(metricnoop.NewMeterProvider())}},
		{"sdk", []otelheliumid.Option{otelheliumid.WithTracerProvider(tp), otelheliumid.WithMeterProvider(mp)}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			mw := otelheliumid.Middleware(append(bm.opts, otelheliumid.WithPropagators(propagation.TraceContext{}))...)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := mw(req, next)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		})
	}
}
