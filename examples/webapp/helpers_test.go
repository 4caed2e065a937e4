package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// webapp is a running instance of the example, reached over HTTP.
type webapp struct {
	base         string
	client       *http.Client
	stdout, logs *syncBuffer
	stop         func() // ends run and checks that it returned nil; idempotent
}

// start runs the example as main does, on a free loopback port, with env as
// its environment and args after -addr, until the test ends (or stop).
func start(t *testing.T, env map[string]string, args ...string) *webapp {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &webapp{
		client: noRedirects(),
		stdout: &syncBuffer{ready: make(chan struct{})},
		logs:   &syncBuffer{},
	}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), func(k string) string { return env[k] }, w.stdout, w.logs)
	}()
	select {
	case <-w.stdout.ready:
	case err := <-done:
		cancel()
		t.Fatalf("run ended before listening: %v\n%s", err, w.logs)
	}
	first, _, _ := strings.Cut(w.stdout.String(), "\n")
	w.base = strings.TrimPrefix(first, "Listening on ")
	var once sync.Once
	w.stop = func() {
		once.Do(func() {
			w.client.CloseIdleConnections()
			cancel()
			assert.NoError(t, <-done)
		})
	}
	t.Cleanup(w.stop)
	return w
}

// startWithFake runs the example against fake as the day's loop runs it
// against "heliumid fake": HELIUMID_API_KEY and HELIUMID_BASE_URL set, and
// the fake's webhooks pointed at the example.
func startWithFake(t *testing.T, fake *heliumidtest.Server, args ...string) *webapp {
	t.Helper()
	if !slices.Contains(args, "-db") {
		args = append(args, "-db", filepath.Join(t.TempDir(), "webapp.db"))
	}
	w := start(t, map[string]string{"HELIUMID_API_KEY": fake.APIKey(), "HELIUMID_BASE_URL": fake.URL}, args...)
	fake.SetWebhookURL(w.base + "/webhooks/heliumid")
	return w
}

// newFake starts a heliumidtest.Server for the test.
func newFake(t *testing.T, opts ...heliumidtest.Option) *heliumidtest.Server {
	t.Helper()
	fake := heliumidtest.NewServer(opts...)
	t.Cleanup(fake.Close)
	return fake
}

// newTestApp is the example's app on its own, for tests that drive the
// sweep by hand: its store on an SQLite file in a temporary directory, its
// client wired to fake, its routes on an httptest server. Webhooks are
// not pointed at it: the test decides where they go.
func newTestApp(t *testing.T, fake *heliumidtest.Server) (*app, *webapp) {
	t.Helper()
	logs := &syncBuffer{}
	st, err := openStore(t.Context(), filepath.Join(t.TempDir(), "webapp.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	a := &app{client: fake.Client(), store: st, log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	srv := httptest.NewServer(a.handler(fake.APIKey()))
	t.Cleanup(srv.Close)
	w := &webapp{base: srv.URL, client: noRedirects(), logs: logs, stdout: &syncBuffer{}}
	t.Cleanup(w.client.CloseIdleConnections)
	return a, w
}

// noRedirects is a client that shows each redirect instead of following it.
func noRedirects() *http.Client {
	return &http.Client{
		Transport:     &http.Transport{},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
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

// postForm posts a form as a browser would, with the headers h added
// (Sec-Fetch-Site, Origin).
func (w *webapp) postForm(t *testing.T, path string, form url.Values, h http.Header) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.base+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := w.client.Do(req)
	require.NoError(t, err)
	return readResponse(t, res)
}

// postWebhook posts body to the webhook route, signed with key (unsigned
// when key is "").
func (w *webapp) postWebhook(t *testing.T, body []byte, h http.Header) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.base+"/webhooks/heliumid", bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := w.client.Do(req)
	require.NoError(t, err)
	return readResponse(t, res)
}

// status is GET /status's answer.
type status struct {
	User    string          `json:"user"`
	Session string          `json:"session"`
	Status  heliumid.Status `json:"status"`
}

func (w *webapp) status(t *testing.T, user string) status {
	t.Helper()
	res := w.get(t, "/status?user="+url.QueryEscape(user))
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	var s status
	require.NoError(t, json.Unmarshal([]byte(res.Body), &s))
	return s
}

// verify is GET /verify?user=NAME: it checks the 303 to a session link of
// the fake and returns the link and the session's id.
func (w *webapp) verify(t *testing.T, user string) (link, id string) {
	t.Helper()
	res := w.get(t, "/verify?user="+url.QueryEscape(user))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	link = res.Header.Get("Location")
	return link, sessionID(t, link)
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
