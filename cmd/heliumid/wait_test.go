package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWaitExitCodes(t *testing.T) {
	steps := map[heliumid.Status][]heliumid.Status{
		heliumid.StatusSuccessful: {heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful},
		heliumid.StatusFailed:     {heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusFailed},
		heliumid.StatusReview:     {heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview},
		heliumid.StatusExpired:    nil, // by the clock
		heliumid.StatusAbandoned:  {heliumid.StatusStarted},
	}
	want := map[heliumid.Status]int{
		heliumid.StatusSuccessful: 0, heliumid.StatusFailed: 1, heliumid.StatusExpired: 1,
		heliumid.StatusAbandoned: 1, heliumid.StatusReview: 2,
	}
	for st, code := range want {
		t.Run(string(st), func(t *testing.T) {
			srv, env := newFake(t)
			id := newSession(t, srv, nil, steps[st]...)
			if st == heliumid.StatusExpired || st == heliumid.StatusAbandoned {
				srv.Advance(heliumid.SessionLifetime)
			}
			r := cmd(t, env, "wait", "--interval", "1ms", id)
			assert.Equal(t, code, r.code, "stderr: %s", r.stderr)
			assert.True(t, strings.HasPrefix(r.stdout, id+": "+string(st)), r.stdout)
			assert.Contains(t, r.stderr, id+": "+string(st)+"\n", "the status line")
			for _, pii := range fakePersonalData {
				assert.NotContains(t, r.stdout+r.stderr, pii)
			}
		})
	}
}

func TestWaitFollowsChanges(t *testing.T) {
	srv, env := newFake(t)
	id := newSession(t, srv, nil)
	before := len(srv.Requests())

	done := make(chan result, 1)
	go func() { done <- cmd(t, env, "wait", "--interval", "2ms", "--json", id) }()
	waitForRequests(t, srv, before+1) // it has read "not started"
	for _, st := range []heliumid.Status{heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful} {
		require.NoError(t, srv.SetStatus(id, st))
	}
	r := <-done
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	assert.True(t, strings.HasPrefix(r.stderr, id+": not started\n"), r.stderr)
	assert.Contains(t, r.stderr, id+": successful\n")
	assert.Equal(t, 1, strings.Count(r.stderr, "not started"), "one line per change, not per poll")
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v), r.stdout)
	assert.Equal(t, "successful", v["status"])
	assert.NotContains(t, v, "docInfo")
	assert.Contains(t, r.stderr, "personal data (docInfo, doc, selfie) hidden")
}

func TestWaitTimeout(t *testing.T) {
	srv, env := newFake(t)
	id := newSession(t, srv, nil, heliumid.StatusStarted)

	r := cmd(t, env, "wait", "--timeout", "150ms", "--interval", "5ms", id)
	assert.Equal(t, exitTimeout, r.code, "stderr: %s", r.stderr)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "heliumid wait: no decision on "+id+" within 150ms (last status: started (2000))")

	r = cmd(t, env, "wait", "--timeout", "150ms", "--interval", "5ms", "--json", id)
	assert.Equal(t, exitTimeout, r.code)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v), "the last status read, for machines")
	assert.Equal(t, "started", v["status"])
}

func TestWaitRidesOutTransientFailures(t *testing.T) {
	srv, env := newFake(t)
	id := newSession(t, srv, nil, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview)
	srv.FailNext(3, heliumidtest.Failure{Status: 503}) // one poll's attempts, retries included

	r := invocation{env: env, fast: true}.run(t, "wait", "--interval", "1ms", id)
	assert.Equal(t, exitReview, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stderr, id+": - (retrying: GET /v1/verifications/"+id+": 503 Service Unavailable")
	assert.Contains(t, r.stderr, id+": review\n")
}

func TestWaitErrors(t *testing.T) {
	srv, env := newFake(t)

	r := cmd(t, env, "wait", "--interval", "1ms", "no-such-id")
	assert.Equal(t, exitFailure, r.code, "a 404 does not go away by asking again")
	assert.Contains(t, r.stderr, "404 Not Found")

	assertUsage(t, cmd(t, env, "wait"), "missing the session ID")
	assertUsage(t, cmd(t, env, "wait", "--interval", "0s", "x"), "--interval 0s: want more than 0")
	assertUsage(t, cmd(t, env, "wait", "--timeout", "-1s", "x"), "--timeout -1s: want 0 (no limit) or more")

	// Interrupted (Ctrl-C): 130, not a timeout.
	id := newSession(t, srv, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan result, 1)
	go func() {
		done <- invocation{env: env, ctx: ctx}.run(t, "wait", "--interval", "1ms", "--timeout", "0", id)
	}()
	waitForRequests(t, srv, len(srv.Requests())+1)
	cancel()
	r = <-done
	assert.Equal(t, exitInterrupted, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stderr, "heliumid wait: interrupted")
}

// waitForRequests returns once srv has answered n requests.
func waitForRequests(t *testing.T, srv *heliumidtest.Server, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		answered := 0
		for _, r := range srv.Requests() {
			if r.Status != 0 {
				answered++
			}
		}
		return answered >= n
	}, 5*time.Second, time.Millisecond)
}
