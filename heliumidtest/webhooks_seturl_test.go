package heliumidtest

import (
	"strconv"
	"sync"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The webhook test's chicken-and-egg: the service under test needs
// srv.Client() before its own URL exists; SetWebhookURL comes after.
func TestSetWebhookURLOnARunningServer(t *testing.T) {
	srv := newTestServer(t)
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	assert.Nil(t, srv.Deliveries(), "no URL yet: nothing queued")

	rc := newReceiver(t, DefaultAPIKey, nil)
	srv.SetWebhookURL(rc.url)
	walk(t, srv, id, heliumid.StatusSubmitted)
	waitWebhooks(t, srv)
	d := srv.Deliveries()
	require.Len(t, d, 1, "changes from then on, not the earlier ones")
	assert.Equal(t, "whk_1", d[0].ID)
	assert.True(t, d[0].Delivered())
	assert.Equal(t, []heliumid.Status{heliumid.StatusSubmitted}, statusesReceived(t, rc))
}

func TestSetWebhookURLMovesLaterAttempts(t *testing.T) {
	old, _ := flakyReceiver(t) // always 503
	watch, seen := observed()
	srv := newTestServer(t, WithWebhookURL(old.url), WithWebhookRetries(3, time.Hour), watch)
	id := createRaw(t, srv, `{}`)
	walk(t, srv, id, heliumid.StatusStarted)
	first := <-seen
	require.True(t, first.Pending, "waiting an hour for its retry")

	moved := newReceiver(t, DefaultAPIKey, nil)
	srv.SetWebhookURL(moved.url)
	require.NoError(t, srv.Redeliver(first.ID))
	assert.True(t, (<-seen).Delivered(), "the retry went to the new URL")
	walk(t, srv, id, heliumid.StatusSubmitted)
	waitWebhooks(t, srv)
	assert.Equal(t, []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted}, statusesReceived(t, moved))
	assert.Len(t, old.received(), 1, "the old URL got the first attempt only")
}

// SetWebhookURL returns nothing: an invalid URL shows in each attempt's
// error, which never quotes a password.
func TestSetWebhookURLInvalidIsReportedOnTheAttempts(t *testing.T) {
	for _, bad := range []string{"", "not a url", "ftp://user:s3cret@example.com/hooks", "/relative", "http://"} {
		t.Run(strconv.Quote(bad), func(t *testing.T) {
			watch, seen := observed()
			srv := newTestServer(t, WithWebhookRetries(2, 0), watch)
			srv.SetWebhookURL(bad)
			id := createRaw(t, srv, `{}`)
			walk(t, srv, id, heliumid.StatusStarted)
			waitWebhooks(t, srv)
			d := srv.Deliveries()
			require.Len(t, d, 1)
			assert.False(t, d[0].Delivered())
			assert.False(t, d[0].Pending, "given up after its attempts")
			assert.Equal(t, 2, d[0].Attempts)
			assert.Zero(t, d[0].StatusCode, "no request was made")
			require.Error(t, d[0].Err)
			assert.Contains(t, d[0].Err.Error(), "no attempt made: the URL given to SetWebhookURL")
			assert.NotContains(t, d[0].Err.Error(), "s3cret")
			assert.Len(t, seen, 2, "the observer hears each attempt")

			rc := newReceiver(t, DefaultAPIKey, nil)
			srv.SetWebhookURL(rc.url)
			assert.Equal(t, 1, srv.RedeliverFailed())
			waitWebhooks(t, srv)
			assert.True(t, srv.Deliveries()[0].Delivered(), "a valid URL fixes it")
		})
	}
}

// SetWebhookURL is safe while webhooks are being delivered (go test -race):
// every webhook reaches one of the URLs, once.
func TestSetWebhookURLWhileDelivering(t *testing.T) {
	a := newReceiver(t, DefaultAPIKey, nil)
	b := newReceiver(t, DefaultAPIKey, nil)
	srv := newTestServer(t, WithWebhookURL(a.url), fastRetries())
	const sessions = 20
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 200 {
			if i%2 == 0 {
				srv.SetWebhookURL(b.url)
			} else {
				srv.SetWebhookURL(a.url)
			}
		}
	})
	for range sessions {
		id := createRaw(t, srv, `{}`)
		require.NoError(t, srv.Decide(id, heliumid.StatusSuccessful))
	}
	wg.Wait()
	waitWebhooks(t, srv)
	assert.Len(t, srv.Deliveries(), 3*sessions)
	assert.Equal(t, 3*sessions, len(a.received())+len(b.received()))
	for _, d := range srv.Deliveries() {
		assert.True(t, d.Delivered(), d.ID)
	}
}

func TestSetWebhookURLAfterCloseDoesNothing(t *testing.T) {
	srv := NewServer()
	srv.Close()
	srv.SetWebhookURL("http://127.0.0.1:1/hooks")
	assert.Nil(t, srv.Deliveries())
}
