package heliumidtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// receiver is a webhook endpoint that verifies what it gets the way a
// user's handler must, and records it.
type receiver struct {
	t      *testing.T
	url    string
	apiKey string
	// answer picks the response to the n-th request (1-based); nil: 200.
	answer func(n int, w http.ResponseWriter, r *http.Request)

	mu       sync.Mutex
	requests int
	events   []received
}

type received struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	body  []byte
	sent  time.Time // Webhook-Timestamp
}

func (e received) status(t *testing.T) heliumid.Status {
	var v heliumid.Verification
	require.NoError(t, json.Unmarshal(e.Data, &v))
	return v.Status
}

func newReceiver(t *testing.T, apiKey string, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{t: t, apiKey: apiKey, answer: answer}
	ts := httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(ts.Close)
	rc.url = ts.URL + "/hooks"
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.requests++
	n := rc.requests
	rc.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	ev, err := rc.verify(r, body)
	if !assert.NoError(rc.t, err) {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	assert.Equal(rc.t, http.MethodPost, r.Method)
	assert.Equal(rc.t, "/hooks", r.URL.Path)
	assert.Equal(rc.t, "application/json", r.Header.Get("Content-Type"))
	if rc.answer != nil {
		rc.answer(n, w, r)
	}
	rc.mu.Lock()
	rc.events = append(rc.events, ev)
	rc.mu.Unlock()
}

// verify checks the signature by hand, as API.md describes it (HMAC-SHA256
// keyed with the API key over "<timestamp>.<body>", hex, with a timestamp in
// Unix milliseconds within 5 minutes of the wall clock), so a mistake shared
// by SignWebhook and ParseWebhook cannot hide, then with ParseWebhook.
func (rc *receiver) verify(r *http.Request, body []byte) (received, error) {
	ts := r.Header.Get("Webhook-Timestamp")
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return received{}, err
	}
	sent := time.UnixMilli(ms)
	if d := time.Since(sent); d < -5*time.Minute || d > 5*time.Minute {
		return received{}, fmt.Errorf("timestamp %v is more than 5 minutes off", sent)
	}
	mac := hmac.New(sha256.New, []byte(rc.apiKey))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	got, err := hex.DecodeString(r.Header.Get("Webhook-Signature"))
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return received{}, errors.New("bad signature")
	}
	// And the SDK's own verifier agrees.
	parsed, err := heliumid.ParseWebhook(body, r.Header, rc.apiKey)
	if err != nil {
		return received{}, err
	}
	ev := received{body: body, sent: sent}
	if err := json.Unmarshal(body, &ev); err != nil {
		return received{}, err
	}
	if parsed.Event != ev.Event || parsed.Data == nil || !parsed.Timestamp.Equal(sent) {
		return received{}, fmt.Errorf("ParseWebhook read %+v", parsed)
	}
	return ev, nil
}

// received returns the deliveries that got through, whatever the answer.
func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.events...)
}

func waitWebhooks(t *testing.T, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitWebhooks(ctx))
}

func fastRetries() Option { return WithWebhookRetries(3, time.Millisecond) }

func TestWebhookOnEveryStatusChange(t *testing.T) {
	rc := newReceiver(t, "sk_test_hooks", nil)
	srv := newTestServer(t, WithAPIKey("sk_test_hooks"), WithWebhookURL(rc.url), fastRetries())
	id := createRaw(t, srv, `{"vendorData":"user-42"}`)
	waitWebhooks(t, srv)
	assert.Empty(t, rc.received(), "no webhook on creation")

	walk(t, srv, id, toSuccessful...)
	waitWebhooks(t, srv)

	events := rc.received()
	require.Len(t, events, 3)
	for i, want := range toSuccessful {
		assert.Equal(t, WebhookEvent, events[i].Event)
		assert.Equal(t, want, events[i].status(t), "in order, each with the session as it was then")
		assert.WithinDuration(t, time.Now(), events[i].sent, time.Minute, "signed with the wall clock")
	}
	// The data is the session as GET returns it.
	get := send(t, srv, http.MethodGet, "/v1/verifications/"+id, "")
	assert.JSONEq(t, string(get.env.Data), string(events[2].Data))

	deliveries := srv.Deliveries()
	require.Len(t, deliveries, 3)
	for i, d := range deliveries {
		assert.NoError(t, d.Err)
		assert.Equal(t, WebhookEvent, d.Event)
		assert.Equal(t, id, d.VerificationID)
		assert.Equal(t, toSuccessful[i], d.Status)
		assert.Equal(t, 1, d.Attempts)
		assert.Equal(t, http.StatusOK, d.StatusCode)
		assert.Equal(t, events[i].body, d.Body)
	}
}

func TestWebhookOnExpiry(t *testing.T) {
	rc := newReceiver(t, DefaultAPIKey, nil)
	srv := newTestServer(t, WithWebhookURL(rc.url), fastRetries())
	a := createRaw(t, srv, `{}`)
	b := createRaw(t, srv, `{}`)
	c := createRaw(t, srv, `{}`)
	walk(t, srv, b, heliumid.StatusStarted)
	walk(t, srv, c, toSuccessful...)
	waitWebhooks(t, srv)
	before := len(rc.received())

	srv.Advance(heliumid.SessionLifetime)
	waitWebhooks(t, srv)
	events := rc.received()[before:]
	require.Len(t, events, 2, "decided sessions do not expire")
	assert.Equal(t, heliumid.StatusExpired, events[0].status(t))
	assert.Equal(t, heliumid.StatusAbandoned, events[1].status(t))
	var first heliumid.Verification
	require.NoError(t, json.Unmarshal(events[0].Data, &first))
	assert.Equal(t, a, first.ID)
}

func TestWebhookRetriedUntilAccepted(t *testing.T) {
	rc := newReceiver(t, DefaultAPIKey, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	srv := newTestServer(t, WithWebhookURL(rc.url), fastRetries())
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	waitWebhooks(t, srv)

	d := srv.Deliveries()
	require.Len(t, d, 1)
	assert.NoError(t, d[0].Err)
	assert.Equal(t, 3, d[0].Attempts)
	assert.Equal(t, http.StatusOK, d[0].StatusCode)
	got := rc.received()
	require.Len(t, got, 3)
	assert.Equal(t, got[0].body, got[2].body, "every attempt sends the same body")
}

func TestWebhookGivesUpAfterItsAttempts(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	rc := newReceiver(t, DefaultAPIKey, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	srv := newTestServer(t, WithWebhookURL(rc.url), WithWebhookRetries(2, time.Millisecond))
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	waitWebhooks(t, srv)
	failing.Store(false)
	walk(t, srv, id, heliumid.StatusSubmitted)
	waitWebhooks(t, srv)

	d := srv.Deliveries()
	require.Len(t, d, 2)
	require.Error(t, d[0].Err)
	assert.Contains(t, d[0].Err.Error(), "503")
	assert.Equal(t, 2, d[0].Attempts)
	assert.Equal(t, http.StatusServiceUnavailable, d[0].StatusCode)
	assert.False(t, d[0].Pending)
	assert.False(t, d[0].Delivered())
	assert.NoError(t, d[1].Err, "the next webhook is still sent")
	assert.True(t, d[1].Delivered())
	assert.Equal(t, heliumid.StatusSubmitted, d[1].Status)
	assert.Len(t, rc.received(), 3)
}

func TestWebhookToADeadEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://" + l.Addr().String() + "/hooks"
	require.NoError(t, l.Close())

	srv := newTestServer(t, WithWebhookURL(dead), fastRetries())
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	waitWebhooks(t, srv)
	d := srv.Deliveries()
	require.Len(t, d, 1)
	require.Error(t, d[0].Err)
	assert.Equal(t, 0, d[0].StatusCode)
	assert.Equal(t, 3, d[0].Attempts)
}

func TestWebhookRedirectIsNotFollowed(t *testing.T) {
	rc := newReceiver(t, DefaultAPIKey, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	srv := newTestServer(t, WithWebhookURL(rc.url), WithWebhookRetries(1, 0))
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	waitWebhooks(t, srv)
	d := srv.Deliveries()
	require.Len(t, d, 1)
	require.Error(t, d[0].Err)
	assert.Equal(t, http.StatusFound, d[0].StatusCode)
	assert.Len(t, rc.received(), 1, "only the /hooks request, no follow-up")
}

func TestCloseWaitsForAnInFlightWebhook(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	rc := newReceiver(t, DefaultAPIKey, func(int, http.ResponseWriter, *http.Request) {
		close(entered)
		<-release
	})
	srv := NewServer(WithWebhookURL(rc.url))
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	<-entered

	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a webhook was being delivered")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-closed
	d := srv.Deliveries()
	require.Len(t, d, 1)
	assert.NoError(t, d[0].Err)
}

func TestCloseDeliversWhatIsQueued(t *testing.T) {
	rc := newReceiver(t, DefaultAPIKey, nil)
	srv := NewServer(WithWebhookURL(rc.url))
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, toSuccessful...)
	srv.Close()
	assert.Len(t, rc.received(), 3)
	assert.Len(t, srv.Deliveries(), 3)
}

func TestCloseGivesUpOnAHangingReceiver(t *testing.T) {
	rc := newReceiver(t, DefaultAPIKey, func(_ int, _ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers; ends when the sender hangs up
	})
	srv := NewServer(WithWebhookURL(rc.url))
	srv.closeWait = 20 * time.Millisecond
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted, heliumid.StatusSubmitted)

	start := time.Now()
	srv.Close()
	assert.Less(t, time.Since(start), 2*time.Second)
	d := srv.Deliveries()
	require.Len(t, d, 2, "the abandoned webhooks are reported, not lost")
	for _, del := range d {
		require.Error(t, del.Err)
		assert.Contains(t, del.Err.Error(), "abandoned")
	}
	assert.Equal(t, 0, d[1].Attempts, "the queued one was never tried")
}

func TestWaitWebhooksEndsWithItsContext(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, DefaultAPIKey, func(int, http.ResponseWriter, *http.Request) { <-release })
	srv := newTestServer(t, WithWebhookURL(rc.url))
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, srv.WaitWebhooks(ctx), context.DeadlineExceeded)
	close(release)
	waitWebhooks(t, srv)
}

func TestNoWebhooksWithoutAURL(t *testing.T) {
	srv := newTestServer(t)
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	assert.Nil(t, srv.Deliveries())
	require.NoError(t, srv.WaitWebhooks(context.Background()))
}

func TestWebhookBodyIsWhatTheServerSends(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 123e6, time.UTC)
	rc := newReceiver(t, DefaultAPIKey, nil)
	srv := newTestServer(t, WithStartTime(at), WithWebhookURL(rc.url), fastRetries())
	id := createRaw(t, srv, `{"vendorData":"user-42"}`)
	walk(t, srv, id, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusFailed)
	waitWebhooks(t, srv)

	deliveries := srv.Deliveries()
	require.Len(t, deliveries, 3)
	for i, d := range deliveries {
		// Each change is stamped 1 ms after the one before it (the clock
		// stands still); WebhookBody stamps createdAt and updatedAt alike.
		// The media URLs point at the Server; WebhookBody's, with no Server, nowhere.
		changed := at.Add(time.Duration(i+1) * time.Millisecond)
		want := strings.Replace(string(WebhookBody(id, d.Status, changed, "user-42")),
			`"createdAt":"`+changed.Format(timeLayout)+`"`, `"createdAt":"`+at.Format(timeLayout)+`"`, 1)
		body := strings.ReplaceAll(string(d.Body), strings.TrimSuffix(srv.URL, "/api"), mediaNowhere)
		assert.Equal(t, want, body, "byte for byte but for the media host, %s", d.Status)
	}
	local := at.In(time.FixedZone("UTC+2", 2*60*60))
	assert.Equal(t, WebhookBody(id, heliumid.StatusFailed, at, "user-42"), WebhookBody(id, heliumid.StatusFailed, local, "user-42"),
		"timestamps in UTC, as the API writes them")
}

func TestWebhookBodyParses(t *testing.T) {
	at := time.Now()
	for _, tt := range []struct {
		status heliumid.Status
		code   int
		reason bool
		pii    bool
	}{
		{heliumid.StatusNotStarted, 1001, false, false},
		{heliumid.StatusSubmitted, 2001, false, true},
		{heliumid.StatusReview, 0, false, true},
		{heliumid.StatusExpired, 5000, true, false},
		{heliumid.StatusAbandoned, 3033, true, false},
		{"vanished", 0, false, false}, // a status Helium ID may add: sent as is
	} {
		body := WebhookBody("a b/c", tt.status, at, "")
		ev, err := heliumid.ParseWebhook(body, heliumid.SignWebhook(body, "k", at), "k")
		require.NoError(t, err, "%s: %s", tt.status, body)
		require.NotNil(t, ev.Data)
		assert.Equal(t, WebhookEvent, ev.Event)
		assert.Equal(t, "a b/c", ev.Data.ID)
		assert.Equal(t, tt.status, ev.Data.Status)
		assert.Equal(t, tt.code, ev.Data.StatusCode, tt.status)
		assert.Equal(t, tt.reason, ev.Data.Reason != "", tt.status)
		assert.Equal(t, tt.pii, ev.Data.DocumentInfo != nil, tt.status)
		assert.NotContains(t, string(body), "vendorData", "left out when empty")
		if tt.pii {
			assert.Contains(t, ev.Data.Selfie.URL, "/a%20b%2Fc/selfie.jpg", "the id is escaped in the URLs")
		}
	}
}
