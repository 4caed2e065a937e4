package heliumidtest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
)

// A test creates a session through the SDK, plays the end-user with
// SetStatus, and reads the decision, all on loopback.
func Example() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-42"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(created.ID)
	// created.Link is the Server's hosted page for the end-user,
	// http://127.0.0.1:<port>/?processId=<id>: a browser test clicks
	// through it. Here the test plays the end-user, who passes:
	for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful} {
		if err := srv.SetStatus(created.ID, st); err != nil {
			fmt.Println(err)
			return
		}
	}

	v, err := client.WaitForDecision(ctx, created.ID) // decided already: the first poll returns
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Status, v.StatusCode, v.DocumentInfo.FirstName, v.DocumentInfo.LastName)
	// Output:
	// 7e570000-0000-4000-8000-000000000001
	// successful 2010 JANE DOE
}

// SetStatus enforces the session lifecycle: a session gets to a decision
// one step at a time.
func ExampleServer_SetStatus() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	created, _ := srv.Client().CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{})

	err := srv.SetStatus(created.ID, heliumid.StatusSuccessful)
	fmt.Println(errors.Is(err, heliumidtest.ErrInvalidTransition))
	fmt.Println(err)
	// Output:
	// true
	// heliumidtest: transition not allowed by the lifecycle: session 7e570000-0000-4000-8000-000000000001 cannot go from "not started" to "successful"; from "not started" it can go to "started" or "expired"
}

// Advance moves the virtual clock: a week later, a session nobody opened
// has expired.
func ExampleServer_Advance() {
	srv := heliumidtest.NewServer(heliumidtest.WithStartTime(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	created, _ := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})

	srv.Advance(heliumid.SessionLifetime)

	v, _ := client.GetVerification(ctx, created.ID)
	fmt.Println(v.Status, v.StatusCode, v.UpdatedAt.Format(time.RFC3339))
	// Output:
	// expired 5000 2025-01-08T12:00:00Z
}

// FailNext makes the next requests fail; Requests shows what the client did
// about it.
func ExampleServer_FailNext() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	srv.FailNext(2, heliumidtest.Failure{Status: http.StatusServiceUnavailable})

	_, err := srv.Client().ListVerifications(context.Background(), nil)
	fmt.Println("error:", err)
	for _, r := range srv.Requests() {
		fmt.Println(r.Method, r.Path, r.Status)
	}
	// Output:
	// error: <nil>
	// GET /api/v1/verifications 503
	// GET /api/v1/verifications 503
	// GET /api/v1/verifications 200
}

// WithRateLimit caps session creation; the clock frees the cap.
func ExampleWithRateLimit() {
	srv := heliumidtest.NewServer(heliumidtest.WithRateLimit(1, time.Minute))
	defer srv.Close()
	ctx := context.Background()
	client := srv.Client()

	_, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	fmt.Println("first:", err)
	_, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	var apiErr *heliumid.APIError
	if errors.Is(err, heliumid.ErrRateLimited) && errors.As(err, &apiErr) {
		fmt.Println("second: rate limited, retry after", apiErr.RetryAfter)
	}

	srv.Advance(time.Minute)
	// The same client: with the Retry-After cap of 0 that Client sets, a
	// 429 fails its call at once and pauses nothing after it.
	_, err = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	fmt.Println("a minute later:", err)
	// Output:
	// first: <nil>
	// second: rate limited, retry after 1m0s
	// a minute later: <nil>
}

// WithWebhookURL sends a signed webhook on every status change to your
// handler; here, the SDK's own WebhookHandler.
func ExampleWithWebhookURL() {
	got := make(chan string, 10)
	hook := httptest.NewServer(heliumid.WebhookHandler(heliumidtest.DefaultAPIKey,
		func(_ context.Context, ev *heliumid.WebhookEvent) error {
			got <- ev.Event + ": " + string(ev.Data.Status)
			return nil
		}))
	defer hook.Close()
	srv := heliumidtest.NewServer(heliumidtest.WithWebhookURL(hook.URL))
	defer srv.Close()

	ctx := context.Background()
	created, _ := srv.Client().CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	_ = srv.SetStatus(created.ID, heliumid.StatusStarted)
	_ = srv.SetStatus(created.ID, heliumid.StatusSubmitted)
	_ = srv.SetStatus(created.ID, heliumid.StatusReview)
	if err := srv.WaitWebhooks(ctx); err != nil {
		fmt.Println(err)
		return
	}
	close(got)
	for ev := range got {
		fmt.Println(ev)
	}
	// Output:
	// verification.status: started
	// verification.status: submitted
	// verification.status: review
}

// WebhookBody tests a webhook handler on its own, without a Server: build
// the body Helium ID would send, sign it as Helium ID does, and serve it to
// the handler.
func ExampleWebhookBody() {
	const key = "your-integration-key" // webhooks are signed with the API key
	handler := heliumid.WebhookHandler(key, func(_ context.Context, ev *heliumid.WebhookEvent) error {
		fmt.Println(ev.Event, ev.Data.ID, ev.Data.Status, ev.Data.VendorData, ev.Data.DocumentInfo.LastName)
		return nil
	})

	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	body := heliumidtest.WebhookBody("session-1", heliumid.StatusSuccessful, at, "user-42")
	req := httptest.NewRequest(http.MethodPost, "/webhooks/heliumid", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	// Signed now, not at: the handler refuses a timestamp outside its tolerance.
	for name, values := range heliumid.SignWebhook(body, key, time.Now()) {
		req.Header[name] = values
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// verification.status session-1 successful user-42 DOE
	// 200
}
