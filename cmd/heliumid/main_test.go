package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the tests if a goroutine outlives them: every command
// must release its connections, and "fake" its servers. It also removes the
// binary the tests of binary_test.go built.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// result is what one run of the command produced.
type result struct {
	code   int
	stdout string
	stderr string
}

// invocation describes one run: the environment, standard input and
// context; zero values mean none, empty and the test's context. fast cuts
// the clients' retry backoff to milliseconds, for the failures the SDK
// retries (network errors, 5xx); it runs the command through cli.main, the
// rest of run.
type invocation struct {
	env   map[string]string
	stdin string
	ctx   context.Context
	fast  bool
}

// cmd runs the command in-process as main does, through run, with env as
// the whole environment.
func cmd(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return invocation{env: env}.run(t, args...)
}

func (in invocation) run(t *testing.T, args ...string) result {
	t.Helper()
	ctx := in.ctx
	if ctx == nil {
		ctx = t.Context()
	}
	var stdout, stderr bytes.Buffer
	var code int
	if in.fast {
		c := &cli{env: lookup(in.env), stdin: strings.NewReader(in.stdin), stdout: &stdout, stderr: &stderr,
			clientOptions: []heliumid.Option{heliumid.WithRetryBackoff(time.Millisecond, 2*time.Millisecond)}}
		code = c.main(ctx, args)
	} else {
		code = run(ctx, args, lookup(in.env), strings.NewReader(in.stdin), &stdout, &stderr)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// fastCmd is cmd with invocation.fast.
func fastCmd(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return invocation{env: env, fast: true}.run(t, args...)
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// newFake starts a heliumidtest.Server for the test and returns it with the
// environment that points the command at it.
func newFake(t *testing.T, opts ...heliumidtest.Option) (*heliumidtest.Server, map[string]string) {
	t.Helper()
	srv := heliumidtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv, map[string]string{envAPIKey: srv.APIKey(), envBaseURL: srv.URL}
}

// newSession creates a session on srv, walked through statuses, and returns
// its id.
func newSession(t *testing.T, srv *heliumidtest.Server, req *heliumid.CreateVerificationRequest, statuses ...heliumid.Status) string {
	t.Helper()
	if req == nil {
		req = &heliumid.CreateVerificationRequest{}
	}
	created, err := srv.Client().CreateVerification(t.Context(), req)
	require.NoError(t, err)
	for _, st := range statuses {
		require.NoError(t, srv.SetStatus(created.ID, st))
	}
	return created.ID
}

// closedURL returns a loopback base URL where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr + "/api"
}

// apiRequests returns the requests srv received under the API, as
// "METHOD path?query".
func apiRequests(srv *heliumidtest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		line := r.Method + " " + r.Path
		if q := r.Query.Encode(); q != "" {
			line += "?" + q
		}
		out = append(out, line)
	}
	return out
}

// assertUsage checks a usage error: exit 64, the message on stderr, nothing
// on stdout.
func assertUsage(t *testing.T, r result, want string) {
	t.Helper()
	assert.Equal(t, exitUsage, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stderr, want)
	assert.Empty(t, r.stdout)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different
// goroutines: the fake's log is written by its server.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
