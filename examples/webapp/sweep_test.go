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
// any other), and none that is successful, failed, expired or abandoned.
func TestTheSweepFetchesOnlyUndecidedSessions(t *testing.T) {
	fake := newFake(t)
	a, w := newTestApp(t, fake)
	fake.SetWebhookURL(w.base + "/webhooks/heliumid")
	ids := map[heliumid.Status]string{}
	for _, st := range []heliumid.Status{
		heliumid.StatusNotStarted, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview,
		heliumid.StatusSuccessful, heliumid.StatusFailed, heliumid.StatusExpired, heliumid.StatusAbandoned,
	} {
		_, id := w.verify(t, "user "+string(st))
		ids[st] = id
		switch st {
		case heliumid.StatusSuccessful, heliumid.StatusFailed, heliumid.StatusReview:
			require.NoError(t, fake.Decide(id, st))
		case heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusAbandoned:
			require.NoError(t, fake.SetStatus(id, heliumid.StatusStarted))
			if st == heliumid.StatusSubmitted {
				require.NoError(t, fake.SetStatus(id, st))
			}
		}
	}
	require.NoError(t, fake.WaitWebhooks(t.Context()))
	// Time brings expired and abandoned (after 7 days): recorded here as if
	// their webhooks had arrived.
	for _, st := range []heliumid.Status{heliumid.StatusExpired, heliumid.StatusAbandoned} {
		_, err := a.store.db.ExecContext(t.Context(), `UPDATE sessions SET status = ? WHERE id = ?`, st, ids[st])
		require.NoError(t, err)
	}
	before := len(fake.Requests())

	rep, err := a.sweep(t.Context())
	require.NoError(t, err)
	assert.Equal(t, sweepReport{Fetched: 4}, rep, "nothing new: the webhooks arrived")
	var fetched []string
	for _, r := range fake.Requests()[before:] {
		require.Equal(t, http.MethodGet, r.Method)
		fetched = append(fetched, r.Path[strings.LastIndex(r.Path, "/")+1:])
	}
	assert.ElementsMatch(t, []string{ids[heliumid.StatusNotStarted], ids[heliumid.StatusStarted], ids[heliumid.StatusSubmitted], ids[heliumid.StatusReview]}, fetched)
}

// A session that cannot be fetched is logged with its id and left for the
// next sweep; the others are applied all the same.
func TestASweepGoesOnPastASessionItCannotFetch(t *testing.T) {
	fake := newFake(t)
	a, w := newTestApp(t, fake)
	_, first := w.verify(t, "ann")
	_, second := w.verify(t, "ben")
	require.NoError(t, fake.Decide(first, heliumid.StatusSuccessful))
	require.NoError(t, fake.Decide(second, heliumid.StatusFailed))
	require.NoError(t, fake.FailNext(1, heliumidtest.Failure{Status: http.StatusNotFound}))

	rep, err := a.sweep(t.Context())
	require.NoError(t, err)
	assert.Equal(t, sweepReport{Fetched: 1, Applied: 1, Failed: 1}, rep)
	assert.Regexp(t, `level=WARN msg="sweep: fetching a session" err=".*`+first, w.logs.String(), "the error names the session")
	assert.Equal(t, heliumid.StatusNotStarted, w.status(t, "ann").Status)
	assert.Equal(t, heliumid.StatusFailed, w.status(t, "ben").Status)

	rep, err = a.sweep(t.Context())
	require.NoError(t, err)
	assert.Equal(t, sweepReport{Fetched: 1, Applied: 1}, rep)
	assert.Equal(t, heliumid.StatusSuccessful, w.status(t, "ann").Status)
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
