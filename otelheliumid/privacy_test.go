package otelheliumid_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestNothingSecretIsRecorded runs every operation, with ids, vendor data,
// query values and personal data, through successes, a retry, a 404, a
// timeout and a dropped connection, and checks that no span name,
// attribute, event, link or status description and no metric attribute
// holds any of them, the API key included.
func TestNothingSecretIsRecorded(t *testing.T) {
	tel := newTelemetry(t)
	srv := newServer(t)
	client := srv.Client(heliumid.WithMiddleware(tel.middleware()))
	ctx := context.Background()

	secrets := []string{srv.APIKey(), "vendor-data-7f3a91", "meta-value-5c2e", "filter-vendor-b81d", "missing-id-4e9c07"}
	var ids []string
	for _, vd := range []string{"vendor-data-7f3a91", "filter-vendor-b81d"} {
		created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{
			VendorData: vd, Meta: map[string]any{"note": "meta-value-5c2e"},
		})
		require.NoError(t, err)
		ids = append(ids, created.ID)
		secrets = append(secrets, created.ID, created.Link)
	}
	for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful} {
		require.NoError(t, srv.SetStatus(ids[0], st))
	}

	srv.FailNext(1, heliumidtest.Failure{Status: http.StatusServiceUnavailable})
	v, err := client.GetVerification(ctx, ids[0])
	require.NoError(t, err)
	require.NotNil(t, v.DocumentInfo, "the fake server's personal data")
	secrets = append(secrets, v.DocumentInfo.FirstName, v.DocumentInfo.LastName, v.DocumentInfo.DocNumber, v.DocumentInfo.DOB)
	_, err = client.WaitForDecision(ctx, ids[0])
	require.NoError(t, err)

	_, err = client.ListVerifications(ctx, &heliumid.ListVerificationsOptions{VendorData: "filter-vendor-b81d", Status: heliumid.StatusNotStarted})
	require.NoError(t, err)
	for _, err := range client.AllVerifications(ctx, &heliumid.ListVerificationsOptions{VendorData: "vendor-data-7f3a91", Limit: 1}) {
		require.NoError(t, err)
	}

	_, err = client.GetVerification(ctx, "missing-id-4e9c07")
	require.ErrorIs(t, err, heliumid.ErrNotFound)
	srv.FailNext(1, heliumidtest.Failure{Delay: time.Minute})
	_, err = client.GetVerification(ctx, ids[1], heliumid.WithRequestTimeout(2*time.Millisecond), heliumid.WithMaxRetries(0))
	require.Error(t, err)
	srv.FailNext(1, heliumidtest.Failure{Drop: true})
	_, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "vendor-data-7f3a91"})
	require.Error(t, err)

	for _, s := range secrets {
		require.GreaterOrEqual(t, len(s), 3, "a secret too short to search for: %q", s)
	}

	spanKeys := []string{"http.request.method", "url.template", "server.address", "server.port",
		"http.response.status_code", "error.type", "http.request.resend_count", "heliumid.operation"}
	names := []string{"POST /v1/verifications", "GET /v1/verifications/{id}", "GET /v1/verifications"}
	var recorded []string
	spans := tel.ended()
	assert.Len(t, spans, len(srv.Requests()), "one span per request the server received")
	for _, s := range spans {
		assert.Contains(t, names, s.Name())
		recorded = append(recorded, s.Name(), s.Status().Description)
		for _, kv := range s.Attributes() {
			assert.Contains(t, spanKeys, string(kv.Key), "span %s", s.Name())
		}
		recorded = appendAttrs(recorded, s.Attributes())
		for _, e := range s.Events() {
			recorded = appendAttrs(append(recorded, e.Name), e.Attributes)
		}
		for _, l := range s.Links() {
			recorded = appendAttrs(recorded, l.Attributes)
		}
	}

	metricKeys := []string{"http.request.method", "url.template", "server.address", "server.port",
		"http.response.status_code", "error.type"}
	for _, sm := range tel.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			recorded = append(recorded, m.Name, m.Description, m.Unit)
			h, ok := m.Data.(metricdata.Histogram[float64])
			require.True(t, ok, "%s is %T", m.Name, m.Data)
			for _, p := range h.DataPoints {
				for _, kv := range p.Attributes.ToSlice() {
					assert.Contains(t, metricKeys, string(kv.Key))
				}
				recorded = appendAttrs(recorded, p.Attributes.ToSlice())
				for _, e := range p.Exemplars {
					recorded = appendAttrs(recorded, e.FilteredAttributes)
				}
			}
		}
	}

	require.NotEmpty(t, recorded)
	for _, r := range recorded {
		for _, s := range secrets {
			assert.NotContains(t, r, s, "a recorded name or value holds a secret")
		}
		assert.NotContains(t, strings.ToLower(r), "http://", "a recorded value holds a URL: %q", r)
	}
}

func appendAttrs(dst []string, kvs []attribute.KeyValue) []string {
	for _, kv := range kvs {
		dst = append(dst, string(kv.Key), kv.Value.String())
	}
	return dst
}
