package main

import (
	"bytes"
	"context"
	"regexp"
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

// Without a key, quickstart walks a session on the embedded fake to a
// decision and prints each step, never the personal data the fake attaches.
func TestEmbeddedFake(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), env(nil), &out))

	want := []string{
		`Using the embedded fake Helium ID at http://127\.0\.0\.1:\d+/api \(set HELIUMID_API_KEY to use the real API\)`,
		`Created session 7e570000-0000-4000-8000-000000000001`,
		`Send the end-user to: http://127\.0\.0\.1:\d+/\?processId=7e570000-0000-4000-8000-000000000001`,
		`The fake plays the end-user; each status as the SDK reads it back:`,
		`  status: started`,
		`  status: submitted`,
		`  status: successful`,
		`Decision: successful`,
		`Logged as: Verification\{ID: 7e570000-0000-4000-8000-000000000001, Status: successful \(2010\), .*personal data: \[REDACTED\]\}`,
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, len(want), out.String())
	for i, re := range want {
		assert.Regexp(t, regexp.MustCompile("^"+re+"$"), lines[i])
	}
	assert.NotContains(t, out.String(), "JANE", "the fake's document data must not be printed")
}

// With a key, quickstart talks to the configured API and prints the session's
// id and link only: no status walk, and never the key.
func TestRealAPI(t *testing.T) {
	srv := heliumidtest.NewServer(heliumidtest.WithAPIKey("live_secret_123"))
	defer srv.Close()

	var out bytes.Buffer
	err := run(t.Context(), env(map[string]string{
		"HELIUMID_API_KEY":  "live_secret_123",
		"HELIUMID_BASE_URL": srv.URL,
	}), &out)
	require.NoError(t, err)

	assert.Equal(t, "Using the Helium ID API at "+srv.URL+"\n"+
		"Created session 7e570000-0000-4000-8000-000000000001\n"+
		"Send the end-user to: "+strings.TrimSuffix(srv.URL, "/api")+"/?processId=7e570000-0000-4000-8000-000000000001\n"+
		"Set its status in the dashboard, then wait for the decision: go run ./examples/poller -id 7e570000-0000-4000-8000-000000000001\n",
		out.String())
	assert.NotContains(t, out.String(), "live_secret_123")

	v, ok := srv.Verification("7e570000-0000-4000-8000-000000000001")
	require.True(t, ok)
	assert.Equal(t, heliumid.StatusNotStarted, v.Status, "quickstart must not touch a real session's status")
}

// A rejected key is an error the user can act on.
func TestWrongKey(t *testing.T) {
	srv := heliumidtest.NewServer()
	defer srv.Close()

	err := run(context.Background(), env(map[string]string{
		"HELIUMID_API_KEY":  "not-the-key",
		"HELIUMID_BASE_URL": srv.URL,
	}), new(bytes.Buffer))
	assert.ErrorIs(t, err, heliumid.ErrUnauthorized)
	assert.NotContains(t, err.Error(), "not-the-key")
}
