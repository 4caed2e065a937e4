package heliumid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// webhookRecorder is a webhook function that records its calls and returns err.
type webhookRecorder struct {
	calls  int
	events []*WebhookEvent
	ctxs   []context.Context
	err    error
}

func (r *webhookRecorder) handle(ctx context.Context, ev *WebhookEvent) error {
	r.calls++
	r.events = append(r.events, ev)
	r.ctxs = append(r.ctxs, ctx)
	return r.err
}

// signedWebhookRequest is a delivery of body signed with key now.
func signedWebhookRequest(body []byte, key string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/heliumid", bytes.NewReader(body))
	for k, v := range SignWebhook(body, key, time.Now()) {
		r.Header[k] = v
	}
	r.Header.Set("Content-Type", "application/json")
	return r
}

// serve runs one request through h and returns the recorded response.
func serveWebhook(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// captureWebhookLogs returns a debug-level JSON logger and what it wrote.
func captureWebhookLogs() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func TestWebhookHandler_delivers(t *testing.T) {
	fn := &webhookRecorder{}
	logger, logs := captureWebhookLogs()
	h := WebhookHandler(testKey, fn.handle, WithWebhookLogger(logger))

	type ctxKey struct{}
	r := signedWebhookRequest(webhookFixture, testKey)
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, "request-scoped"))
	w := serveWebhook(h, r)

	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"received":true}`, w.Body.String())
	require.Equal(t, 1, fn.calls)
	assert.Equal(t, "request-scoped", fn.ctxs[0].Value(ctxKey{}), "fn gets the request's context")
	ev := fn.events[0]
	assert.Equal(t, "verification.status", ev.Event)
	require.NotNil(t, ev.Data)
	assert.Equal(t, StatusSuccessful, ev.Data.Status)
	assert.Equal(t, webhookFixture, []byte(ev.Raw))

	assert.Contains(t, logs.String(), `"msg":"heliumid: webhook handled"`)
	assert.Contains(t, logs.String(), `"id":"66f1c0ffee00000000000001"`)
	assertNoSecrets(t, logs.String())
}

func TestWebhookHandler_rejects(t *testing.T) {
	stale := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(webhookFixture))
		for k, v := range SignWebhook(webhookFixture, testKey, time.Now().Add(-time.Hour)) {
			r.Header[k] = v
		}
		return r
	}
	huge := bytes.Repeat([]byte(" "), MaxWebhookBodySize+1)
	tests := []struct {
		name       string
		request    func() *http.Request
		wantStatus int
		wantBody   string
		wantReason string // in the warning logged
	}{
		{
			name:       "GET",
			request:    func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) },
			wantStatus: http.StatusMethodNotAllowed, wantBody: `{"error":"method not allowed"}`, wantReason: "the method is GET, not POST",
		},
		{
			name: "signed PUT",
			request: func() *http.Request {
				r := signedWebhookRequest(webhookFixture, testKey)
				r.Method = http.MethodPut
				return r
			},
			wantStatus: http.StatusMethodNotAllowed, wantBody: `{"error":"method not allowed"}`, wantReason: "the method is PUT",
		},
		{
			name: "unsigned",
			request: func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(webhookFixture))
			},
			wantStatus: http.StatusUnauthorized, wantBody: `{"error":"invalid signature"}`, wantReason: "missing Webhook-Timestamp",
		},
		{
			name:       "signed with another key",
			request:    func() *http.Request { return signedWebhookRequest(webhookFixture, "sk_test_attacker") },
			wantStatus: http.StatusUnauthorized, wantBody: `{"error":"invalid signature"}`, wantReason: "no signature in Webhook-Signature matches",
		},
		{
			name:       "stale",
			request:    stale,
			wantStatus: http.StatusUnauthorized, wantBody: `{"error":"invalid signature"}`, wantReason: "in the past",
		},
		{
			name:       "signed but not JSON",
			request:    func() *http.Request { return signedWebhookRequest([]byte("event=verification.status"), testKey) },
			wantStatus: http.StatusBadRequest, wantBody: `{"error":"invalid body"}`, wantReason: "the body is not a JSON object",
		},
		{
			name:       "signed but data is not a session",
			request:    func() *http.Request { return signedWebhookRequest([]byte(`{"data":[]}`), testKey) },
			wantStatus: http.StatusBadRequest, wantBody: `{"error":"invalid body"}`, wantReason: `is not a session object: a JSON array`,
		},
		{
			name:       "body over 1 MiB, signed",
			request:    func() *http.Request { return signedWebhookRequest(huge, testKey) },
			wantStatus: http.StatusRequestEntityTooLarge, wantBody: `{"error":"body too large"}`, wantReason: "Content-Length 1048577 is over 1048576 bytes",
		},
		{
			name: "body over 1 MiB without Content-Length",
			request: func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(bytes.NewReader(huge)))
				r.ContentLength = -1
				return r
			},
			wantStatus: http.StatusRequestEntityTooLarge, wantBody: `{"error":"body too large"}`, wantReason: "the body is over 1048576 bytes",
		},
		{
			name: "body over the caller's own MaxBytesReader",
			request: func() *http.Request {
				r := signedWebhookRequest(webhookFixture, testKey)
				r.Body = http.MaxBytesReader(nil, r.Body, 10)
				r.ContentLength = -1
				return r
			},
			wantStatus: http.StatusRequestEntityTooLarge, wantBody: `{"error":"body too large"}`, wantReason: "the body is over",
		},
		{
			name: "body read fails",
			request: func() *http.Request {
				r := signedWebhookRequest(webhookFixture, testKey)
				r.Body = io.NopCloser(iotest.ErrReader(errors.New("connection reset")))
				return r
			},
			wantStatus: http.StatusBadRequest, wantBody: `{"error":"invalid body"}`, wantReason: "reading the body: connection reset",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := &webhookRecorder{}
			logger, logs := captureWebhookLogs()
			w := serveWebhook(WebhookHandler(testKey, fn.handle, WithWebhookLogger(logger)), tt.request())

			assert.Equal(t, tt.wantStatus, w.Code)
			assert.JSONEq(t, tt.wantBody, w.Body.String(), "a fixed body: the reason is for the log only")
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.Equal(t, 0, fn.calls, "fn must not be called")
			if tt.wantStatus == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, w.Header().Get("Allow"))
			}
			assert.Contains(t, logs.String(), `"level":"WARN","msg":"heliumid: webhook rejected"`)
			assert.Contains(t, logs.String(), fmt.Sprintf(`"status":%d`, tt.wantStatus))
			assert.Contains(t, logs.String(), tt.wantReason)
			assertNoSecrets(t, logs.String())
		})
	}
}

func TestWebhookHandler_fnFails(t *testing.T) {
	fn := &webhookRecorder{err: errors.New("database unavailable")}
	logger, logs := captureWebhookLogs()
	w := serveWebhook(WebhookHandler(testKey, fn.handle, WithWebhookLogger(logger)), signedWebhookRequest(webhookFixture, testKey))

	assert.Equal(t, http.StatusInternalServerError, w.Code, "a 5xx makes Helium ID deliver again")
	assert.JSONEq(t, `{"error":"internal error"}`, w.Body.String())
	assert.NotContains(t, w.Body.String(), "database", "the function's error stays internal")
	assert.Equal(t, 1, fn.calls)
	assert.Contains(t, logs.String(), `"level":"ERROR"`)
	assert.Contains(t, logs.String(), "database unavailable")
	assert.Contains(t, logs.String(), `"status":"successful"`)
	assertNoSecrets(t, logs.String())
}

func TestWebhookHandler_withoutLoggerIsSilent(t *testing.T) {
	var defaultLogs bytes.Buffer
	restore := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&defaultLogs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(restore)

	fn := &webhookRecorder{err: errors.New("boom")}
	h := WebhookHandler(testKey, fn.handle)
	assert.Equal(t, http.StatusInternalServerError, serveWebhook(h, signedWebhookRequest(webhookFixture, testKey)).Code)
	assert.Equal(t, http.StatusUnauthorized, serveWebhook(h, signedWebhookRequest(webhookFixture, "other")).Code)
	assert.Empty(t, defaultLogs.String())
}

func TestWebhookHandler_keyRotation(t *testing.T) {
	fn := &webhookRecorder{}
	h := WebhookHandler("sk_new", fn.handle, WithWebhookKeys("sk_old"))
	assert.Equal(t, http.StatusOK, serveWebhook(h, signedWebhookRequest(webhookFixture, "sk_old")).Code)
	assert.Equal(t, http.StatusOK, serveWebhook(h, signedWebhookRequest(webhookFixture, "sk_new")).Code)
	assert.Equal(t, http.StatusUnauthorized, serveWebhook(h, signedWebhookRequest(webhookFixture, "sk_other")).Code)
	assert.Equal(t, 2, fn.calls)
}

func TestWebhookHandler_tolerance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fn := &webhookRecorder{}
		h := WebhookHandler(testKey, fn.handle, WithWebhookTolerance(time.Minute))
		r := signedWebhookRequest(webhookFixture, testKey)
		time.Sleep(time.Minute)
		assert.Equal(t, http.StatusOK, serveWebhook(h, r.Clone(r.Context())).Code)
		time.Sleep(time.Millisecond)
		r.Body = io.NopCloser(bytes.NewReader(webhookFixture))
		assert.Equal(t, http.StatusUnauthorized, serveWebhook(h, r).Code)
		assert.Equal(t, 1, fn.calls)
	})
}

func TestWebhookHandler_misconfigured(t *testing.T) {
	fn := &webhookRecorder{}
	tests := []struct {
		name    string
		handler func(logger *slog.Logger) http.Handler
		want    string
	}{
		{"blank key", func(l *slog.Logger) http.Handler {
			return WebhookHandler(" ", fn.handle, WithWebhookLogger(l))
		}, "WebhookHandler needs the API key"},
		{"nil function", func(l *slog.Logger) http.Handler {
			return WebhookHandler(testKey, nil, WithWebhookLogger(l))
		}, "nil function"},
		{"invalid tolerance", func(l *slog.Logger) http.Handler {
			return WebhookHandler(testKey, fn.handle, WithWebhookTolerance(-1), WithWebhookLogger(l))
		}, "WithWebhookTolerance: -1ns must be positive"},
		{"blank rotation key", func(l *slog.Logger) http.Handler {
			return WebhookHandler(testKey, fn.handle, WithWebhookLogger(l), WithWebhookKeys(""))
		}, "WithWebhookKeys: key 1 of 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := captureWebhookLogs()
			w := serveWebhook(tt.handler(logger), signedWebhookRequest(webhookFixture, testKey))
			assert.Equal(t, http.StatusInternalServerError, w.Code, "Helium ID keeps the delivery until the handler is fixed")
			assert.JSONEq(t, `{"error":"internal error"}`, w.Body.String())
			assert.Contains(t, logs.String(), `"level":"ERROR","msg":"heliumid: webhook handler is misconfigured`)
			assert.Contains(t, logs.String(), tt.want)
			assertNoSecrets(t, logs.String())
		})
	}
	assert.Equal(t, 0, fn.calls)
}

func TestWebhookHandler_misconfiguredWithoutLoggerUsesDefault(t *testing.T) {
	var defaultLogs bytes.Buffer
	restore := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&defaultLogs, nil)))
	defer slog.SetDefault(restore)

	w := serveWebhook(WebhookHandler("", func(context.Context, *WebhookEvent) error { return nil }), signedWebhookRequest(webhookFixture, testKey))
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Contains(t, defaultLogs.String(), "webhook handler is misconfigured")
	assert.Contains(t, defaultLogs.String(), "missing API key")
}

func TestWebhookHandler_neverPrintsKeys(t *testing.T) {
	const oldKey = "sk_live_old_secret"
	h := WebhookHandler(testKey, func(context.Context, *WebhookEvent) error { return nil }, WithWebhookKeys(oldKey), WithWebhookTolerance(time.Minute))
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(format, h)
		assert.NotContains(t, out, testKey, format)
		assert.NotContains(t, out, oldKey, format)
		assert.NotContains(t, out, fmt.Sprintf("%x", testKey), format)
		assert.Equal(t, "heliumid.WebhookHandler{Keys: [REDACTED], Tolerance: 1m0s}", out, format)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("mounted", "handler", h)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("mounted", "handler", h)
	assert.NotContains(t, logs.String(), testKey)
	assert.NotContains(t, logs.String(), oldKey)

	var nilHandler *webhookHandler
	assert.Equal(t, "<nil webhook handler>", fmt.Sprint(nilHandler))
}

func TestWebhookHandler_concurrent(t *testing.T) {
	var calls = make(chan struct{}, 16)
	h := WebhookHandler(testKey, func(context.Context, *WebhookEvent) error {
		calls <- struct{}{}
		return nil
	})
	done := make(chan int, 16)
	for range 16 {
		go func() { done <- serveWebhook(h, signedWebhookRequest(webhookFixture, testKey)).Code }()
	}
	for range 16 {
		assert.Equal(t, http.StatusOK, <-done)
	}
	assert.Len(t, calls, 16)
}

func TestWebhookHandler_bodyAtTheLimit(t *testing.T) {
	// A body of exactly MaxWebhookBodySize is read and handled.
	body := append([]byte(`{"event":"e","pad":"`), bytes.Repeat([]byte("x"), MaxWebhookBodySize)...)
	body = append(body[:MaxWebhookBodySize-2], `"}`...)
	fn := &webhookRecorder{}
	w := serveWebhook(WebhookHandler(testKey, fn.handle), signedWebhookRequest(body, testKey))
	assert.Equal(t, http.StatusOK, w.Code, strings.TrimSpace(w.Body.String()))
	assert.Equal(t, 1, fn.calls)
}
