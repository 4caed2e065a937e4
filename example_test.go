package heliumid_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"golang.org/x/time/rate"
)

// The examples run against heliumidtest, the fake Helium ID on loopback; in
// production, use heliumid.NewClient(os.Getenv("HELIUMID_API_KEY")).

func ExampleNewClient() {
	client, err := heliumid.NewClient("sk_live_example",
		heliumid.WithUserAgent("acme-signup/1.4"),
		heliumid.WithRateLimiter(rate.NewLimiter(5, 1)), // stay under a cap of 5 sessions per second
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client) // the key never prints

	_, err = heliumid.NewClient("")
	fmt.Println(errors.Is(err, heliumid.ErrMissingAPIKey))
	// Output:
	// &heliumid.Client{BaseURL: "https://server.heliumid.io/api", APIKey: [REDACTED]}
	// true
}

// Create a session, then send the end-user to its link.
func ExampleClient_CreateVerification() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	client := srv.Client()

	session, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{
		VendorData: "user-42",                      // your identifier: how you find the session again
		Meta:       map[string]any{"plan": "gold"}, // echoed back to you
		Method:     heliumid.MethodAuto,            // or MethodManual for an Identity Specialist
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(session.ID)
	// Send the end-user to session.Link; in a handler:
	// http.Redirect(w, r, session.Link, http.StatusSeeOther). Helium ID's
	// link is https://verify.heliumid.io/?processId=<id>; the fake's leads to
	// its own page, http://127.0.0.1:<port>/?processId=<id>.
	// Output:
	// 7e570000-0000-4000-8000-000000000001
}

// Read a session's status and, once submitted, what was read off the
// document. Printing a Verification leaves the personal data out.
func ExampleClient_GetVerification() {
	srv := heliumidtest.NewServer(heliumidtest.WithStartTime(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	session, _ := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-42"})
	for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted} {
		_ = srv.SetStatus(session.ID, st) // the end-user, played by the fake
	}

	v, err := client.GetVerification(ctx, session.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Status, v.StatusCode, v.Status.IsTerminal())
	fmt.Println("expires", v.ExpiresAt().Format(time.RFC3339))
	fmt.Println(v.DocumentInfo.LastName) // the fields are there for your code
	fmt.Println(v)                       // but not in what gets printed or logged
	// Output:
	// submitted 2001 false
	// expires 2026-12-05T09:00:00Z
	// DOE
	// Verification{ID: 7e570000-0000-4000-8000-000000000001, Status: submitted (2001), Method: auto, CreatedAt: 2026-11-28T09:00:00Z, UpdatedAt: 2026-11-28T09:00:00Z, personal data: [REDACTED]}
}

// Walk every session waiting for a human review, page by page.
func ExampleClient_AllVerifications() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	for i := range 5 {
		s, _ := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: fmt.Sprint("user-", i)})
		if i%2 == 0 {
			for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview} {
				_ = srv.SetStatus(s.ID, st)
			}
		}
	}

	opts := &heliumid.ListVerificationsOptions{Status: heliumid.StatusReview, Limit: 2}
	for v, err := range client.AllVerifications(ctx, opts) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(v.VendorData, v.Status)
	}
	// Output:
	// user-0 review
	// user-2 review
	// user-4 review
}

// Find the sessions created for one of your users: after a create that
// failed with a timeout, this tells whether the session exists.
func ExampleClient_ListVerifications() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	_, _ = client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-7"})

	page, err := client.ListVerifications(ctx, &heliumid.ListVerificationsOptions{VendorData: "user-7"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page), page[0].Status)
	// Output:
	// 1 not started
}

// Poll until a decision, with a deadline. Webhooks are better in production:
// polling spends requests.
func ExampleClient_WaitForDecision() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	client := srv.Client(heliumid.WithPollInterval(time.Millisecond, 10*time.Millisecond))
	session, _ := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{})
	go func() { // the end-user, meanwhile
		for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusFailed} {
			_ = srv.SetStatus(session.ID, st)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := client.WaitForDecision(ctx, session.ID)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Println("no decision yet; last status:", v.Status)
	case err != nil:
		log.Fatal(err)
	case v.Status == heliumid.StatusSuccessful:
		fmt.Println("verified")
	case v.Status == heliumid.StatusReview:
		fmt.Println("a human on your side must review it")
	default: // failed, expired, abandoned: final
		fmt.Println(v.Status, "- create a new session to try again")
	}
	// Output:
	// failed - create a new session to try again
}

// Errors match the sentinels with errors.Is; the details are on *APIError.
func ExampleAPIError() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	client := srv.Client()

	_, err := client.GetVerification(context.Background(), "no-such-session")
	var apiErr *heliumid.APIError
	switch {
	case errors.Is(err, heliumid.ErrNotFound) && errors.As(err, &apiErr):
		fmt.Println("not found:", apiErr.StatusCode, apiErr.Message)
	case errors.Is(err, heliumid.ErrRateLimited) && errors.As(err, &apiErr):
		fmt.Println("come back in", apiErr.RetryAfter)
	case err != nil:
		fmt.Println(err)
	}

	_, err = client.GetVerification(context.Background(), "../admin")
	fmt.Println(errors.Is(err, heliumid.ErrInvalidRequest)) // refused before any request
	// Output:
	// not found: 404 verification "no-such-session" not found
	// true
}

// Statuses from the API, in any spelling, map to eight constants; unknown
// ones are kept rather than rejected.
func ExampleParseStatus() {
	for _, s := range []string{"Completed", "cancelled", "2010", "escalated"} {
		st := heliumid.ParseStatus(s)
		fmt.Printf("%q -> %q known=%t terminal=%t\n", s, st, st.IsKnown(), st.IsTerminal())
	}
	// Output:
	// "Completed" -> "submitted" known=true terminal=false
	// "cancelled" -> "expired" known=true terminal=true
	// "2010" -> "successful" known=true terminal=true
	// "escalated" -> "escalated" known=false terminal=false
}

// A session's next steps, and what happens when it expires.
func ExampleStatus_CanTransitionTo() {
	fmt.Println(heliumid.StatusSubmitted.CanTransitionTo(heliumid.StatusReview))
	fmt.Println(heliumid.StatusFailed.CanTransitionTo(heliumid.StatusStarted)) // final: create a new session
	next, ok := heliumid.StatusStarted.OnExpiry()
	fmt.Println(next, ok)
	// Output:
	// true
	// false
	// abandoned true
}

// Test your own code's failure handling: make the fake answer 503 twice.
func ExampleClient_CreateVerification_retries() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	srv.FailNext(1, heliumidtest.Failure{Status: http.StatusServiceUnavailable})
	client := srv.Client()

	_, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{})
	fmt.Println(errors.Is(err, heliumid.ErrServer), "(a create is not retried after a 5xx: the session may exist)")

	srv.FailNext(1, heliumidtest.Failure{Status: http.StatusServiceUnavailable})
	_, err = client.GetVerification(context.Background(), "7e570000-0000-4000-8000-000000000001")
	fmt.Println(err) // a read is retried, and the retry found no session either
	// Output:
	// true (a create is not retried after a 5xx: the session may exist)
	// heliumid: GET /v1/verifications/7e570000-0000-4000-8000-000000000001: 404 Not Found: verification "7e570000-0000-4000-8000-000000000001" not found (request id req_3) after 2 attempts; check the verification id; sessions belong to the integration whose key created them
}
