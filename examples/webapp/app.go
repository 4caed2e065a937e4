package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
)

// app holds the handlers' dependencies.
type app struct {
	client *heliumid.Client
	store  *store
	log    *slog.Logger
	fake   *heliumidtest.Server // nil against the real API
}

func (a *app) routes(apiKey string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /verify", a.verify)
	mux.HandleFunc("GET /status", a.status)
	// Helium ID signs each webhook with the integration's API key. The
	// pattern has no method: WebhookHandler answers 405 to anything but POST.
	mux.Handle("/webhooks/heliumid", heliumid.WebhookHandler(apiKey, a.recordWebhook, heliumid.WithWebhookLogger(a.log)))
	if a.fake != nil {
		mux.HandleFunc("POST /fake/complete", a.fakeComplete)
	}
	return mux
}

// signedInUser stands in for your authentication. A real service takes the
// user from its session cookie or token, never from the query string.
func signedInUser(r *http.Request) string {
	return r.URL.Query().Get("user")
}

// verify sends the signed-in user to their verification session, creating
// one unless they already have one open or decided.
func (a *app) verify(w http.ResponseWriter, r *http.Request) {
	user := signedInUser(r)
	if user == "" {
		http.Error(w, "Sign in first (?user=alice stands in for your login).", http.StatusUnauthorized)
		return
	}
	if s, ok := a.store.latest(user); ok {
		switch s.Status {
		case heliumid.StatusNotStarted, heliumid.StatusStarted:
			// Still open: send them back to it rather than paying for a
			// second session.
			http.Redirect(w, r, s.Link, http.StatusSeeOther)
			return
		case heliumid.StatusSubmitted, heliumid.StatusReview:
			fmt.Fprintln(w, "Your documents are being checked.")
			return
		case heliumid.StatusSuccessful:
			fmt.Fprintln(w, "You are verified.")
			return
		}
		// Failed, expired or abandoned: final. Start a new session.
	}

	// Two concurrent requests of one user would create two sessions here; a
	// real service guards this with its database (a unique open session per
	// user) rather than a lock in one process.
	session, err := a.client.CreateVerification(r.Context(), &heliumid.CreateVerificationRequest{
		VendorData: user, // finds the session again in the dashboard and in ListVerifications
	})
	if err != nil {
		a.log.Error("creating a verification session", "user", user, "err", err)
		if errors.Is(err, heliumid.ErrRateLimited) {
			http.Error(w, "Too many verifications are starting right now; try again in a minute.", http.StatusServiceUnavailable)
			return
		}
		http.Error(w, "Verification is unavailable; try again later.", http.StatusBadGateway)
		return
	}
	a.store.add(user, session)
	a.log.Info("created a verification session", "user", user, "session", session.ID)
	http.Redirect(w, r, session.Link, http.StatusSeeOther)
}

// status shows the user's latest session as this server recorded it.
func (a *app) status(w http.ResponseWriter, r *http.Request) {
	user := signedInUser(r)
	s, ok := a.store.latest(user)
	if !ok {
		http.Error(w, "No verification for this user.", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		User    string          `json:"user"`
		Session string          `json:"session"`
		Status  heliumid.Status `json:"status"`
	}{user, s.ID, s.Status})
}

// recordWebhook handles one verified delivery. Deliveries repeat and may
// arrive out of order, so the store applies a status only when it moves the
// session forward, and anything else is acknowledged and ignored. Return an
// error only when a redelivery can help (your database is down, say):
// WebhookHandler then answers 500 and Helium ID delivers again.
func (a *app) recordWebhook(ctx context.Context, ev *heliumid.WebhookEvent) error {
	if ev.Data == nil {
		return nil // not about a session: nothing to record
	}
	// Log ids and statuses only: ev.Data carries the end-user's document data.
	id, incoming := ev.Data.ID, ev.Data.Status
	s, known, applied := a.store.apply(id, incoming)
	switch {
	case !known:
		a.log.Warn("webhook for a session this server did not create, ignored", "session", id, "status", incoming)
	case applied:
		a.log.Info("recorded a status", "user", s.User, "session", id, "status", incoming)
	default:
		a.log.Info("stale or repeated webhook, ignored", "user", s.User, "session", id, "status", incoming, "recorded", s.Status)
	}
	return nil
}

// fakeComplete plays the end-user on the embedded fake, which has no
// verification page: it walks the user's session to a decision (successful,
// or ?decision=failed or review) and answers once the webhooks have reached
// this server.
func (a *app) fakeComplete(w http.ResponseWriter, r *http.Request) {
	user := signedInUser(r)
	s, ok := a.store.latest(user)
	if !ok {
		http.Error(w, "No session for this user: GET /verify first.", http.StatusNotFound)
		return
	}
	decision := heliumid.StatusSuccessful
	if d := r.URL.Query().Get("decision"); d != "" {
		decision = heliumid.ParseStatus(d)
	}
	for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, decision} {
		if err := a.fake.SetStatus(s.ID, st); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
	}
	if err := a.fake.WaitWebhooks(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusGatewayTimeout)
		return
	}
	fmt.Fprintf(w, "The fake end-user finished session %s: %s.\n", s.ID, decision)
}
