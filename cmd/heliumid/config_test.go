package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMissingKey(t *testing.T) {
	_, env := newFake(t)
	delete(env, envAPIKey)
	for _, args := range [][]string{{"create"}, {"get", "x"}, {"list"}, {"wait", "x"},
		{"webhook", "send", "--to", "http://127.0.0.1:1/", "--status", "started", "--id", "x"}} {
		r := cmd(t, env, args...)
		assert.Equal(t, exitConfig, r.code, "%q: %s", args, r.stderr)
		assert.Contains(t, r.stderr, "no API key: set HELIUMID_API_KEY or pass --api-key-file FILE", "%q", args)
		assert.Empty(t, r.stdout)
	}

	env[envAPIKey] = "  \n"
	r := cmd(t, env, "list")
	assert.Equal(t, exitConfig, r.code, "a blank key is no key")
}

func TestKeyFromFile(t *testing.T) {
	srv, env := newFake(t)
	env[envAPIKey] = "wrong-key" // the file wins over the environment
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(keyFile, []byte(srv.APIKey()+"\n"), 0o600))

	r := cmd(t, env, "create", "--api-key-file", keyFile)
	assert.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)

	r = invocation{env: env, stdin: srv.APIKey() + "\n"}.run(t, "list", "--api-key-file", "-")
	assert.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	r = cmd(t, env, "list", "--api-key-file", empty)
	assert.Equal(t, exitConfig, r.code)
	assert.Contains(t, r.stderr, "is empty")

	r = cmd(t, env, "list", "--api-key-file", filepath.Join(dir, "missing"))
	assert.Equal(t, exitConfig, r.code)
	assert.Contains(t, r.stderr, "reading the API key")

	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, make([]byte, maxKeyFile+1), 0o600))
	r = cmd(t, env, "list", "--api-key-file", big)
	assert.Equal(t, exitConfig, r.code)
	assert.Contains(t, r.stderr, "is it the right file?")
}

func TestBadKeyIsNotPrinted(t *testing.T) {
	_, env := newFake(t)
	env[envAPIKey] = "secret with spaces"
	r := cmd(t, env, "list")
	assert.Equal(t, exitConfig, r.code)
	assert.Contains(t, r.stderr, "whitespace or control characters")
	assert.NotContains(t, r.stderr, "secret")
}

func TestBadBaseURL(t *testing.T) {
	for _, base := range []string{"http://api.example.com/api", "not a url", "ftp://127.0.0.1/api"} {
		r := cmd(t, map[string]string{envAPIKey: "k", envBaseURL: base}, "list")
		assert.Equal(t, exitConfig, r.code, "%s: %s", base, r.stderr)
		assert.Contains(t, r.stderr, "HELIUMID_BASE_URL", base)
	}
}

func TestNetworkFailure(t *testing.T) {
	env := map[string]string{envAPIKey: "k", envBaseURL: closedURL(t)}
	for _, args := range [][]string{{"create"}, {"get", "x"}, {"list"}} {
		r := fastCmd(t, env, args...)
		assert.Equal(t, exitFailure, r.code, "%q: %s", args, r.stderr)
		assert.Contains(t, r.stderr, "connection refused", "%q", args)
		assert.Contains(t, r.stderr, "hint: could not reach "+env[envBaseURL], "%q", args)
		assert.Empty(t, r.stdout)
	}
}
