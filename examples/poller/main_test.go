package main

import (
	"bytes"
	"context"
	"io"
	"strings"
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

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// Against the embedded fake, the first session expires and the poller starts
// a fresh one, which passes.
func TestEmbeddedFake(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), nil, env(nil), &out, io.Discard))

	lines := strings.Split(out.String(), "\n")
	require.Len(t, lines, 12, out.String())
	assert.Regexp(t, `^Using the embedded fake Helium ID at http://127\.0\.0\.1:\d+/api`, lines[0])
	// The fake's links lead to its own page, on a port of its own.
	base := strings.TrimPrefix(lines[0], "Using the embedded fake Helium ID at ")
	base = base[:strings.Index(base, "/api")]
	assert.Equal(t, []string{
		"Session 1 of at most 3: 7e570000-0000-4000-8000-000000000001 (new)",
		"  Send the end-user to: " + base + "/?processId=7e570000-0000-4000-8000-000000000001",
		"  (fake) Nobody opens the link; a week passes.",
		"  Waiting up to 10m0s for a decision...",
		`  Decision: expired, which is final. Reason: "heliumidtest: the end-user did not start the session within 7 days"`,
		"Session 2 of at most 3: 7e570000-0000-4000-8000-000000000002 (new)",
		"  Send the end-user to: " + base + "/?processId=7e570000-0000-4000-8000-000000000002",
		"  (fake) The end-user opens the link, submits a document and passes.",
		"  Waiting up to 10m0s for a decision...",
		"  Decision: successful. The end-user is verified.",
		"",
	}, lines[1:])
}

func TestSessionsLimit(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), []string{"-sessions", "1"}, env(nil), &out, io.Discard)
	assert.EqualError(t, err, "not verified, and -sessions 1 reached")
	assert.NotContains(t, out.String(), "Session 2")
}

// realAPI stands in for the real API: the poller gets its key and URL from
// the environment, and the test plays Helium ID.
func realAPI(t *testing.T) (*heliumidtest.Server, func(string) string) {
	srv := heliumidtest.NewServer(heliumidtest.WithAPIKey("live_key_1"))
	t.Cleanup(srv.Close)
	return srv, env(map[string]string{"HELIUMID_API_KEY": "live_key_1", "HELIUMID_BASE_URL": srv.URL})
}

func walk(t *testing.T, srv *heliumidtest.Server, id string, statuses ...heliumid.Status) {
	t.Helper()
	for _, st := range statuses {
		require.NoError(t, srv.SetStatus(id, st))
	}
}

// A session in review needs a person: the poller says so and stops.
func TestExistingSessionInReview(t *testing.T) {
	srv, getenv := realAPI(t)
	created, err := srv.Client().CreateVerification(t.Context(), &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)
	walk(t, srv, created.ID, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview)

	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-id", created.ID}, getenv, &out, io.Discard))
	assert.Equal(t, "Session 1 of at most 3: "+created.ID+"\n"+
		"  Waiting up to 10m0s for a decision...\n"+
		"  Decision: review. Someone on your side must decide, in the dashboard.\n", out.String())
}

// A failed session is final: the poller creates a fresh one for the same
// end-user, then gives up waiting at the deadline and says how to resume.
func TestFailedThenDeadline(t *testing.T) {
	srv, getenv := realAPI(t)
	created, err := srv.Client().CreateVerification(t.Context(), &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)
	walk(t, srv, created.ID, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusFailed)

	var out bytes.Buffer
	err = run(t.Context(), []string{"-id", created.ID, "-timeout", "20ms", "-vendor", "user-7"}, getenv, &out, io.Discard)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	const fresh = "7e570000-0000-4000-8000-000000000002"
	assert.ErrorContains(t, err, "go run ./examples/poller -id "+fresh)
	assert.Contains(t, out.String(), "Decision: failed, which is final.")
	assert.Contains(t, out.String(), "Session 2 of at most 3: "+fresh+" (new)\n")

	v, ok := srv.Verification(fresh)
	require.True(t, ok)
	assert.Equal(t, "user-7", v.VendorData)
	assert.Equal(t, heliumid.StatusNotStarted, v.Status)
}

func TestUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"-id without a key": {"-id", "abc"},
		"no sessions":       {"-sessions", "0"},
		"unknown flag":      {"-nope"},
	} {
		assert.Error(t, run(t.Context(), args, env(nil), io.Discard, io.Discard), name)
	}
}
