package heliumid_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
)

// Tune one call: a shorter bound on each attempt and no retries on a
// sign-up page's request path, and the response's request id for a support
// ticket. The client's own settings stay as they were.
func ExampleWithResponseInfo() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	client := srv.Client()

	var info heliumid.ResponseInfo
	session, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{VendorData: "user-42"},
		heliumid.WithRequestTimeout(5*time.Second),
		heliumid.WithMaxRetries(0),
		heliumid.WithHeader("X-Tenant", "acme"),
		heliumid.WithResponseInfo(&info),
	)
	if err != nil {
		log.Fatalf("create failed (request id %q): %v", info.RequestID, err)
	}
	fmt.Println(session.ID)
	fmt.Println(info.StatusCode, info.RequestID, info.Attempts)
	// Output:
	// 7e570000-0000-4000-8000-000000000001
	// 200 req_1 1
}

// A middleware sees every attempt: here it logs the operation (a route
// template, never an id) and the attempt number. It never sees the API key.
func ExampleWithMiddleware() {
	srv := heliumidtest.NewServer()
	defer srv.Close()

	logAttempts := func(req *http.Request, next heliumid.MiddlewareNext) (*http.Response, error) {
		op, _ := heliumid.OperationFromContext(req.Context())
		resp, err := next(req)
		if err == nil {
			fmt.Printf("%s %s attempt %d: %d (key visible: %t)\n", op.Name, op.Route, op.Attempt, resp.StatusCode, req.Header.Get("X-Api-Key") != "")
		}
		return resp, err
	}
	client := srv.Client(heliumid.WithMiddleware(logAttempts))

	session, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{})
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(1, heliumidtest.Failure{Status: http.StatusServiceUnavailable}) // a read is retried
	if _, err := client.GetVerification(context.Background(), session.ID); err != nil {
		log.Fatal(err)
	}
	// Output:
	// CreateVerification /v1/verifications attempt 1: 200 (key visible: false)
	// GetVerification /v1/verifications/{id} attempt 1: 503 (key visible: false)
	// GetVerification /v1/verifications/{id} attempt 2: 200 (key visible: false)
}
