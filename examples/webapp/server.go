package main

import (
	"log/slog"
	"net/http"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// maxFormBody bounds the body of a form: one name.
const maxFormBody = 4 << 10

// handler returns the service's routes. apiKey authenticates webhooks:
// Helium ID signs each with the integration's API key.
func (a *app) handler(apiKey string) http.Handler {
	// Any web page the user visits can make their browser POST here.
	// CrossOriginProtection refuses, with 403, a POST that the browser says
	// comes from another site (Sec-Fetch-Site, or an Origin that is not this
	// host); curl and other programs, which send neither header, pass.
	forms := http.NewCrossOriginProtection()
	form := func(h http.HandlerFunc) http.Handler {
		return forms.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
			h(w, r)
		}))
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.Handle("POST /signup", form(a.signUp))
	mux.Handle("POST /verify", form(a.verify))
	mux.HandleFunc("GET /verify", a.verify)
	mux.HandleFunc("GET /status", a.statusJSON)
	mux.HandleFunc("GET /status.html", a.statusPage)
	// Server to server: no browser headers to check, the signature is the
	// check. No method in the pattern: WebhookHandler answers 405 itself.
	mux.Handle("/webhooks/heliumid", heliumid.WebhookHandler(apiKey, a.onWebhook, heliumid.WithWebhookLogger(a.log)))
	return mux
}

// newServer returns the server of h, bounded at every stage (issue 21).
// Without ReadTimeout a client that sends its headers and then stalls
// mid-body (or trickles a byte a minute) holds a handler goroutine, and its
// memory, forever; ReadHeaderTimeout alone bounds only the headers.
// WriteTimeout bounds a client that stops reading the answer, IdleTimeout a
// kept-alive connection nobody uses. WriteTimeout runs from the end of the
// request's headers, so it is longer than the longest handler: /verify's
// call to Helium ID, which createTimeout bounds.
func newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // a webhook body is at most 1 MiB, a form 4 KiB
		WriteTimeout:      createTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}
}
