package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Alice verifies: /verify redirects to a new session, the fake end-user
// passes, the webhooks record it. Repeated, stale and forged deliveries
// change nothing, and nothing personal reaches the logs.
func TestVerifyThroughWebhooks(t *testing.T) {
	w := start(t, nil)

	assert.Equal(t, http.StatusUnauthorized, w.get(t, "/verify").StatusCode, "no signed-in user")

	res := w.get(t, "/verify?user=alice")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	link := res.Header.Get("Location")
	id := sessionID(t, link)
	assert.Equal(t, link, w.get(t, "/verify?user=alice").Header.Get("Location"), "an open session is reused, not created again")
	assert.Equal(t, status{"alice", id, heliumid.StatusNotStarted}, w.status(t, "alice"))

	res = w.post(t, "/fake/complete?user=alice", "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.Equal(t, status{"alice", id, heliumid.StatusSuccessful}, w.status(t, "alice"))

	// Out of order, repeated: acknowledged (so not delivered again), ignored.
	for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSuccessful, heliumid.StatusFailed} {
		body := event(id, st)
		res := w.post(t, "/webhooks/heliumid", body, heliumid.SignWebhook([]byte(body), heliumidtest.DefaultAPIKey, time.Now()))
		assert.Equal(t, http.StatusOK, res.StatusCode, st)
	}
	assert.Equal(t, status{"alice", id, heliumid.StatusSuccessful}, w.status(t, "alice"))

	// Forged or replayed: rejected before the store sees it.
	body := event(id, heliumid.StatusFailed)
	for name, h := range map[string]http.Header{
		"wrong key":    heliumid.SignWebhook([]byte(body), "someone-else", time.Now()),
		"old delivery": heliumid.SignWebhook([]byte(body), heliumidtest.DefaultAPIKey, time.Now().Add(-time.Hour)),
		"unsigned":     {},
	} {
		assert.Equal(t, http.StatusUnauthorized, w.post(t, "/webhooks/heliumid", body, h).StatusCode, name)
	}
	assert.Equal(t, status{"alice", id, heliumid.StatusSuccessful}, w.status(t, "alice"))

	res = w.get(t, "/verify?user=alice")
	assert.Equal(t, http.StatusOK, res.StatusCode, "a verified user gets no new session")
	assert.Equal(t, "You are verified.\n", res.Body)

	assert.Contains(t, w.logs.String(), "stale or repeated webhook, ignored")
	assert.NotContains(t, w.logs.String(), "JANE", "the session's document data must stay out of the logs")
}

// A failed session is final: the next /verify creates a new one.
func TestFailedSessionStartsOver(t *testing.T) {
	w := start(t, nil)

	first := sessionID(t, w.get(t, "/verify?user=bob").Header.Get("Location"))
	require.Equal(t, http.StatusOK, w.post(t, "/fake/complete?user=bob&decision=failed", "", nil).StatusCode)
	assert.Equal(t, status{"bob", first, heliumid.StatusFailed}, w.status(t, "bob"))

	res := w.get(t, "/verify?user=bob")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	second := sessionID(t, res.Header.Get("Location"))
	assert.NotEqual(t, first, second)
	assert.Equal(t, status{"bob", second, heliumid.StatusNotStarted}, w.status(t, "bob"))

	// A late delivery about the old session does not touch the new one.
	body := event(first, heliumid.StatusFailed)
	w.post(t, "/webhooks/heliumid", body, heliumid.SignWebhook([]byte(body), heliumidtest.DefaultAPIKey, time.Now()))
	assert.Equal(t, status{"bob", second, heliumid.StatusNotStarted}, w.status(t, "bob"))
}

// With HELIUMID_API_KEY, sessions are created at the configured API, webhooks
// must be signed with that key, and the fake's helper route does not exist.
func TestRealAPI(t *testing.T) {
	api := heliumidtest.NewServer(heliumidtest.WithAPIKey("live_key_1"))
	defer api.Close()
	w := start(t, map[string]string{"HELIUMID_API_KEY": "live_key_1", "HELIUMID_BASE_URL": api.URL})

	id := sessionID(t, w.get(t, "/verify?user=carol").Header.Get("Location"))
	_, ok := api.Verification(id)
	assert.True(t, ok, "created at the configured API")
	assert.Equal(t, http.StatusNotFound, w.post(t, "/fake/complete?user=carol", "", nil).StatusCode)

	body := event(id, heliumid.StatusStarted)
	res := w.post(t, "/webhooks/heliumid", body, heliumid.SignWebhook([]byte(body), heliumidtest.DefaultAPIKey, time.Now()))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "signed with another key")
	res = w.post(t, "/webhooks/heliumid", body, heliumid.SignWebhook([]byte(body), "live_key_1", time.Now()))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, status{"carol", id, heliumid.StatusStarted}, w.status(t, "carol"))
	assert.NotContains(t, w.stdout.String()+w.logs.String(), "live_key_1")
}

// TestTheServerIsBoundedAtEveryStage: a client that stalls mid-body, or
// stops reading, or keeps an idle connection, is cut off; headers alone
// are not enough (a stalled body held a handler goroutine forever).
func TestTheServerIsBoundedAtEveryStage(t *testing.T) {
	srv := newServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	assert.Positive(t, srv.ReadHeaderTimeout)
	assert.Positive(t, srv.ReadTimeout, "a stalled body")
	assert.Positive(t, srv.WriteTimeout, "a client that stops reading")
	assert.Positive(t, srv.IdleTimeout, "an idle kept-alive connection")
	assert.GreaterOrEqual(t, srv.ReadTimeout, srv.ReadHeaderTimeout)
}

func TestListenError(t *testing.T) {
	err := run(t.Context(), []string{"-addr", "127.0.0.1:-1"}, noEnv, io.Discard, io.Discard)
	assert.Error(t, err)
}

// webapp is a running instance of the example.
type webapp struct {
	base         string
	client       *http.Client
	stdout, logs *syncBuffer
}

func noEnv(string) string { return "" }

// start runs the example on a free loopback port until the test ends, and
// checks that it then shuts down cleanly.
func start(t *testing.T, env map[string]string) *webapp {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &webapp{
		client: &http.Client{
			Transport:     &http.Transport{},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		stdout: &syncBuffer{ready: make(chan struct{})},
		logs:   &syncBuffer{},
	}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, w.stdout, w.logs)
	}()
	select {
	case <-w.stdout.ready:
	case err := <-done:
		cancel()
		t.Fatalf("run ended before listening: %v", err)
	}
	first, _, _ := strings.Cut(w.stdout.String(), "\n")
	w.base = strings.TrimPrefix(first, "Listening on ")
	t.Cleanup(func() {
		w.client.CloseIdleConnections()
		cancel()
		assert.NoError(t, <-done)
	})
	return w
}

// response is an HTTP response, its body read.
type response struct {
	StatusCode int
	Header     http.Header
	Body       string
}

func (w *webapp) get(t *testing.T, path string) response {
	t.Helper()
	res, err := w.client.Get(w.base + path)
	require.NoError(t, err)
	return readResponse(t, res)
}

func (w *webapp) post(t *testing.T, path, body string, h http.Header) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.base+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := w.client.Do(req)
	require.NoError(t, err)
	return readResponse(t, res)
}

type status struct {
	User    string          `json:"user"`
	Session string          `json:"session"`
	Status  heliumid.Status `json:"status"`
}

func (w *webapp) status(t *testing.T, user string) status {
	t.Helper()
	res := w.get(t, "/status?user="+user)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var s status
	require.NoError(t, json.Unmarshal([]byte(res.Body), &s))
	return s
}

// sessionID checks that link is a session link of the fake and returns the
// session's id.
func sessionID(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Regexp(t, `^http://127\.0\.0\.1:\d+/$`, u.Scheme+"://"+u.Host+u.Path, "the fake's hosted page: %s", link)
	id := u.Query().Get("processId")
	require.NotEmpty(t, id, link)
	return id
}

// event is a webhook body as Helium ID sends it.
func event(id string, st heliumid.Status) string {
	return `{"event":"verification.status","data":{"id":"` + id + `","status":"` + string(st) + `"}}`
}

func readResponse(t *testing.T, res *http.Response) response {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{res.StatusCode, res.Header, string(b)}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a server.
// When ready is set, it is closed at the first write.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ready != nil && b.buf.Len() == 0 {
		close(b.ready)
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
