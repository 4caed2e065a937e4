package heliumidtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests drive the Server through the SDK, as a user's code would.

func TestClientCreatesAndGets(t *testing.T) {
	srv := newTestServer(t)
	client := srv.Client()
	ctx := context.Background()

	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{
		VendorData: "user-42",
		Meta:       map[string]any{"plan": "gold"},
		Method:     heliumid.MethodManual,
	})
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSuffix(srv.URL, "/api")+"/?processId="+created.ID, created.Link, "the link leads to the Server's own page")

	v, err := client.GetVerification(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, created.ID, v.ID)
	assert.Equal(t, heliumid.StatusNotStarted, v.Status)
	assert.Equal(t, 1001, v.StatusCode)
	assert.Equal(t, heliumid.MethodManual, v.Method)
	assert.Equal(t, "user-42", v.VendorData)
	assert.Equal(t, map[string]any{"plan": "gold"}, v.Meta)
	assert.True(t, v.CreatedAt.Equal(srv.Now()), "createdAt %v is the virtual clock's %v", v.CreatedAt, srv.Now())
	assert.True(t, v.ExpiresAt().Equal(srv.Now().Add(heliumid.SessionLifetime)))
	assert.Nil(t, v.DocumentInfo)

	fromServer, ok := srv.Verification(created.ID)
	require.True(t, ok)
	assert.Equal(t, v, fromServer, "Server.Verification reads what the client reads")
	_, ok = srv.Verification("nope")
	assert.False(t, ok)
}

func TestClientErrors(t *testing.T) {
	srv := newTestServer(t)
	ctx := context.Background()

	_, err := srv.Client().GetVerification(ctx, "no-such-id")
	require.ErrorIs(t, err, heliumid.ErrNotFound)
	var apiErr *heliumid.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.Regexp(t, `^req_\d+$`, apiErr.RequestID)

	stranger, err := heliumid.NewClient("sk_live_someone_else", heliumid.WithBaseURL(srv.URL), heliumid.WithHTTPClient(srv.ts.Client()))
	require.NoError(t, err)
	_, err = stranger.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.ErrorIs(t, err, heliumid.ErrUnauthorized)
}

func TestClientWithCustomKey(t *testing.T) {
	srv := newTestServer(t, WithAPIKey("sk_test_custom"))
	assert.Equal(t, "sk_test_custom", srv.APIKey())
	_, err := srv.Client().CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)
	require.Len(t, srv.Requests(), 1)
	assert.True(t, srv.Requests()[0].KeyValid)
}

func TestClientListsEveryPage(t *testing.T) {
	srv := newTestServer(t)
	client := srv.Client()
	ctx := context.Background()
	var want []string
	for i := range 45 {
		c, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: fmt.Sprintf("user-%d", i%3)})
		require.NoError(t, err)
		if i%3 == 1 {
			want = append(want, c.ID)
		}
	}

	for _, limit := range []int{0, 1, 4, 15, 100} {
		var got []string
		for v, err := range client.AllVerifications(ctx, &heliumid.ListVerificationsOptions{VendorData: "user-1", Limit: limit}) {
			require.NoError(t, err)
			got = append(got, v.ID)
		}
		assert.Equal(t, want, got, "limit %d", limit)
	}

	total := 0
	for _, err := range client.AllVerifications(ctx, nil) {
		require.NoError(t, err)
		total++
	}
	assert.Equal(t, 45, total, "the default page size (20) pages through everything")

	page, err := client.ListVerifications(ctx, &heliumid.ListVerificationsOptions{Status: heliumid.StatusNotStarted, Page: 2, Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, 10)
}

func TestClientWaitsForADecision(t *testing.T) {
	srv := newTestServer(t)
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)

	// Decided before the wait, so its first poll returns.
	walk(t, srv, created.ID, toSuccessful...)
	v, err := client.WaitForDecision(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, heliumid.StatusSuccessful, v.Status)
	assert.Equal(t, 2010, v.StatusCode)
	require.NotNil(t, v.DocumentInfo)
	assert.Equal(t, "JANE", v.DocumentInfo.FirstName)
	assert.Equal(t, "X0000000", v.DocumentInfo.DocNumber)
	require.NotNil(t, v.Document)
	assert.NotEmpty(t, v.Document.URL.Front)
	require.NotNil(t, v.Selfie)
	assert.NotEmpty(t, v.Selfie.URL)
	assert.NotContains(t, fmt.Sprintf("%v %+v", v, v), "JANE", "the SDK redacts what the fake serves")
}

func TestClientWithInvalidOptionFailsEveryCall(t *testing.T) {
	srv := newTestServer(t)
	client := srv.Client(heliumid.WithMaxRetries(-1))
	require.NotNil(t, client)
	_, err := client.GetVerification(context.Background(), "x")
	require.ErrorIs(t, err, heliumid.ErrInvalidOption)
	assert.Contains(t, err.Error(), "Server.Client")
	assert.Empty(t, srv.Requests(), "nothing reached the server")
}

func TestClientOptionsOverrideTheDefaults(t *testing.T) {
	srv := newTestServer(t)
	srv.FailNext(1, Failure{Status: http.StatusServiceUnavailable})
	_, err := srv.Client(heliumid.WithMaxRetries(0)).GetVerification(context.Background(), "x")
	require.ErrorIs(t, err, heliumid.ErrServer, "without retries the 503 is returned")
}

func TestConcurrentUse(t *testing.T) {
	srv := newTestServer(t, WithRateLimit(1000, time.Hour))
	client := srv.Client()
	ctx := context.Background()
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			var err error
			defer func() { errs <- err }()
			for range 10 {
				var c *heliumid.CreatedVerification
				if c, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "x"}); err != nil {
					return
				}
				if err = srv.SetStatus(c.ID, heliumid.StatusStarted); err != nil {
					return
				}
				if _, err = client.GetVerification(ctx, c.ID); err != nil {
					return
				}
				if _, err = client.ListVerifications(ctx, &heliumid.ListVerificationsOptions{Limit: 5}); err != nil {
					return
				}
				srv.Advance(time.Minute)
				_ = srv.Requests()
			}
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
	if t.Failed() {
		return
	}
	total := 0
	for _, err := range client.AllVerifications(ctx, &heliumid.ListVerificationsOptions{Status: heliumid.StatusStarted, Limit: 100}) {
		require.NoError(t, err)
		total++
	}
	assert.Equal(t, 80, total)
}
