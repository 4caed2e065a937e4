package otelheliumid_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/heliumid/heliumid-go/otelheliumid"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// telemetry is the OpenTelemetry SDK, in memory: its own SpanRecorder and
// ManualReader behind real providers.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		ctx := context.Background()
		require.NoError(t, tel.tp.Shutdown(ctx))
		require.NoError(t, tel.mp.Shutdown(ctx))
	})
	return tel
}

// middleware is otelheliumid.Middleware on tel's providers.
func (tel *telemetry) middleware(opts ...otelheliumid.Option) heliumid.Middleware {
	return otelheliumid.Middleware(append([]otelheliumid.Option{
		otelheliumid.WithTracerProvider(tel.tp),
		otelheliumid.WithMeterProvider(tel.mp),
	}, opts...)...)
}

// ended returns the spans ended so far, in the order they ended.
func (tel *telemetry) ended() []sdktrace.ReadOnlySpan { return tel.spans.Ended() }

// metrics collects what the ManualReader holds.
func (tel *telemetry) metrics(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	return rm
}

// durations returns the http.client.request.duration histogram's data
// points, failing the test when it was not recorded.
func (tel *telemetry) durations(t *testing.T) (metricdata.Metrics, []metricdata.HistogramDataPoint[float64]) {
	t.Helper()
	for _, sm := range tel.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "http.client.request.duration" {
				h, ok := m.Data.(metricdata.Histogram[float64])
				require.True(t, ok, "http.client.request.duration is a float64 histogram, got %T", m.Data)
				return m, h.DataPoints
			}
		}
	}
	t.Fatal("no http.client.request.duration histogram was recorded")
	return metricdata.Metrics{}, nil
}

// newServer starts a heliumidtest.Server for the test.
func newServer(t *testing.T) *heliumidtest.Server {
	t.Helper()
	srv := heliumidtest.NewServer()
	t.Cleanup(srv.Close)
	return srv
}

// endpoint is the fake server's host and port, as the attributes hold them.
func endpoint(t *testing.T, srv *heliumidtest.Server) (host string, port int) {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	port, err = strconv.Atoi(u.Port())
	require.NoError(t, err)
	return u.Hostname(), port
}

// attrMap is a span's or data point's attributes by key, as plain values.
func attrMap(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}
