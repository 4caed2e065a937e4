package heliumid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/heliumid/heliumid-go/internal/readbuf"
	"github.com/heliumid/heliumid-go/internal/safetext"
)

// WebhookHandler returns an http.Handler that receives Helium ID's webhook
// deliveries, authenticates and decodes each with [ParseWebhook] (same key,
// same options), and calls fn with the event and the request's context.
//
// It answers:
//   - 200 after fn returns nil: the delivery is done;
//   - 500 when fn returns an error;
//   - 401 when authentication fails (any error matching
//     [ErrInvalidSignature]), 400 for a body ParseWebhook cannot decode, 413
//     for a body over [MaxWebhookBodySize], 405 (with "Allow: POST") for a
//     method other than POST. fn is not called in any of these.
//
// Helium ID's docs say nothing about retries or redelivery (docs/API.md,
// "Webhooks"): a sender that retries delivers again after a 500, but this
// SDK never relies on it. A delivery that fails, or never comes (an outage,
// a deploy), must still reach your database: sweep the sessions still
// undecided with [Client.GetVerifications] and apply each read with
// [Verification.Supersedes], as fn does (see the package documentation,
// "Webhooks and the sweep"). The same rule makes fn safe against a
// delivery that repeats or comes out of order, if a sender does that.
//
// Response bodies are short JSON such as {"error":"invalid signature"}; the
// reason, which may help an attacker, goes only to the logger of
// [WithWebhookLogger]. A blank apiKey, a nil fn or an invalid option makes
// every request answer 500 and log why (through slog.Default when no logger
// is set), until the handler is fixed; the sweep catches what it missed.
//
// The handler is safe for concurrent use. Printing it never shows the keys.
func WebhookHandler(apiKey string, fn func(ctx context.Context, ev *WebhookEvent) error, opts ...WebhookOption) http.Handler {
	h := &webhookHandler{fn: fn}
	h.cfg, h.misconfigured = newWebhookConfig("WebhookHandler", apiKey, opts)
	if h.misconfigured == nil && fn == nil {
		h.misconfigured = fmt.Errorf("%w: WebhookHandler got a nil function; pass the function that handles each event", ErrInvalidOption)
	}
	return h
}

// webhookHandler is the handler of WebhookHandler. It never changes after
// construction.
type webhookHandler struct {
	cfg           *webhookConfig // holds the keys, behind a pointer of its own
	fn            func(ctx context.Context, ev *WebhookEvent) error
	misconfigured error // set: answer every request 500
}

// Response bodies: fixed texts, so nothing internal reaches the sender.
const (
	webhookBodyOK            = `{"received":true}`
	webhookBodyBadSignature  = `{"error":"invalid signature"}`
	webhookBodyBadBody       = `{"error":"invalid body"}`
	webhookBodyTooLarge      = `{"error":"body too large"}`
	webhookBodyBadMethod     = `{"error":"method not allowed"}`
	webhookBodyInternalError = `{"error":"internal error"}`
)

// ServeHTTP handles one delivery; see WebhookHandler.
func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if h.misconfigured != nil {
		logger := h.cfg.logger
		if logger == nil {
			logger = slog.Default() // a handler that refuses everything must not be silent
		}
		logger.LogAttrs(ctx, slog.LevelError, "heliumid: webhook handler is misconfigured; every delivery is answered 500 until it is fixed",
			slog.String("error", h.misconfigured.Error()))
		respondWebhook(w, http.StatusInternalServerError, webhookBodyInternalError)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(ctx, w, http.StatusMethodNotAllowed, webhookBodyBadMethod, "the method is "+safetext.Truncate(safetext.Clean([]byte(r.Method)), 16)+", not POST")
		return
	}
	if r.ContentLength > MaxWebhookBodySize {
		h.reject(ctx, w, http.StatusRequestEntityTooLarge, webhookBodyTooLarge, fmt.Sprintf("Content-Length %d is over %d bytes", r.ContentLength, MaxWebhookBodySize))
		return
	}

	buf := readbuf.Get()
	defer readbuf.Put(buf)
	tooLarge, err := readbuf.Bounded(r.Body, MaxWebhookBodySize, buf)
	var maxBytes *http.MaxBytesError // a limit of the caller's own, set before this handler
	switch {
	case tooLarge || errors.As(err, &maxBytes):
		h.reject(ctx, w, http.StatusRequestEntityTooLarge, webhookBodyTooLarge, fmt.Sprintf("the body is over %d bytes", MaxWebhookBodySize))
		return
	case err != nil:
		h.reject(ctx, w, http.StatusBadRequest, webhookBodyBadBody, "reading the body: "+err.Error())
		return
	}

	ev, err := h.cfg.parse(buf.Bytes(), r.Header, time.Now())
	switch {
	case errors.Is(err, ErrInvalidSignature):
		h.reject(ctx, w, http.StatusUnauthorized, webhookBodyBadSignature, err.Error())
		return
	case err != nil:
		h.reject(ctx, w, http.StatusBadRequest, webhookBodyBadBody, err.Error())
		return
	}

	start := time.Now()
	if err := h.fn(ctx, ev); err != nil {
		h.log(ctx, slog.LevelError, "heliumid: webhook function failed; answered 500",
			slog.Any("webhook", ev), slog.Duration("duration", time.Since(start)), slog.String("error", err.Error()))
		respondWebhook(w, http.StatusInternalServerError, webhookBodyInternalError)
		return
	}
	h.log(ctx, slog.LevelDebug, "heliumid: webhook handled",
		slog.Any("webhook", ev), slog.Duration("duration", time.Since(start)))
	respondWebhook(w, http.StatusOK, webhookBodyOK)
}

// reject answers a request fn never sees, logging why.
func (h *webhookHandler) reject(ctx context.Context, w http.ResponseWriter, status int, body, reason string) {
	h.log(ctx, slog.LevelWarn, "heliumid: webhook rejected",
		slog.Int("status", status), slog.String("reason", reason))
	respondWebhook(w, status, body)
}

func (h *webhookHandler) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if h.cfg.logger == nil || !h.cfg.logger.Enabled(ctx, level) {
		return
	}
	h.cfg.logger.LogAttrs(ctx, level, msg, attrs...)
}

func respondWebhook(w http.ResponseWriter, status int, body string) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body + "\n"))
}

// Format prints the handler without its keys, whatever the verb:
// fmt.Printf("%+v", handler) is safe to log.
func (h *webhookHandler) Format(f fmt.State, verb rune) {
	if h == nil {
		fmt.Fprint(f, "<nil webhook handler>")
		return
	}
	tolerance := defaultWebhookTolerance
	if h.cfg != nil {
		tolerance = h.cfg.tolerance
	}
	fmt.Fprintf(f, "heliumid.WebhookHandler{Keys: %s, Tolerance: %v}", redacted, tolerance)
}
