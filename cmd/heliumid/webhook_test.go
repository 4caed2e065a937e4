package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// receiver is a webhook endpoint built with heliumid.WebhookHandler: what
// an integration runs. It keeps the events it verified.
type receiver struct {
	URL string

	mu     sync.Mutex
	events []*heliumid.WebhookEvent
}

func newReceiver(t *testing.T, key string) *receiver {
	t.Helper()
	rc := &receiver{}
	srv := httptest.NewServer(heliumid.WebhookHandler(key, func(_ context.Context, ev *heliumid.WebhookEvent) error {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.events = append(rc.events, ev)
		return nil
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL + "/webhooks/heliumid"
	return rc
}

func (rc *receiver) received() []*heliumid.WebhookEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*heliumid.WebhookEvent(nil), rc.events...)
}

func TestWebhookSendIsVerifiedByWebhookHandler(t *testing.T) {
	const key = "whsec-test-key"
	rc := newReceiver(t, key)
	env := map[string]string{envAPIKey: key}

	r := cmd(t, env, "webhook", "send", "--to", rc.URL, "--status", "successful", "--id", "sess-1", "--vendor-data", "user-42")
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "POST "+rc.URL+"\n")
	assert.Contains(t, r.stdout, "verification.status: sess-1 is successful\n")
	assert.Contains(t, r.stdout, "200 OK in ")
	assert.Empty(t, r.stderr)

	events := rc.received()
	require.Len(t, events, 1)
	ev := events[0]
	assert.Equal(t, "verification.status", ev.Event)
	require.NotNil(t, ev.Data)
	assert.Equal(t, "sess-1", ev.Data.ID)
	assert.Equal(t, heliumid.StatusSuccessful, ev.Data.Status)
	assert.Equal(t, 2010, ev.Data.StatusCode)
	assert.Equal(t, heliumid.MethodAuto, ev.Data.Method)
	assert.Equal(t, "user-42", ev.Data.VendorData)
	assert.False(t, ev.Data.UpdatedAt.IsZero())
	require.NotNil(t, ev.Data.DocumentInfo, "a decided session carries the (fake) document data")
	assert.Equal(t, "JANE", ev.Data.DocumentInfo.FirstName)
	assert.NotContains(t, r.stdout, "JANE", "the body sent is not printed")

	var raw struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(ev.Raw, &raw))
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, raw.Data["updatedAt"], "RFC 3339 with milliseconds, as the API writes it")
}

func TestWebhookSendStatuses(t *testing.T) {
	const key = "k"
	rc := newReceiver(t, key)
	env := map[string]string{envAPIKey: key}

	for _, tt := range []struct {
		flag   string
		status heliumid.Status
		code   int
		reason bool
		pii    bool
	}{
		{"not_started", heliumid.StatusNotStarted, 1001, false, false},
		{"completed", heliumid.StatusSubmitted, 2001, false, true},
		{"failed", heliumid.StatusFailed, 4100, true, true},
		{"expired", heliumid.StatusExpired, 5000, true, false},
		{"review", heliumid.StatusReview, 0, false, true},
	} {
		r := cmd(t, env, "webhook", "send", "--to", rc.URL, "--status", tt.flag, "--id", "x")
		require.Equal(t, exitOK, r.code, "%s: %s", tt.flag, r.stderr)
		evs := rc.received()
		v := evs[len(evs)-1].Data
		assert.Equal(t, tt.status, v.Status, tt.flag)
		assert.Equal(t, tt.code, v.StatusCode, tt.flag)
		assert.Equal(t, tt.reason, v.Reason != "", tt.flag)
		assert.Equal(t, tt.pii, v.DocumentInfo != nil, tt.flag)
	}

	r := cmd(t, env, "webhook", "send", "--to", rc.URL, "--status", "vanished", "--id", "x", "--allow-unknown-status")
	require.Equal(t, exitOK, r.code, r.stderr)
	evs := rc.received()
	v := evs[len(evs)-1].Data
	assert.Equal(t, heliumid.Status("vanished"), v.Status)
	assert.False(t, v.Status.IsKnown())
	assert.Zero(t, v.StatusCode)
}

func TestWebhookSendRejectedByEndpoint(t *testing.T) {
	rc := newReceiver(t, "the-endpoint-key")
	r := cmd(t, map[string]string{envAPIKey: "another-key"}, "webhook", "send", "--to", rc.URL, "--status", "started", "--id", "x")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stdout, "401 Unauthorized in ")
	assert.Contains(t, r.stdout, `{"error":"invalid signature"}`, "the endpoint's body is printed")
	assert.Contains(t, r.stderr, "heliumid webhook send: the endpoint answered 401 Unauthorized")
	assert.Contains(t, r.stderr, "hint: does your endpoint verify with the key")
	assert.NotContains(t, r.stdout+r.stderr, "another-key")
	assert.Empty(t, rc.received())
}

func TestWebhookSendPrintsABoundedBody(t *testing.T) {
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound) // not followed
	}))
	defer endpoint.Close()
	long := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("\x1b[31m" + strings.Repeat("x", 10<<10)))
	}))
	defer long.Close()
	env := map[string]string{envAPIKey: "k"}

	r := cmd(t, env, "webhook", "send", "--to", endpoint.URL, "--status", "started", "--id", "x")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stdout, "302 Found")

	r = cmd(t, env, "webhook", "send", "--to", long.URL, "--status", "started", "--id", "x")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stdout, "500 Internal Server Error")
	assert.Contains(t, r.stdout, "… (truncated after 4 KiB)")
	assert.Less(t, len(r.stdout), 5<<10)
	assert.NotContains(t, r.stdout, "\x1b", "no terminal escapes from the endpoint")
}

func TestWebhookSendErrors(t *testing.T) {
	env := map[string]string{envAPIKey: "k"}
	send := func(args ...string) result { return cmd(t, env, append([]string{"webhook", "send"}, args...)...) }

	assertUsage(t, send("--status", "started", "--id", "x"), "missing --to URL")
	assertUsage(t, send("--to", "http://127.0.0.1:1/", "--id", "x"), "missing --status")
	assertUsage(t, send("--to", "http://127.0.0.1:1/", "--status", "started"), "missing --id")
	assertUsage(t, send("--to", "localhost:3000/hook", "--status", "started", "--id", "x"), "want an absolute http or https URL")
	assertUsage(t, send("--to", "http://127.0.0.1:1/", "--status", "approved", "--id", "x"), `unknown status "approved"`)
	assertUsage(t, send("--to", "http://127.0.0.1:1/", "--status", "started", "--id", "x", "--timeout", "0s"), "--timeout 0s")
	assertUsage(t, send("--to", "http://127.0.0.1:1/", "--status", "started", "--id", "x", "extra"), `unexpected argument "extra"`)

	closed := strings.TrimSuffix(closedURL(t), "/api") + "/hook"
	r := send("--to", closed, "--status", "started", "--id", "x")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "connection refused")
	assert.Contains(t, r.stderr, "hint: is your endpoint listening at "+closed+"?")
}

// Every --signature-format is one WebhookHandler accepts, in the header it
// names.
func TestWebhookSendSignatureFormats(t *testing.T) {
	const key = "whsec-test-key"
	var mu sync.Mutex
	var headers []http.Header
	handler := heliumid.WebhookHandler(key, func(context.Context, *heliumid.WebhookEvent) error { return nil })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		headers = append(headers, r.Header.Clone())
		mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{envAPIKey: key}
	for _, format := range signatureFormats {
		r := cmd(t, env, "webhook", "send", "--to", srv.URL, "--status", "started", "--id", "s-1", "--signature-format", format)
		require.Equal(t, exitOK, r.code, "%s: %s", format, r.stdout+r.stderr)
	}
	require.Len(t, headers, 4)
	assert.Regexp(t, `^[0-9a-f]{64}$`, headers[0].Get("Webhook-Signature"))
	assert.Regexp(t, `^sha256=[0-9a-f]{64}$`, headers[1].Get("Webhook-Signature"))
	assert.Regexp(t, `^v1,[A-Za-z0-9+/]{43}=$`, headers[2].Get("Webhook-Signature"))
	assert.Empty(t, headers[3].Values("Webhook-Signature"))
	assert.Regexp(t, `^[0-9a-f]{64}$`, headers[3].Get("X-Hmac-Signature"))

	assertUsage(t, cmd(t, env, "webhook", "send", "--to", srv.URL, "--status", "started", "--id", "s-1", "--signature-format", "md5"),
		`--signature-format "md5": want one of hex, sha256, v1, x-hmac`)
}

// Interrupted while the endpoint has not answered: "interrupted", with no
// hint that the endpoint is down.
func TestWebhookSendInterrupted(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
	}))
	defer rc.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-arrived; cancel() }()
	r := invocation{env: map[string]string{envAPIKey: "k"}, ctx: ctx}.run(t, "webhook", "send", "--to", rc.URL, "--status", "started", "--id", "s-1")
	assert.Equal(t, exitInterrupted, r.code)
	assert.True(t, strings.HasSuffix(r.stderr, "heliumid webhook send: interrupted\n"), r.stderr)
	assert.NotContains(t, r.stderr, "listening")
}
