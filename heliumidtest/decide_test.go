package heliumidtest

import (
	"encoding/json"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statusesReceived lists the statuses of the webhooks rc got, in order.
func statusesReceived(t *testing.T, rc *receiver) []heliumid.Status {
	var out []heliumid.Status
	for _, ev := range rc.received() {
		out = append(out, ev.status(t))
	}
	return out
}

func TestDecideWalksEveryStepWithItsWebhook(t *testing.T) {
	for _, tt := range []struct {
		from heliumid.Status
		to   heliumid.Status
		want []heliumid.Status // webhooks of the walk
	}{
		{heliumid.StatusNotStarted, heliumid.StatusSuccessful, []heliumid.Status{"started", "submitted", "successful"}},
		{heliumid.StatusNotStarted, heliumid.StatusFailed, []heliumid.Status{"started", "submitted", "failed"}},
		{heliumid.StatusNotStarted, heliumid.StatusReview, []heliumid.Status{"started", "submitted", "review"}},
		{heliumid.StatusStarted, heliumid.StatusSuccessful, []heliumid.Status{"submitted", "successful"}},
		{heliumid.StatusSubmitted, heliumid.StatusReview, []heliumid.Status{"review"}},
		{heliumid.StatusReview, heliumid.StatusSuccessful, []heliumid.Status{"successful"}},
		{heliumid.StatusReview, heliumid.StatusFailed, []heliumid.Status{"failed"}},
	} {
		t.Run(string(tt.from)+" to "+string(tt.to), func(t *testing.T) {
			rc := newReceiver(t, DefaultAPIKey, nil)
			srv := newTestServer(t, WithStartTime(epoch), WithWebhookURL(rc.url), fastRetries())
			id := createRaw(t, srv, `{}`)
			switch tt.from {
			case heliumid.StatusStarted:
				walk(t, srv, id, "started")
			case heliumid.StatusSubmitted:
				walk(t, srv, id, "started", "submitted")
			case heliumid.StatusReview:
				walk(t, srv, id, "started", "submitted", "review")
			}
			waitWebhooks(t, srv)
			before := len(rc.received())
			last := lookup(t, srv, id).UpdatedAt

			require.NoError(t, srv.Decide(id, tt.to))
			waitWebhooks(t, srv)
			assert.Equal(t, tt.to, lookup(t, srv, id).Status)
			assert.Equal(t, tt.want, statusesReceived(t, rc)[before:], "one webhook per step, in order")
			for _, ev := range rc.received()[before:] {
				var v heliumid.Verification
				require.NoError(t, json.Unmarshal(ev.Data, &v))
				assert.True(t, v.UpdatedAt.After(last), "each step later than the one before: %v after %v", v.UpdatedAt, last)
				last = v.UpdatedAt
			}
		})
	}
}

func TestDecideRefuses(t *testing.T) {
	srv := newTestServer(t)
	id := createRaw(t, srv, `{}`)
	for _, st := range []heliumid.Status{"started", "submitted", "not started", "expired", "abandoned", "pending", ""} {
		err := srv.Decide(id, st)
		require.ErrorIs(t, err, ErrInvalidTransition, "%q is not a decision", st)
		assert.Contains(t, err.Error(), "is not a decision: Decide takes")
	}
	assert.Equal(t, heliumid.StatusNotStarted, lookup(t, srv, id).Status, "nothing changed")

	require.NoError(t, srv.Decide(id, heliumid.StatusSuccessful))
	err := srv.Decide(id, heliumid.StatusSuccessful)
	require.ErrorIs(t, err, ErrInvalidTransition)
	assert.Contains(t, err.Error(), `is "successful" already`)
	err = srv.Decide(id, heliumid.StatusFailed)
	require.ErrorIs(t, err, ErrInvalidTransition)
	assert.Contains(t, err.Error(), `cannot reach "failed" from "successful"; "successful" is final`)

	review := createRaw(t, srv, `{}`)
	require.NoError(t, srv.Decide(review, heliumid.StatusReview))
	require.ErrorIs(t, srv.Decide(review, heliumid.StatusReview), ErrInvalidTransition)

	expired := createRaw(t, srv, `{}`)
	srv.Advance(heliumid.SessionLifetime)
	err = srv.Decide(expired, heliumid.StatusSuccessful)
	require.ErrorIs(t, err, ErrInvalidTransition, "expiry first: a session past its lifetime has expired")
	assert.Equal(t, heliumid.StatusExpired, lookup(t, srv, expired).Status)

	require.ErrorIs(t, srv.Decide("nope", heliumid.StatusSuccessful), heliumid.ErrNotFound)
	srv.Close()
	require.ErrorIs(t, srv.Decide(review, heliumid.StatusSuccessful), ErrClosed)
}

// Decide takes the lock once: no other change of the session comes
// between its steps, whatever runs beside it.
func TestDecideIsOneChange(t *testing.T) {
	srv := newTestServer(t)
	id := createRaw(t, srv, `{}`)
	done := make(chan error)
	go func() { done <- srv.SetStatus(id, heliumid.StatusStarted) }()
	decided := srv.Decide(id, heliumid.StatusSuccessful)
	setErr := <-done
	// Either SetStatus went first (then Decide walked on from started) or
	// Decide did (then started was refused): never both, never neither.
	assert.NoError(t, decided)
	assert.Equal(t, heliumid.StatusSuccessful, lookup(t, srv, id).Status)
	if setErr != nil {
		assert.ErrorIs(t, setErr, ErrInvalidTransition)
	}
}

func TestEveryChangeIsStampedLaterThanTheOneBefore(t *testing.T) {
	srv := newTestServer(t, WithStartTime(epoch), WithResubmission()) // the virtual clock stands still
	id := createRaw(t, srv, `{}`)
	steps := []heliumid.Status{"started", "submitted", "review", "failed", "started", "submitted", "successful"}
	prev := lookup(t, srv, id).UpdatedAt
	assert.True(t, prev.Equal(epoch), "created at the clock's now")
	for _, st := range steps {
		require.NoError(t, srv.SetStatus(id, st))
		v := lookup(t, srv, id)
		assert.Equal(t, prev.Add(time.Millisecond), v.UpdatedAt, "%s: 1 ms after the change before it", st)
		prev = v.UpdatedAt
	}
	assert.True(t, srv.Now().Equal(epoch), "the clock itself did not move")
	assert.True(t, lookup(t, srv, id).CreatedAt.Equal(epoch))

	// Once the clock is ahead, a change carries the clock's now.
	srv.Advance(time.Hour)
	other := createRaw(t, srv, `{}`)
	srv.Advance(time.Second)
	require.NoError(t, srv.SetStatus(other, "started"))
	assert.True(t, lookup(t, srv, other).UpdatedAt.Equal(epoch.Add(time.Hour+time.Second)))
}

func TestResubmission(t *testing.T) {
	t.Run("without the option failed is final", func(t *testing.T) {
		srv := newTestServer(t)
		id := createRaw(t, srv, `{}`)
		require.NoError(t, srv.Decide(id, heliumid.StatusFailed))
		err := srv.SetStatus(id, heliumid.StatusStarted)
		require.ErrorIs(t, err, ErrInvalidTransition)
		assert.Contains(t, err.Error(), `"failed" is final: create a new session instead (a Server started WithResubmission accepts one resubmission)`)
		require.ErrorIs(t, srv.Decide(id, heliumid.StatusSuccessful), ErrInvalidTransition)
	})

	t.Run("with it, once", func(t *testing.T) {
		rc := newReceiver(t, DefaultAPIKey, nil)
		srv := newTestServer(t, WithResubmission(), WithWebhookURL(rc.url), fastRetries())
		id := createRaw(t, srv, `{}`)
		require.NoError(t, srv.Decide(id, heliumid.StatusFailed))
		assert.Equal(t, reasonFailed, lookup(t, srv, id).Reason)

		require.NoError(t, srv.SetStatus(id, heliumid.StatusStarted), "the one resubmission")
		v := lookup(t, srv, id)
		assert.Equal(t, heliumid.StatusStarted, v.Status)
		assert.Empty(t, v.Reason, "a resubmitted session is no longer failed")
		assert.Nil(t, v.DocumentInfo, "its data comes again once it is submitted again")

		require.NoError(t, srv.Decide(id, heliumid.StatusFailed))
		assert.Contains(t, lookup(t, srv, id).Reason, "limit exceeded")
		err := srv.SetStatus(id, heliumid.StatusStarted)
		require.ErrorIs(t, err, ErrInvalidTransition)
		assert.Contains(t, err.Error(), "limit exceeded: the session was resubmitted once already")
		require.ErrorIs(t, srv.Decide(id, heliumid.StatusSuccessful), ErrInvalidTransition)
		assert.Equal(t, heliumid.StatusFailed, lookup(t, srv, id).Status)

		waitWebhooks(t, srv)
		assert.Equal(t, []heliumid.Status{"started", "submitted", "failed", "started", "submitted", "failed"}, statusesReceived(t, rc),
			"the resubmission is a status change like any other, with its webhook")
	})

	t.Run("Decide walks the resubmission", func(t *testing.T) {
		rc := newReceiver(t, DefaultAPIKey, nil)
		srv := newTestServer(t, WithResubmission(), WithWebhookURL(rc.url), fastRetries())
		id := createRaw(t, srv, `{}`)
		require.NoError(t, srv.Decide(id, heliumid.StatusFailed))
		require.NoError(t, srv.Decide(id, heliumid.StatusSuccessful))
		waitWebhooks(t, srv)
		assert.Equal(t, []heliumid.Status{"started", "submitted", "failed", "started", "submitted", "successful"}, statusesReceived(t, rc))
	})

	t.Run("not after the session's lifetime", func(t *testing.T) {
		srv := newTestServer(t, WithResubmission())
		id := createRaw(t, srv, `{}`)
		require.NoError(t, srv.Decide(id, heliumid.StatusFailed))
		srv.Advance(heliumid.SessionLifetime)
		err := srv.SetStatus(id, heliumid.StatusStarted)
		require.ErrorIs(t, err, ErrInvalidTransition)
		assert.Contains(t, err.Error(), "7-day lifetime is over")
	})

	t.Run("a resubmitted session left started is abandoned at its expiry", func(t *testing.T) {
		srv := newTestServer(t, WithResubmission())
		id := createRaw(t, srv, `{}`)
		require.NoError(t, srv.Decide(id, heliumid.StatusFailed))
		require.NoError(t, srv.SetStatus(id, heliumid.StatusStarted))
		srv.Advance(heliumid.SessionLifetime)
		assert.Equal(t, heliumid.StatusAbandoned, lookup(t, srv, id).Status)
	})
}
