package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every delivery of every webhook fails (a receiver that answers 500, or
// one that is down): the decision is not in the database until ONE sweep
// fetches it, and then it is; the next sweep has nothing to fetch.
func TestOneSweepRecordsADecisionWhoseWebhooksAllFailed(t *testing.T) {
	for name, receiver := range map[string]func(t *testing.T) (url string, hits func() int64){
		"the receiver answers 500": func(t *testing.T) (string, func() int64) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				http.Error(w, "deploying", http.StatusInternalServerError)
			}))
			t.Cleanup(srv.Close)
			return srv.URL + "/webhooks/heliumid", n.Load
		},
		"nobody listens": func(t *testing.T) (string, func() int64) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := ln.Addr().String()
			ln.Close()
			return "http://" + addr + "/webhooks/heliumid", func() int64 { return -1 }
		},
	} {
		t.Run(name, func(t *testing.T) {
			fake := newFake(t, heliumidtest.WithWebhookRetries(2, time.Millisecond))
			a, w := newTestApp(t, fake)
			url, hits := receiver(t)
			fake.SetWebhookURL(url)

			_, id := w.verify(t, "alice")
			require.NoError(t, fake.Decide(id, heliumid.StatusSuccessful))
			require.NoError(t, fake.WaitWebhooks(t.Context()))
			deliveries := fake.Deliveries()
			require.Len(t, deliveries, 3, "started, submitted, successful")
			for _, d := range deliveries {
				require.False(t, d.Delivered(), d.ID)
				require.Equal(t, 2, d.Attempts, d.ID)
			}
			if n := hits(); n >= 0 {
				require.EqualValues(t, 6, n, "every attempt reached the receiver, and failed")
			}
			assert.Equal(t, status{"alice", id, heliumid.StatusNotStarted}, w.status(t, "alice"), "no webhook arrived")

			rep, err := a.sweep(t.Context())
			require.NoError(t, err)
			assert.Equal(t, sweepReport{Fetched: 1, Applied: 1}, rep)
			assert.Equal(t, status{"alice", id, heliumid.StatusSuccessful}, w.status(t, "alice"))
			assert.Contains(t, w.logs.String(), `msg="recorded a status" source=sweep session=`+id+` user_id=1 status=successful`)

			rep, err = a.sweep(t.Context())
			require.NoError(t, err)
			assert.Equal(t, sweepReport{}, rep, "a decided session is not fetched again")
		})
	}
}

// The sweep fetches not started, started, submitted and review sessions
// (review waits for a person on your side, whose decision comes back like
// any other), and failed ones while the session lives (a resubmission may
// follow); never successful, expired or abandoned ones, nor failed ones
// older than the session lifetime.
func TestTheSweepFetchesSessionsWhoseStatusCanStillChange(t *testing.T) {
	fake := newFake(t)
	a, w := newTestApp(t, fake)
	fake.SetWebhookURL(w.base + "/webhooks/heliumid")
	ids := map[string]string{}
	for _, name := range []string{"not started", "started", "submitted", "review", "successful", "failed", "old failed", "expired", "abandoned"} {
		_, id := w.verify(t, name)
		ids[name] = id
		switch name {
		case "successful", "failed", "review":
			require.NoError(t, fake.Decide(id, heliumid.Status(name)))
		case "old failed":
			require.NoError(t, fake.Decide(id, heliumid.StatusFailed))
		case "started", "submitted", "abandoned":
			require.NoError(t, fake.SetStatus(id, heliumid.StatusStarted))
			if name == "submitted" {
				require.NoError(t, fake.SetStatus(id, heliumid.StatusSubmitted))
			}
		}
	}
	require.NoError(t, fake.WaitWebhooks(t.Context()))
	// Time brings expired and abandoned (after 7 days): recorded here as if
	// their webhooks had arrived. The old failed session was created longer
	// ago than a session lives.
	for _, st := range []heliumid.Status{heliumid.StatusExpired, heliumid.StatusAbandoned} {
		_, err := a.store.db.ExecContext(t.Context(), `UPDATE sessions SET status = ?, stage = ? WHERE id = ?`, st, st.Stage(), ids[string(st)])
		require.NoError(t, err)
	}
	_, err := a.store.db.ExecContext(t.Context(), `UPDATE sessions SET created_at = ? WHERE id = ?`,
		time.Now().Add(-heliumid.SessionLifetime-time.Minute).UnixNano(), ids["old failed"])
	require.NoError(t, err)
	before := len(fake.Requests())

	rep, err := a.sweep(t.Context())
	require.NoError(t, err)
	assert.Equal(t, sweepReport{Fetched: 5, Applied: 1}, rep, "nothing new but the not started session's updatedAt, which no webhook carries")
	var fetched []string
	for _, r := range fake.Requests()[before:] {
		require.Equal(t, http.MethodGet, r.Method)
		fetched = append(fetched, r.Path[strings.LastIndex(r.Path, "/")+1:])
	}
	assert.ElementsMatch(t, []string{ids["not started"], ids["started"], ids["submitted"], ids["review"], ids["failed"]}, fetched)
}

// A resubmission's decision whose webhooks all failed: the sweep, which
// keeps fetching a failed session while it lives, records it, later than
// the failure.
func TestTheSweepCatchesAResubmissionsDecision(t *testing.T) {
	fake := newFake(t, heliumidtest.WithResubmission(), heliumidtest.WithWebhookRetries(1, 0))
	a, w := newTestApp(t, fake)
	fake.SetWebhookURL(w.base + "/webhooks/heliumid")
	_, id := w.verify(t, "ann")
	require.NoError(t, fake.Decide(id, heliumid.StatusFailed))
	require.NoError(t, fake.WaitWebhooks(t.Context()))
	require.Equal(t, heliumid.StatusFailed, w.status(t, "ann").Status)

	fake.SetWebhookURL("http://127.0.0.1:1/nobody-listens")
	require.NoError(t, fake.SetStatus(id, heliumid.StatusStarted)) // the one resubmission
	require.NoError(t, fake.Decide(id, heliumid.StatusSuccessful))
	require.NoError(t, fake.WaitWebhooks(t.Context()))
	assert.Equal(t, heliumid.StatusFailed, w.status(t, "ann").Status, "no webhook arrived")

	rep, err := a.sweep(t.Context())
	require.NoError(t, err)
	assert.Equal(t, sweepReport{Fetched: 1, Applied: 1}, rep)
	assert.Equal(t, status{"ann", id, heliumid.StatusSuccessful}, w.status(t, "ann"))
}

// A session that cannot be fetched (here one the API does not know) is
// logged with its id and left for the next sweep; the others are applied
// all the same.
func TestASweepGoesOnPastASessionItCannotFetch(t *testing.T) {
	fake := newFake(t)
	a, w := newTestApp(t, fake)
	u, err := a.store.signUp(t.Context(), "ann")
	require.NoError(t, err)
	require.NoError(t, a.store.addSession(t.Context(), u, &heliumid.CreatedVerification{ID: "gone-123", Link: "http://127.0.0.1:1/?processId=gone-123"}))
	_, id := w.verify(t, "ben")
	require.NoError(t, fake.Decide(id, heliumid.StatusSuccessful))

	for range 2 {
		rep, err := a.sweep(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 1, rep.Failed)
		assert.Regexp(t, `level=WARN msg="sweep: fetching a session" err=".*gone-123`, w.logs.String(), "the error names the session")
	}
	assert.Equal(t, heliumid.StatusNotStarted, w.status(t, "ann").Status)
	assert.Equal(t, heliumid.StatusSuccessful, w.status(t, "ben").Status)
	assert.Equal(t, 2, strings.Count(w.logs.String(), `msg="sweep: fetching a session"`), "tried again by the next sweep")
}

// The sweep stops when its context ends, with the context's error.
func TestTheSweepEndsWithItsContext(t *testing.T) {
	fake := newFake(t)
	a, w := newTestApp(t, fake)
	w.verify(t, "ann")
	require.NoError(t, fake.FailNext(1, heliumidtest.Failure{Delay: time.Minute}))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := a.sweep(ctx)
	assert.ErrorIs(t, err, ctx.Err())
}

// run sweeps every -sweep, from the start: with webhooks going nowhere, the
// decision still reaches the database.
func TestRunSweepsEveryInterval(t *testing.T) {
	fake := newFake(t)
	w := startWithFake(t, fake, "-sweep", "10ms")
	fake.SetWebhookURL("http://127.0.0.1:1/nobody") // no webhook arrives
	_, id := w.verify(t, "cy")
	require.NoError(t, fake.Decide(id, heliumid.StatusSuccessful))
	require.Eventually(t, func() bool { return w.status(t, "cy").Status == heliumid.StatusSuccessful }, 10*time.Second, 5*time.Millisecond)
	assert.Contains(t, w.logs.String(), "source=sweep")
}
