package heliumidtest

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flakyReceiver is a receiver that answers 503 while down.
func flakyReceiver(t *testing.T) (*receiver, *atomic.Bool) {
	down := &atomic.Bool{}
	down.Store(true)
	rc := newReceiver(t, DefaultAPIKey, func(_ int, w http.ResponseWriter, _ *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	return rc, down
}

// observed collects what a WithWebhookObserver sees.
func observed() (Option, <-chan Delivery) {
	ch := make(chan Delivery, 100)
	return WithWebhookObserver(func(d Delivery) { ch <- d }), ch
}

func TestRedeliverAfterTheReceiverComesBack(t *testing.T) {
	rc, down := flakyReceiver(t)
	srv := newTestServer(t, WithWebhookURL(rc.url), WithWebhookRetries(1, 0))
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	waitWebhooks(t, srv)
	d := srv.Deliveries()
	require.Len(t, d, 1)
	require.False(t, d[0].Delivered(), "given up after its one attempt")
	assert.Equal(t, "whk_1", d[0].ID)

	down.Store(false) // the receiver restarted
	require.NoError(t, srv.Redeliver(d[0].ID))
	waitWebhooks(t, srv)
	d = srv.Deliveries()
	require.Len(t, d, 1, "the same webhook, not a new one")
	assert.True(t, d[0].Delivered())
	assert.Equal(t, 2, d[0].Attempts)
	got := rc.received()
	require.Len(t, got, 2)
	assert.Equal(t, got[0].body, got[1].body, "the same body, signed anew")
}

func TestRedeliverFailed(t *testing.T) {
	rc, down := flakyReceiver(t)
	srv := newTestServer(t, WithWebhookURL(rc.url), WithWebhookRetries(1, 0))
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted, heliumid.StatusSubmitted)
	waitWebhooks(t, srv)
	down.Store(false)
	walk(t, srv, id, heliumid.StatusSuccessful)
	waitWebhooks(t, srv)

	assert.Equal(t, 2, srv.RedeliverFailed(), "the delivered one is left alone")
	waitWebhooks(t, srv)
	for _, d := range srv.Deliveries() {
		assert.True(t, d.Delivered(), d.ID)
	}
	assert.Len(t, rc.received(), 5)
	assert.Equal(t, 0, srv.RedeliverFailed())
}

// With retries spread over an hour, a webhook whose first attempt failed is
// pending, with its next attempt in the record; Redeliver sends it now.
func TestRetryScheduledLaterAndRedeliverNow(t *testing.T) {
	rc, down := flakyReceiver(t)
	watch, seen := observed()
	srv := newTestServer(t, WithWebhookURL(rc.url), WithWebhookRetries(5, time.Hour), watch)
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	first := <-seen
	assert.True(t, first.Pending)
	assert.Equal(t, 1, first.Attempts)
	assert.Equal(t, http.StatusServiceUnavailable, first.StatusCode)
	assert.WithinDuration(t, time.Now().Add(time.Hour), first.NextAttempt, time.Minute)

	d := srv.Deliveries()
	require.Len(t, d, 1)
	assert.True(t, d[0].Pending)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, srv.WaitWebhooks(ctx), context.DeadlineExceeded, "a retry is pending")

	down.Store(false)
	require.NoError(t, srv.Redeliver(first.ID))
	second := <-seen
	assert.True(t, second.Delivered())
	assert.Equal(t, 2, second.Attempts)
	waitWebhooks(t, srv)
}

func TestCloseAbandonsARetryDueLater(t *testing.T) {
	rc, _ := flakyReceiver(t)
	watch, seen := observed()
	srv := NewServer(WithWebhookURL(rc.url), WithWebhookRetries(5, time.Hour), watch)
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	<-seen

	start := time.Now()
	srv.Close()
	assert.Less(t, time.Since(start), 2*time.Second, "Close does not wait for a retry an hour away")
	abandoned := <-seen
	assert.False(t, abandoned.Pending)
	require.Error(t, abandoned.Err)
	assert.Contains(t, abandoned.Err.Error(), "abandoned when the server closed")
	assert.Contains(t, abandoned.Err.Error(), "503")
	d := srv.Deliveries()
	require.Len(t, d, 1)
	assert.False(t, d[0].Delivered())
}

func TestRedeliverErrors(t *testing.T) {
	rc := newReceiver(t, DefaultAPIKey, nil)
	srv := NewServer(WithWebhookURL(rc.url))
	assert.ErrorIs(t, srv.Redeliver("whk_9"), heliumid.ErrNotFound)
	srv.Close()
	assert.ErrorIs(t, srv.Redeliver("whk_1"), ErrClosed)
	assert.Equal(t, 0, srv.RedeliverFailed())

	plain := newTestServer(t)
	assert.ErrorIs(t, plain.Redeliver("whk_1"), heliumid.ErrNotFound)
	assert.Equal(t, 0, plain.RedeliverFailed())
}

func TestWebhookObserverSeesEveryAttempt(t *testing.T) {
	rc := newReceiver(t, DefaultAPIKey, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	watch, seen := observed()
	srv := newTestServer(t, WithWebhookURL(rc.url), fastRetries(), watch)
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	waitWebhooks(t, srv)

	a, b := <-seen, <-seen
	assert.Equal(t, []int{1, 2}, []int{a.Attempts, b.Attempts})
	assert.True(t, a.Pending)
	assert.Equal(t, http.StatusBadGateway, a.StatusCode)
	assert.False(t, b.Pending)
	assert.True(t, b.Delivered())
	assert.Equal(t, heliumid.StatusStarted, b.Status)
	assert.Empty(t, seen)
}

func TestWebhookBackoffDoublesUpToAnHour(t *testing.T) {
	d := &dispatcher{backoff: 5 * time.Second}
	var waits []time.Duration
	for n := 1; n <= 7; n++ {
		waits = append(waits, d.wait(n))
	}
	assert.Equal(t, []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second,
		80 * time.Second, 160 * time.Second, 320 * time.Second}, waits)
	assert.Equal(t, time.Hour, d.wait(1000))
	d.backoff = time.Hour
	assert.Equal(t, time.Hour, d.wait(2))

	assert.Panics(t, func() { NewServer(WithWebhookRetries(3, 2*time.Hour)) })
}

// Issue 21 defect 3: Redeliver while an attempt is in flight, which then
// succeeds. The delivery is then pending again with no error: the state
// "sent again on request" that "heliumid fake" crashed on, when its log
// line assumed a pending delivery carries an error. The Server reports it
// as documented at Delivery, and sends it again.
func TestRedeliverWhileASuccessfulAttemptIsInFlight(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	rc := newReceiver(t, DefaultAPIKey, func(n int, _ http.ResponseWriter, _ *http.Request) {
		if n == 1 { // answer 200 only once Redeliver was called
			arrived <- struct{}{}
			<-release
		}
	})
	watch, seen := observed()
	srv := newTestServer(t, WithWebhookURL(rc.url), fastRetries(), watch)
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)

	<-arrived
	require.NoError(t, srv.Redeliver("whk_1"))
	inFlight := srv.Deliveries()[0]
	assert.True(t, inFlight.Pending)
	assert.True(t, inFlight.NextAttempt.IsZero(), "in flight")
	unblock()

	first := <-seen
	assert.Equal(t, 1, first.Attempts)
	assert.Equal(t, http.StatusOK, first.StatusCode)
	assert.NoError(t, first.Err, "the attempt succeeded")
	assert.True(t, first.Pending, "and another is due, as asked")
	assert.False(t, first.NextAttempt.IsZero(), "at once")
	assert.False(t, first.Delivered(), "not final while another attempt is due")

	second := <-seen
	assert.True(t, second.Delivered())
	assert.Equal(t, 2, second.Attempts)
	waitWebhooks(t, srv)
	assert.Len(t, rc.received(), 2, "sent twice, the same body")
}
