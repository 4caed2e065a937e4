package otelheliumid_test

import (
	"context"
	"net/http"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func TestDurationHistogramPerAttempt(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	host, port := endpoint(t, srv)
	client := srv.Client(heliumid.WithMiddleware(tel.middleware()))

	ctx := context.Background()
	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-7"})
	require.NoError(t, err)
	srv.FailNext(1, heliumidtest.Failure{Status: http.StatusServiceUnavailable})
	_, err = client.GetVerification(ctx, created.ID) // 503, then 200
	require.NoError(t, err)
	_, err = client.GetVerification(ctx, "no-such-session") // 404
	require.Error(t, err)

	m, points := tel.durations(t)
	assert.Equal(t, "s", m.Unit)
	assert.Equal(t, "Duration of HTTP client requests.", m.Description)

	common := func(method, route string) map[string]any {
		return map[string]any{
			"http.request.method": method,
			"url.template":        route,
			"server.address":      host,
			"server.port":         int64(port),
		}
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	want := []map[string]any{
		with(common("POST", "/v1/verifications"), "http.response.status_code", int64(200)),
		with(common("GET", "/v1/verifications/{id}"), "http.response.status_code", int64(503), "error.type", "503"),
		with(common("GET", "/v1/verifications/{id}"), "http.response.status_code", int64(200)),
		with(common("GET", "/v1/verifications/{id}"), "http.response.status_code", int64(404), "error.type", "404"),
	}
	got := make([]map[string]any, 0, len(points))
	var count uint64
	for _, p := range points {
		got = append(got, attrMap(p.Attributes.ToSlice()))
		count += p.Count
		assert.Equal(t, uint64(1), p.Count, "one attempt for each attribute set: %v", p.Attributes.ToSlice())
		assert.Equal(t, []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}, p.Bounds,
			"the semantic conventions' recommended boundaries")
		assert.GreaterOrEqual(t, p.Sum, 0.0)
	}
	assert.ElementsMatch(t, want, got)
	assert.Equal(t, uint64(len(srv.Requests())), count, "one measurement per attempt that reached the server")
	assert.Len(t, tel.ended(), int(count), "as many measurements as spans")
}

func TestDurationOfATransportError(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	client := srv.Client(heliumid.WithMiddleware(tel.middleware()))
	srv.FailNext(1, heliumidtest.Failure{Drop: true})

	_, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{})
	require.Error(t, err)
	_, points := tel.durations(t)
	require.Len(t, points, 1)
	attrs := attrMap(points[0].Attributes.ToSlice())
	assert.NotContains(t, attrs, "http.response.status_code", "no response")
	assert.NotEmpty(t, attrs["error.type"])
	assert.Equal(t, uint64(1), points[0].Count)
}

// sumCount adds up the data points' counts.
func sumCount(points []metricdata.HistogramDataPoint[float64]) uint64 {
	var n uint64
	for _, p := range points {
		n += p.Count
	}
	return n
}
