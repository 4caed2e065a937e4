package heliumid_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// delivery returns a request as Helium ID sends it: a verification.status
// event for session id, signed with key now.
func delivery(key, id string, status heliumid.Status) *http.Request {
	body := fmt.Appendf(nil, `{"event":"verification.status","data":{"id":%q,"status":%q}}`, id, status)
	r := httptest.NewRequest(http.MethodPost, "/webhooks/heliumid", bytes.NewReader(body))
	for k, v := range heliumid.SignWebhook(body, key, time.Now()) {
		r.Header[k] = v
	}
	return r
}

// Verify and decode a delivery in a handler of your own router. Read the raw
// body through a limit and pass it unmodified: the signature covers its
// exact bytes.
func ExampleParseWebhook() {
	apiKey := "sk_test_example" // in production: os.Getenv("HELIUMID_API_KEY")

	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, heliumid.MaxWebhookBodySize))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		ev, err := heliumid.ParseWebhook(body, r.Header, apiKey)
		switch {
		case errors.Is(err, heliumid.ErrInvalidSignature):
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		case err != nil:
			http.Error(w, "invalid body", http.StatusBadRequest)
			return
		}
		if ev.Data != nil {
			fmt.Println(ev.Event, ev.Data.ID, ev.Data.Status)
		}
		w.WriteHeader(http.StatusOK)
	}

	w := httptest.NewRecorder()
	handler(w, delivery(apiKey, "66f1c0ffee00000000000001", heliumid.StatusSuccessful))
	fmt.Println(w.Code)

	forged := delivery("sk_test_someone_else", "66f1c0ffee00000000000001", heliumid.StatusSuccessful)
	w = httptest.NewRecorder()
	handler(w, forged)
	fmt.Println(w.Code)
	// Output:
	// verification.status 66f1c0ffee00000000000001 successful
	// 200
	// 401
}

// Mount the handler and apply each delivery with Verification.Supersedes,
// the rule your sweep uses too (see Client.GetVerifications): a repeated or
// stale delivery changes nothing. Returning an error answers 500; Helium
// ID's docs say nothing of redelivery, so the sweep is what catches a
// decision whose delivery failed.
func ExampleWebhookHandler() {
	apiKey := "sk_test_example" // in production: os.Getenv("HELIUMID_API_KEY")

	type row struct {
		status    heliumid.Status
		updatedAt time.Time // zero when the read carried no updatedAt
	}
	var mu sync.Mutex
	stored := map[string]row{"66f1": {status: heliumid.StatusStarted}} // your database

	handle := func(ctx context.Context, ev *heliumid.WebhookEvent) error {
		// No filter on ev.Event: Helium ID's docs name no event
		// (EventVerificationStatus is the fake's name).
		if ev.Data == nil {
			return nil // nothing to apply: acknowledge
		}
		mu.Lock()
		defer mu.Unlock()
		current, known := stored[ev.Data.ID]
		if !known {
			return nil // a session another system created
		}
		if !ev.Data.Supersedes(current.status, current.updatedAt) {
			fmt.Println("ignored", ev.Data.Status, "after", current.status)
			return nil // repeated or stale: acknowledge without applying
		}
		stored[ev.Data.ID] = row{ev.Data.Status, ev.Data.UpdatedAt}
		fmt.Println("stored", ev.Data.Status)
		return nil
	}

	mux := http.NewServeMux()
	mux.Handle("/webhooks/heliumid", heliumid.WebhookHandler(apiKey, handle,
		heliumid.WithWebhookLogger(slog.New(slog.NewTextHandler(os.Stderr, nil)))))

	for _, st := range []heliumid.Status{heliumid.StatusSubmitted, heliumid.StatusSuccessful, heliumid.StatusSubmitted} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, delivery(apiKey, "66f1", st))
		fmt.Println(w.Code)
	}
	// Output:
	// stored submitted
	// 200
	// stored successful
	// 200
	// ignored submitted after successful
	// 200
}

// Sign a body in your own tests, with the key your handler uses, to send it
// a delivery Helium ID could have sent.
func ExampleSignWebhook() {
	body := []byte(`{"event":"verification.status","data":{"id":"66f1","status":"successful"}}`)
	header := heliumid.SignWebhook(body, "sk_test_example", time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	fmt.Println("Webhook-Timestamp:", header.Get("Webhook-Timestamp"))
	fmt.Println("Webhook-Signature:", header.Get("Webhook-Signature"))
	// Output:
	// Webhook-Timestamp: 1795867200000
	// Webhook-Signature: c6a36a11043fb659daefc6e15de2047b267199e9e4f9523cad7c1f02d4d3423f
}

// Rotate the API key without rejecting deliveries in flight: accept the old
// key beside the new one until deliveries signed with it can no longer
// arrive.
func ExampleWithWebhookKeys() {
	const oldKey, newKey = "sk_live_old", "sk_live_new"
	body := []byte(`{"event":"verification.status","data":{"id":"66f1","status":"failed"}}`)
	signedWithOld := heliumid.SignWebhook(body, oldKey, time.Now())

	_, err := heliumid.ParseWebhook(body, signedWithOld, newKey)
	fmt.Println(errors.Is(err, heliumid.ErrInvalidSignature))

	ev, err := heliumid.ParseWebhook(body, signedWithOld, newKey, heliumid.WithWebhookKeys(oldKey))
	fmt.Println(err, ev.Data.Status)
	// Output:
	// true
	// <nil> failed
}
