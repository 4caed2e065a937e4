package heliumidtest

import (
	"strconv"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var epoch = time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)

// lookup reads a session from the Server, failing the test if it is gone.
func lookup(t *testing.T, srv *Server, id string) *heliumid.Verification {
	t.Helper()
	v, ok := srv.Verification(id)
	require.True(t, ok, "session %s", id)
	return v
}

func TestSetStatusFollowsTheLifecycle(t *testing.T) {
	srv := newTestServer(t, WithStartTime(epoch))
	id := createRaw(t, srv, `{}`)

	err := srv.SetStatus(id, heliumid.StatusSuccessful)
	require.ErrorIs(t, err, ErrInvalidTransition)
	assert.Contains(t, err.Error(), `from "not started" it can go to "started" or "expired"`)
	assert.Equal(t, heliumid.StatusNotStarted, lookup(t, srv, id).Status, "a refused step changes nothing")

	require.ErrorIs(t, srv.SetStatus(id, heliumid.StatusNotStarted), ErrInvalidTransition, "no transition to itself")
	require.ErrorIs(t, srv.SetStatus(id, "pending"), ErrInvalidTransition, "unknown status")

	srv.Advance(time.Hour)
	require.NoError(t, srv.SetStatus(id, heliumid.StatusStarted))
	v := lookup(t, srv, id)
	assert.Equal(t, heliumid.StatusStarted, v.Status)
	assert.True(t, v.UpdatedAt.Equal(epoch.Add(time.Hour)), "updatedAt is the virtual now: %v", v.UpdatedAt)
	assert.True(t, v.CreatedAt.Equal(epoch))

	require.NoError(t, srv.SetStatus(id, "completed"), "aliases parse: completed is submitted")
	assert.Equal(t, heliumid.StatusSubmitted, lookup(t, srv, id).Status)
	require.NoError(t, srv.SetStatus(id, heliumid.StatusReview))
	require.ErrorIs(t, srv.SetStatus(id, heliumid.StatusReview), ErrInvalidTransition)
	require.NoError(t, srv.SetStatus(id, heliumid.StatusSuccessful))

	err = srv.SetStatus(id, heliumid.StatusFailed)
	require.ErrorIs(t, err, ErrInvalidTransition)
	assert.Contains(t, err.Error(), "final")
}

func TestSetStatusUnknownSession(t *testing.T) {
	srv := newTestServer(t)
	err := srv.SetStatus("nope", heliumid.StatusStarted)
	require.ErrorIs(t, err, heliumid.ErrNotFound)
	assert.Contains(t, err.Error(), `"nope"`)
}

func TestReasons(t *testing.T) {
	srv := newTestServer(t)
	failed := createRaw(t, srv, `{}`)
	walk(t, srv, failed, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusFailed)
	assert.NotEmpty(t, lookup(t, srv, failed).Reason)
	ok := createRaw(t, srv, `{}`)
	walk(t, srv, ok, toSuccessful...)
	assert.Empty(t, lookup(t, srv, ok).Reason)
}

func TestAdvanceAppliesExpiry(t *testing.T) {
	srv := newTestServer(t, WithStartTime(epoch))
	notStarted := createRaw(t, srv, `{}`)
	started := createRaw(t, srv, `{}`)
	submitted := createRaw(t, srv, `{}`)
	review := createRaw(t, srv, `{}`)
	successful := createRaw(t, srv, `{}`)
	walk(t, srv, started, heliumid.StatusStarted)
	walk(t, srv, submitted, heliumid.StatusStarted, heliumid.StatusSubmitted)
	walk(t, srv, review, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview)
	walk(t, srv, successful, toSuccessful...)

	srv.Advance(3 * 24 * time.Hour)
	later := createRaw(t, srv, `{}`) // created on day 3: expires on day 10

	srv.Advance(4*24*time.Hour - time.Millisecond)
	assert.Equal(t, heliumid.StatusNotStarted, lookup(t, srv, notStarted).Status, "one millisecond before its end a session lives")
	assert.Equal(t, heliumid.StatusStarted, lookup(t, srv, started).Status)

	srv.Advance(time.Millisecond)
	expiry := epoch.Add(heliumid.SessionLifetime)
	assert.True(t, srv.Now().Equal(expiry))

	v := lookup(t, srv, notStarted)
	assert.Equal(t, heliumid.StatusExpired, v.Status)
	assert.Equal(t, 5000, v.StatusCode)
	assert.True(t, v.UpdatedAt.Equal(expiry))
	assert.NotEmpty(t, v.Reason)
	v = lookup(t, srv, started)
	assert.Equal(t, heliumid.StatusAbandoned, v.Status)
	assert.Equal(t, 3033, v.StatusCode)
	assert.NotEmpty(t, v.Reason)
	assert.Equal(t, heliumid.StatusSubmitted, lookup(t, srv, submitted).Status, "submitted sessions wait for a decision")
	assert.Equal(t, heliumid.StatusReview, lookup(t, srv, review).Status)
	assert.Equal(t, heliumid.StatusSuccessful, lookup(t, srv, successful).Status)
	assert.Equal(t, heliumid.StatusNotStarted, lookup(t, srv, later).Status)

	require.ErrorIs(t, srv.SetStatus(notStarted, heliumid.StatusStarted), ErrInvalidTransition, "expired is final")

	// One big jump applies the expiry at the instant it happened.
	srv.Advance(30 * 24 * time.Hour)
	v = lookup(t, srv, later)
	assert.Equal(t, heliumid.StatusExpired, v.Status)
	assert.True(t, v.UpdatedAt.Equal(v.ExpiresAt()), "updatedAt %v is the expiry %v, not the clock's now", v.UpdatedAt, v.ExpiresAt())
}

func TestClockMovesOnlyForward(t *testing.T) {
	srv := newTestServer(t, WithStartTime(epoch.Add(123456789)))
	start := srv.Now()
	assert.True(t, start.Equal(epoch.Add(123*time.Millisecond)), "truncated to the millisecond: %v", start)
	time.Sleep(2 * time.Millisecond)
	assert.True(t, srv.Now().Equal(start), "the wall clock does not move it")
	srv.Advance(-time.Hour)
	srv.Advance(0)
	assert.True(t, srv.Now().Equal(start))
	srv.Advance(time.Second)
	assert.True(t, srv.Now().Equal(start.Add(time.Second)))
}

func TestDefaultClockStartsNow(t *testing.T) {
	before := time.Now().Add(-time.Millisecond)
	srv := newTestServer(t)
	assert.WithinRange(t, srv.Now(), before, time.Now())
	assert.Equal(t, time.UTC, srv.Now().Location())
}

func TestControlAfterClose(t *testing.T) {
	srv := NewServer(WithStartTime(epoch))
	id := createRaw(t, srv, `{}`)
	srv.Close()
	srv.Close() // idempotent
	require.ErrorIs(t, srv.SetStatus(id, heliumid.StatusStarted), ErrClosed)
	srv.Advance(30 * 24 * time.Hour)
	assert.True(t, srv.Now().Equal(epoch))
	assert.Equal(t, heliumid.StatusNotStarted, lookup(t, srv, id).Status, "state stays readable")
}

func TestInvalidOptionsPanicInNewServer(t *testing.T) {
	for name, opt := range map[string]Option{
		"empty key":        WithAPIKey(""),
		"key with a space": WithAPIKey("a b"),
		"zero rate":        WithRateLimit(0, time.Second),
		"zero window":      WithRateLimit(1, 0),
		"relative webhook": WithWebhookURL("/hooks"),
		"ftp webhook":      WithWebhookURL("ftp://example.com/"),
		"no attempts":      WithWebhookRetries(0, time.Millisecond),
		"negative backoff": WithWebhookRetries(1, -time.Millisecond),
		"zero start time":  WithStartTime(time.Time{}),
	} {
		assert.PanicsWithValue(t, "heliumidtest: NewServer: "+invalidMessage(opt), func() { NewServer(opt) }, name)
	}
	assert.NotPanics(t, func() { NewServer(nil).Close() }, "a nil option is skipped")
}

func TestInvalidOptionsNeverShowSecrets(t *testing.T) {
	for _, key := range []string{"sk_live_0123456789 ", "sk_live_0123456789\n", "sk_live_0123456789é", " "} {
		msg := invalidMessage(WithAPIKey(key))
		assert.Contains(t, msg, "WithAPIKey")
		assert.NotContains(t, msg, "sk_live_0123456789", "the key, or its printable part, is never shown")
		assert.NotContains(t, msg, strconv.Quote(key))
		assert.PanicsWithValue(t, "heliumidtest: NewServer: "+msg, func() { NewServer(WithAPIKey(key)) })
	}
	assert.Contains(t, invalidMessage(WithAPIKey("")), "empty")

	for _, u := range []string{"ftp://hooks:s3cret@example.com/", "http://hooks:s3cret@exa mple.com/%zz"} {
		assert.NotContains(t, invalidMessage(WithWebhookURL(u)), "s3cret", "a webhook URL's password is never shown")
	}
}

func invalidMessage(opt Option) string {
	var c config
	opt(&c)
	return c.errs[0]
}
