package heliumidtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
)

// Decide takes a session to a decision in one call: the end-user's steps
// (started, submitted) and Helium ID's (successful), each with its webhook.
func ExampleServer_Decide() {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-42"})
	if err != nil {
		fmt.Println(err)
		return
	}

	if err := srv.Decide(created.ID, heliumid.StatusSuccessful); err != nil {
		fmt.Println(err)
		return
	}
	v, err := client.GetVerification(ctx, created.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Status)

	// A decision is final: another one is refused, and nothing changes.
	err = srv.Decide(created.ID, heliumid.StatusFailed)
	fmt.Println(errors.Is(err, heliumidtest.ErrInvalidTransition))
	// Output:
	// successful
	// true
}

// A webhook test: the service under test needs the Server's client before
// its own URL exists, so the Server learns where to send webhooks once the
// service runs.
func ExampleServer_SetWebhookURL() {
	srv := heliumidtest.NewServer()
	defer srv.Close()

	// The service under test, built with the Server's client; here it only
	// stores the status each webhook brings.
	client := srv.Client()
	var mu sync.Mutex
	stored := map[string]heliumid.Status{}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/heliumid", heliumid.WebhookHandler(srv.APIKey(), func(_ context.Context, ev *heliumid.WebhookEvent) error {
		mu.Lock()
		defer mu.Unlock()
		stored[ev.Data.ID] = ev.Data.Status
		return nil
	}))
	svc := httptest.NewServer(mux)
	defer svc.Close()

	// Now that the service listens, tell the Server where.
	srv.SetWebhookURL(svc.URL + "/webhooks/heliumid")

	ctx := context.Background()
	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-42"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Decide(created.ID, heliumid.StatusSuccessful); err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.WaitWebhooks(ctx); err != nil {
		fmt.Println(err)
		return
	}
	mu.Lock()
	fmt.Println("stored:", stored[created.ID])
	mu.Unlock()
	for _, d := range srv.Deliveries() {
		fmt.Println(d.ID, d.Status, d.Delivered())
	}
	// Output:
	// stored: successful
	// whk_1 started true
	// whk_2 submitted true
	// whk_3 successful true
}
