package otelheliumid_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/heliumid/heliumid-go/otelheliumid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

func TestSpanPerCall(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	host, port := endpoint(t, srv)
	client := srv.Client(heliumid.WithMiddleware(tel.middleware()))

	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "sign-up")
	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-1"})
	require.NoError(t, err)
	_, err = client.GetVerification(ctx, created.ID)
	require.NoError(t, err)
	_, err = client.ListVerifications(ctx, &heliumid.ListVerificationsOptions{Limit: 5})
	require.NoError(t, err)
	parent.End()

	spans := tel.ended()
	require.Len(t, spans, 4, "three attempts and the parent")
	want := []struct {
		name, method, route, op string
	}{
		{"POST /v1/verifications", "POST", "/v1/verifications", "CreateVerification"},
		{"GET /v1/verifications/{id}", "GET", "/v1/verifications/{id}", "GetVerification"},
		{"GET /v1/verifications", "GET", "/v1/verifications", "ListVerifications"},
	}
	for i, w := range want {
		s := spans[i]
		assert.Equal(t, w.name, s.Name())
		assert.Equal(t, trace.SpanKindClient, s.SpanKind(), w.name)
		assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), "%s is a child of the call's span", w.name)
		assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID(), w.name)
		assert.Equal(t, map[string]any{
			"http.request.method":       w.method,
			"url.template":              w.route,
			"server.address":            host,
			"server.port":               int64(port),
			"http.response.status_code": int64(200),
			"heliumid.operation":        w.op,
		}, attrMap(s.Attributes()), w.name)
		assert.Equal(t, codes.Unset, s.Status().Code, w.name)
		assert.Empty(t, s.Events(), w.name)
		assert.Equal(t, "github.com/heliumid/heliumid-go/otelheliumid", s.InstrumentationScope().Name)
		assert.Equal(t, heliumid.Version, s.InstrumentationScope().Version)
		assert.Equal(t, semconv.SchemaURL, s.InstrumentationScope().SchemaURL)
		assert.False(t, s.EndTime().Before(s.StartTime()), w.name)
	}
}

func TestSpanWithoutParentIsARoot(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	client := srv.Client(heliumid.WithMiddleware(tel.middleware()))

	_, err := client.ListVerifications(context.Background(), nil)
	require.NoError(t, err)
	spans := tel.ended()
	require.Len(t, spans, 1)
	assert.False(t, spans[0].Parent().IsValid())
	assert.True(t, spans[0].SpanContext().IsValid())
}

func TestRetriedGetHasOneSpanPerAttempt(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	client := srv.Client(heliumid.WithMiddleware(tel.middleware()))
	created, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)
	tel.spans.Reset()

	srv.FailNext(2, heliumidtest.Failure{Status: http.StatusServiceUnavailable})
	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "poll")
	_, err = client.GetVerification(ctx, created.ID)
	require.NoError(t, err)
	parent.End()

	spans := tel.ended()
	require.Len(t, spans, 4, "three attempts and the parent")
	for i, s := range spans[:3] {
		assert.Equal(t, "GET /v1/verifications/{id}", s.Name())
		assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), "every attempt is a child of the call's span")
		attrs := attrMap(s.Attributes())
		if i == 0 {
			assert.NotContains(t, attrs, "http.request.resend_count", "the first attempt is no resend")
		} else {
			assert.Equal(t, int64(i), attrs["http.request.resend_count"])
		}
		if i < 2 {
			assert.Equal(t, int64(503), attrs["http.response.status_code"])
			assert.Equal(t, "503", attrs["error.type"])
			assert.Equal(t, codes.Error, s.Status().Code)
			assert.Empty(t, s.Status().Description)
		} else {
			assert.Equal(t, int64(200), attrs["http.response.status_code"])
			assert.NotContains(t, attrs, "error.type")
			assert.Equal(t, codes.Unset, s.Status().Code)
		}
	}
	assert.Len(t, srv.Requests(), 4, "the create and three attempts reached the server")
}

func TestNotFoundIsAnError(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	client := srv.Client(heliumid.WithMiddleware(tel.middleware()))

	_, err := client.GetVerification(context.Background(), "no-such-session")
	require.ErrorIs(t, err, heliumid.ErrNotFound)

	spans := tel.ended()
	require.Len(t, spans, 1, "a 404 is not retried")
	s := spans[0]
	assert.Equal(t, "GET /v1/verifications/{id}", s.Name())
	assert.Equal(t, codes.Error, s.Status().Code)
	assert.Empty(t, s.Status().Description, "no description: an error's text names the URL")
	assert.Empty(t, s.Events(), "no recorded error")
	attrs := attrMap(s.Attributes())
	assert.Equal(t, int64(404), attrs["http.response.status_code"])
	assert.Equal(t, "404", attrs["error.type"])
}

func TestTransportErrors(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		tel := newTelemetry(t)
		srv := newServer(t)
		client := srv.Client(heliumid.WithMiddleware(tel.middleware()))
		srv.FailNext(1, heliumidtest.Failure{Delay: time.Minute}) // ends as soon as the client gives up

		_, err := client.ListVerifications(context.Background(), nil,
			heliumid.WithRequestTimeout(2*time.Millisecond), heliumid.WithMaxRetries(0))
		require.Error(t, err)
		s := onlySpan(t, tel)
		attrs := attrMap(s.Attributes())
		assert.Equal(t, "timeout", attrs["error.type"])
		assert.NotContains(t, attrs, "http.response.status_code", "no response")
		assert.Equal(t, codes.Error, s.Status().Code)
		assert.Empty(t, s.Status().Description)
		assert.Empty(t, s.Events())
	})
	t.Run("dropped connection", func(t *testing.T) {
		tel := newTelemetry(t)
		srv := newServer(t)
		client := srv.Client(heliumid.WithMiddleware(tel.middleware()))
		// A create is not resent by net/http after a drop, nor retried by
		// the SDK (the session may exist): exactly one attempt.
		srv.FailNext(1, heliumidtest.Failure{Drop: true})

		_, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{})
		require.Error(t, err)
		s := onlySpan(t, tel)
		attrs := attrMap(s.Attributes())
		assert.Contains(t, []string{"io.EOF", "io.ErrUnexpectedEOF", "*net.OpError"}, attrs["error.type"])
		assert.Equal(t, codes.Error, s.Status().Code)
		assert.Empty(t, s.Status().Description)
	})
	t.Run("refused connection", func(t *testing.T) {
		tel := newTelemetry(t)
		srv := heliumidtest.NewServer()
		srv.Close() // nothing listens on its port any more
		client, err := heliumid.NewClient(srv.APIKey(), heliumid.WithBaseURL(srv.URL),
			heliumid.WithMaxRetries(0), heliumid.WithMiddleware(tel.middleware()))
		require.NoError(t, err)

		_, err = client.ListVerifications(context.Background(), nil)
		require.Error(t, err)
		s := onlySpan(t, tel)
		assert.Equal(t, "*net.OpError", attrMap(s.Attributes())["error.type"])
		assert.Equal(t, codes.Error, s.Status().Code)
	})
}

func onlySpan(t *testing.T, tel *telemetry) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := tel.ended()
	require.Len(t, spans, 1)
	return spans[0]
}

func TestPropagationReachesTheServer(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	client := srv.Client(heliumid.WithMiddleware(tel.middleware(otelheliumid.WithPropagators(propagation.TraceContext{}))))

	srv.FailNext(1, heliumidtest.Failure{Status: http.StatusServiceUnavailable})
	_, err := client.ListVerifications(context.Background(), nil)
	require.NoError(t, err)

	spans, reqs := tel.ended(), srv.Requests()
	require.Len(t, spans, 2)
	require.Len(t, reqs, 2)
	for i := range spans {
		sc := spans[i].SpanContext()
		want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
		assert.Equal(t, want, reqs[i].Header.Get("Traceparent"), "attempt %d carries its own span", i+1)
	}
}

func TestNoPropagatorSendsNoHeader(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	client := srv.Client(heliumid.WithMiddleware(tel.middleware(otelheliumid.WithPropagators(propagation.NewCompositeTextMapPropagator()))))

	_, err := client.ListVerifications(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, tel.ended(), 1)
	assert.Empty(t, srv.Requests()[0].Header.Get("Traceparent"))
}

func TestInnerMiddlewareSeesTheAttemptSpan(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	var seen []trace.SpanContext
	var original []http.Header
	inner := func(req *http.Request, next heliumid.MiddlewareNext) (*http.Response, error) {
		seen = append(seen, trace.SpanContextFromContext(req.Context()))
		return next(req)
	}
	outer := func(req *http.Request, next heliumid.MiddlewareNext) (*http.Response, error) {
		resp, err := next(req)
		original = append(original, req.Header.Clone())
		return resp, err
	}
	client := srv.Client(heliumid.WithMiddleware(outer, tel.middleware(otelheliumid.WithPropagators(propagation.TraceContext{})), inner))

	_, err := client.ListVerifications(context.Background(), nil)
	require.NoError(t, err)
	spans := tel.ended()
	require.Len(t, spans, 1)
	require.Len(t, seen, 1)
	assert.Equal(t, spans[0].SpanContext().SpanID(), seen[0].SpanID(), "below the middleware, the request's context holds the attempt's span")
	require.Len(t, original, 1)
	assert.Empty(t, original[0].Get("Traceparent"), "the header goes on a clone, not on the request the middleware was given")
}

func TestConcurrentCalls(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	client := srv.Client(heliumid.WithMiddleware(tel.middleware()))
	created, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)

	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := client.GetVerification(context.Background(), created.ID)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Len(t, tel.ended(), n+1)
	_, points := tel.durations(t)
	var count uint64
	for _, p := range points {
		count += p.Count
	}
	assert.Equal(t, uint64(n+1), count)
}
