package otelheliumid_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heliumid/heliumid-go/otelheliumid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// These tests call the middleware directly, with a next of their own, to
// control the response body. Outside the SDK there is no Operation in the
// request's context, so the span is named by the method alone.

func newRequest(t *testing.T, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	require.NoError(t, err)
	return req
}

func respond(body io.ReadCloser) func(*http.Request) (*http.Response, error) {
	return func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Body: body, Request: req}, nil
	}
}

func TestSpanEndsWhenTheBodyIsRead(t *testing.T) {
	tel := newTelemetry(t)
	resp, err := tel.middleware()(newRequest(t, "https://api.heliumid.test/api/v1/verifications"), respond(io.NopCloser(strings.NewReader(`{"status":true}`))))
	require.NoError(t, err)
	assert.Empty(t, tel.ended(), "the attempt is not over until its response is read")
	assert.Equal(t, uint64(0), sumCount(pointsOf(t, tel)))

	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	spans := tel.ended()
	require.Len(t, spans, 1, "reading to the end ends the span")
	require.NoError(t, resp.Body.Close())
	assert.Len(t, tel.ended(), 1, "and closing does not end it twice")
	assert.Equal(t, uint64(1), sumCount(pointsOf(t, tel)), "nor measure it twice")

	s := spans[0]
	assert.Equal(t, "GET", s.Name(), "no Operation: the method alone")
	assert.Equal(t, map[string]any{
		"http.request.method":       "GET",
		"server.address":            "api.heliumid.test",
		"server.port":               int64(443),
		"http.response.status_code": int64(200),
	}, attrMap(s.Attributes()), "no url.template without an Operation; the port is https's default")
}

func TestSpanEndsWhenTheBodyIsClosedUnread(t *testing.T) {
	tel := newTelemetry(t)
	resp, err := tel.middleware()(newRequest(t, "http://api.heliumid.test/x"), respond(io.NopCloser(strings.NewReader("unread"))))
	require.NoError(t, err)
	assert.Empty(t, tel.ended())
	require.NoError(t, resp.Body.Close())
	spans := tel.ended()
	require.Len(t, spans, 1)
	assert.Equal(t, int64(80), attrMap(spans[0].Attributes())["server.port"], "http's default port")
}

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) {
	return 0, errors.New("read tcp: connection reset, reading https://api.heliumid.test/secret-id")
}
func (failingBody) Close() error { return nil }

func TestBodyReadErrorIsAnError(t *testing.T) {
	tel := newTelemetry(t)
	resp, err := tel.middleware()(newRequest(t, "https://api.heliumid.test/x"), respond(failingBody{}))
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	require.Error(t, err)
	spans := tel.ended()
	require.Len(t, spans, 1)
	attrs := attrMap(spans[0].Attributes())
	assert.Equal(t, "_OTHER", attrs["error.type"], "an error with nothing but its text")
	assert.Equal(t, int64(200), attrs["http.response.status_code"])
	assert.Equal(t, codes.Error, spans[0].Status().Code)
	assert.Empty(t, spans[0].Status().Description)
}

func TestNoBodyOrNoResponseEndsAtOnce(t *testing.T) {
	tel := newTelemetry(t)
	mw := tel.middleware()
	_, err := mw(newRequest(t, "https://api.heliumid.test/x"), respond(nil))
	require.NoError(t, err)
	resp, err := mw(newRequest(t, "https://api.heliumid.test/x"), func(*http.Request) (*http.Response, error) { return nil, nil })
	require.NoError(t, err)
	assert.Nil(t, resp, "what next returned")

	spans := tel.ended()
	require.Len(t, spans, 2)
	assert.Equal(t, codes.Unset, spans[0].Status().Code, "a response without a body")
	assert.Equal(t, codes.Error, spans[1].Status().Code, "neither a response nor an error")
	assert.Equal(t, "_OTHER", attrMap(spans[1].Attributes())["error.type"])
}

func TestRequestGivenIsLeftAlone(t *testing.T) {
	tel := newTelemetry(t)
	req := newRequest(t, "https://api.heliumid.test/x")
	req.Header.Set("X-Mine", "1")
	var sent *http.Request
	_, err := tel.middleware(otelheliumid.WithPropagators(propagation.TraceContext{}))(req, func(r *http.Request) (*http.Response, error) {
		sent = r
		return nil, errors.New("no network here")
	})
	require.Error(t, err)
	require.NotNil(t, sent)
	assert.NotSame(t, req, sent, "a clone is sent on")
	assert.NotEmpty(t, sent.Header.Get("Traceparent"))
	assert.Equal(t, "1", sent.Header.Get("X-Mine"))
	assert.Empty(t, req.Header.Get("Traceparent"), "the request given gets no header")
	assert.Len(t, tel.ended(), 1, "a transport error ends the span at once")
}

func pointsOf(t *testing.T, tel *telemetry) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	for _, sm := range tel.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
				return h.DataPoints
			}
		}
	}
	return nil
}
