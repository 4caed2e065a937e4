package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A create that may have reached Helium ID says the session may exist and
// gives the command that finds it; one that cannot have, does not.
func TestBinaryFailedCreateSaysTheSessionMayExist(t *testing.T) {
	srv, env := newFake(t)
	for _, tt := range []struct {
		name    string
		failure heliumidtest.Failure
		want    string // the start of the hint; "" for no "may exist"
	}{
		{"5xx", heliumidtest.Failure{Status: 503}, "Helium ID failed after receiving the request, so "},
		{"5xx after creating", heliumidtest.Failure{Status: 500, Handled: true}, "Helium ID failed after receiving the request, so "},
		{"connection lost after sending", heliumidtest.Failure{Drop: true, Handled: true}, "the connection failed after the request was sent, so "},
		{"2xx the SDK cannot read", heliumidtest.Failure{Status: 200, Body: `{"status":true,"data":`, Handled: true}, "Helium ID answered 2xx but not as documented, so "},
		{"refused", heliumidtest.Failure{Status: 400}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv.FailNext(1, tt.failure)
			r := runBinary(t, env, "create", "--vendor-data", "user 42")
			assert.Equal(t, exitFailure, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			if tt.want == "" {
				assert.NotContains(t, r.stderr, "may exist")
				return
			}
			assert.Contains(t, r.stderr, "\nhint: "+tt.want+`the session may exist: look for it with "heliumid list --vendor-data 'user 42'" before creating another`+"\n")
			assert.NotContains(t, r.stderr, "try again later")
		})
	}

	srv.FailNext(1, heliumidtest.Failure{Status: 502})
	r := runBinary(t, env, "create")
	assert.Contains(t, r.stderr, `look for it with "heliumid list" (a session created with --vendor-data V is found with "heliumid list --vendor-data V")`)

	// Nothing listens: nothing was sent, so no session can exist.
	r = runBinary(t, map[string]string{envAPIKey: "k", envBaseURL: closedURL(t)}, "create", "--vendor-data", "user-42")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "hint: could not reach")
	assert.NotContains(t, r.stderr, "may exist")
}

// The command line names what set a bad value: the environment variable
// or the flag, not the Go option the SDK knows it by.
func TestBinaryConfigErrorsNameTheVariable(t *testing.T) {
	dir := t.TempDir()
	keyFile := dir + "/key"
	require.NoError(t, os.WriteFile(keyFile, []byte("two words\n"), 0o600))
	for _, tt := range []struct {
		env  map[string]string
		args []string
		want []string
	}{
		{map[string]string{envAPIKey: "k", envBaseURL: "http://api.example.com/api"}, []string{"list"},
			[]string{`heliumid list: HELIUMID_BASE_URL: base URL "http://api.example.com/api" uses plain http`, "\nhint: HELIUMID_BASE_URL is the API's base URL"}},
		{map[string]string{envAPIKey: "k", envBaseURL: "server.heliumid.io"}, []string{"get", "x"},
			[]string{`heliumid get: HELIUMID_BASE_URL: base URL must be absolute`}},
		{map[string]string{envAPIKey: "secret key"}, []string{"create"},
			[]string{"heliumid create: the API key from HELIUMID_API_KEY: the key contains whitespace or control characters"}},
		{nil, []string{"wait", "--api-key-file", keyFile, "x"},
			[]string{"heliumid wait: the API key from --api-key-file " + keyFile + ": the key contains whitespace"}},
	} {
		r := runBinary(t, tt.env, tt.args...)
		assert.Equal(t, exitConfig, r.code, "%v: %s", tt.args, r.stderr)
		for _, want := range tt.want {
			assert.Contains(t, r.stderr, want, tt.args)
		}
		for _, goName := range []string{"WithBaseURL", "NewClient", "invalid option", "secret", "words"} {
			assert.NotContains(t, r.stderr, goName, tt.args)
		}
	}
}

// Ctrl-C says "interrupted", exits 130, and during a create says the
// session may exist.
func TestBinaryInterruptSaysInterrupted(t *testing.T) {
	srv, env := newFake(t)
	id := newSession(t, srv, nil)

	interrupt := func(args []string, arrived func() bool) result {
		t.Helper()
		c := exec.Command(heliumidBinary(t), args...)
		c.Env = environ(env)
		var stdout, stderr syncBuffer
		c.Stdout, c.Stderr = &stdout, &stderr
		require.NoError(t, c.Start())
		require.Eventually(t, arrived, 10*time.Second, time.Millisecond)
		require.NoError(t, c.Process.Signal(os.Interrupt))
		err := c.Wait()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, stderr.String())
		return result{code: exit.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	}

	before := len(srv.Requests())
	r := interrupt([]string{"wait", "--interval", "1ms", "--timeout", "0", id}, func() bool { return len(srv.Requests()) > before+1 })
	assert.Equal(t, exitInterrupted, r.code)
	assert.True(t, strings.HasSuffix(r.stderr, "\nheliumid wait: interrupted\n"), r.stderr)
	assert.NotContains(t, r.stderr, "context canceled")
	assert.Empty(t, r.stdout)

	srv.FailNext(1, heliumidtest.Failure{Delay: time.Minute})
	before = len(srv.Requests())
	r = interrupt([]string{"create", "--vendor-data", "user-42"}, func() bool { return len(srv.Requests()) > before })
	assert.Equal(t, exitInterrupted, r.code)
	assert.Equal(t, "heliumid create: interrupted\nhint: if the request had reached Helium ID, the session may exist: "+
		`look for it with "heliumid list --vendor-data user-42" before creating another`+"\n", r.stderr)
}
