package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// built is the heliumid binary the tests in this file run, built once per
// test run (TestMain removes it): these tests see what a user sees,
// signals, pipes and exit codes included.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func heliumidBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "heliumid-test-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "heliumid")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, built.err)
	return built.path
}

// runBinary runs the built heliumid with env as its whole environment and
// returns what it printed. Standard output and error are pipes, as when a
// user pipes the command into another.
func runBinary(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, heliumidBinary(t), args...)
	c.Env = environ(env)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running heliumid %v: %v", args, err)
	}
	return result{code: c.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

func environ(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// binaryFake is a "heliumid fake" process.
type binaryFake struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	banner string
	stderr *syncBuffer
}

// startBinaryFake starts the built "heliumid fake --addr 127.0.0.1:0 args..."
// and returns once its banner says where it listens. The test's cleanup
// stops it with SIGINT, as Ctrl-C does.
func startBinaryFake(t *testing.T, env map[string]string, args ...string) *binaryFake {
	t.Helper()
	f := &binaryFake{stderr: &syncBuffer{}}
	f.cmd = exec.Command(heliumidBinary(t), append([]string{"fake", "--addr", "127.0.0.1:0"}, args...)...)
	f.cmd.Env = environ(env)
	f.cmd.Stderr = f.stderr
	stdout, err := f.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, f.cmd.Start())
	t.Cleanup(func() { f.stop(t) })

	var banner strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		banner.WriteString(line + "\n")
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "export "+envBaseURL+"="); ok {
			f.base = strings.TrimSuffix(v, "/api")
		}
		if strings.HasPrefix(line, "Requests are logged") {
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	f.banner = banner.String()
	require.NotEmpty(t, f.base, "no base URL in the banner:\n%s\nstderr: %s", f.banner, f.stderr)
	return f
}

// stop sends SIGINT and returns the exit code; a fake that does not stop
// within 10 s is killed and fails the test.
func (f *binaryFake) stop(t *testing.T) int {
	if f.cmd.ProcessState != nil {
		return f.cmd.ProcessState.ExitCode()
	}
	_ = f.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = f.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = f.cmd.Process.Kill()
		<-done
		t.Errorf("heliumid fake did not stop within 10 s of SIGINT; stderr:\n%s", f.stderr)
	}
	return f.cmd.ProcessState.ExitCode()
}

// do makes a raw request to the fake and returns the status, headers and body.
func (f *binaryFake) do(t *testing.T, client *http.Client, method, path, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.base+path, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	require.NoError(t, err, "%s %s (stderr: %s)", method, path, f.stderr)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// keepAlive is a client that reuses connections, for many requests in a row.
func keepAlive(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// rssBytes is the resident memory of process pid, from /proc (Linux).
func rssBytes(t *testing.T, pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	m := regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB$`).FindSubmatch(b)
	if m == nil {
		return 0, false
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10, true
}

// The fake holds under abuse: the faults of issue 11 item 7, each against
// the built binary, one process for all of them, which must still stop
// cleanly at the end.
func TestBinaryFakeUnderAbuse(t *testing.T) {
	f := startBinaryFake(t, nil, "--clock", "virtual")
	hc := keepAlive(t)
	key := []string{"X-Api-Key", heliumidtest.DefaultAPIKey}

	t.Run("a huge failure count is one queued failure, until cleared", func(t *testing.T) {
		status, _, body := f.do(t, hc, "POST", "/admin/fail", `{"status":503,"count":9223372036854775807}`)
		require.Equal(t, http.StatusOK, status, body)
		assert.JSONEq(t, `{"queued":9223372036854775807}`, body)
		for range 3 {
			status, _, _ = f.do(t, hc, "GET", "/api/v1/verifications", "", key...)
			assert.Equal(t, http.StatusServiceUnavailable, status)
		}
		status, _, body = f.do(t, hc, "POST", "/admin/fail", `{"count":0}`)
		require.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, "cleared")
		status, _, _ = f.do(t, hc, "GET", "/api/v1/verifications", "", key...)
		assert.Equal(t, http.StatusOK, status, "no failure left over for later commands")

		status, _, body = f.do(t, hc, "POST", "/admin/fail", `{"status":503,"count":9223372036854775808}`)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, body, "want an integer from 0")
		status, _, _ = f.do(t, hc, "POST", "/admin/fail", `{"status":503,"count":-1}`)
		assert.Equal(t, http.StatusBadRequest, status)
	})

	t.Run("different failures are bounded", func(t *testing.T) {
		for i := range heliumidtest.MaxQueuedFailures {
			status, _, body := f.do(t, hc, "POST", "/admin/fail", fmt.Sprintf(`{"status":500,"message":"m%d"}`, i))
			require.Equal(t, http.StatusOK, status, body)
		}
		status, _, body := f.do(t, hc, "POST", "/admin/fail", `{"status":502}`)
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, body, `1000 different failures are already queued`)
		assert.Contains(t, body, `{\"count\": 0} clears them`)
		status, _, _ = f.do(t, hc, "POST", "/admin/fail", `{"count":0}`)
		require.Equal(t, http.StatusOK, status)
	})

	t.Run("300 unauthenticated 1 MiB POSTs keep the memory bounded", func(t *testing.T) {
		big := strings.Repeat("x", 1<<20)
		for range 300 {
			status, _, _ := f.do(t, hc, "POST", "/api/v1/verifications", big)
			require.Equal(t, http.StatusUnauthorized, status)
		}
		status, _, body := f.do(t, hc, "GET", "/admin/requests", "")
		require.Equal(t, http.StatusOK, status)
		var reqs []adminRequest
		require.NoError(t, json.Unmarshal([]byte(body), &reqs))
		assert.LessOrEqual(t, len(reqs), heliumidtest.MaxLoggedRequests)
		bigOnes := 0
		for _, r := range reqs {
			assert.LessOrEqual(t, len(r.Body), heliumidtest.MaxLoggedBody)
			if r.BodySize == 1<<20 {
				bigOnes++
			}
		}
		assert.Equal(t, 300, bigOnes, "the log says how big each was")
		assert.Less(t, len(body), 4<<20, "the request log answers a few MiB at most, not 300")
		if rss, ok := rssBytes(t, f.cmd.Process.Pid); ok {
			assert.Less(t, rss, int64(150<<20), "resident memory after 300 MiB of requests (it was 437 MB when every request was kept)")
		}

		// More than the ring holds: the oldest go.
		for range heliumidtest.MaxLoggedRequests {
			f.do(t, hc, "GET", "/api/v1/verifications", "")
		}
		_, _, body = f.do(t, hc, "GET", "/admin/requests", "")
		require.NoError(t, json.Unmarshal([]byte(body), &reqs))
		assert.Len(t, reqs, heliumidtest.MaxLoggedRequests)
		assert.Equal(t, "GET", reqs[0].Method, "the 1 MiB POSTs were the oldest")
	})

	t.Run("advance refuses an absurd duration", func(t *testing.T) {
		for _, d := range []string{"-1h", "0s", "soon", ""} {
			status, _, body := f.do(t, hc, "POST", "/admin/advance", fmt.Sprintf(`{"duration":%q}`, d))
			assert.Equal(t, http.StatusBadRequest, status, d)
			assert.Contains(t, body, "want a positive Go duration", d)
		}
		// 2562047h is the longest Go duration (292 years): the clock passes
		// the year 9999 after some 27 of them.
		var last string
		for i := 0; ; i++ {
			require.Less(t, i, 40, "never refused")
			status, _, body := f.do(t, hc, "POST", "/admin/advance", `{"duration":"2562047h"}`)
			if status == http.StatusBadRequest {
				assert.Contains(t, body, "past the year 9999")
				break
			}
			require.Equal(t, http.StatusOK, status, body)
			var now struct{ Now time.Time }
			require.NoError(t, json.Unmarshal([]byte(body), &now), "every answer has a body: %q", body)
			last = now.Now.String()
		}
		require.NotEmpty(t, last)
		status, _, body := f.do(t, hc, "POST", "/admin/advance", `{"duration":"1h"}`)
		assert.Equal(t, http.StatusOK, status, "the clock still works: %s", body)
		status, _, _ = f.do(t, hc, "POST", "/api/v1/verifications", `{}`, append(key, "Content-Type", "application/json")...)
		assert.Equal(t, http.StatusOK, status, "and so does the API")
	})

	t.Run("wrong methods on admin endpoints are 405 with Allow", func(t *testing.T) {
		for _, tt := range []struct{ method, path, allow string }{
			{"GET", "/admin/advance", "POST"},
			{"GET", "/admin/fail", "POST"},
			{"GET", "/admin/reset", "POST"},
			{"DELETE", "/admin/requests", "GET"},
			{"POST", "/admin/webhooks", "GET"},
			{"PUT", "/admin/sessions/x/status", "POST"},
			{"GET", "/admin/webhooks/whk_1/redeliver", "POST"},
			{"POST", "/admin/", "GET"},
		} {
			status, header, body := f.do(t, hc, tt.method, tt.path, "")
			assert.Equal(t, http.StatusMethodNotAllowed, status, "%s %s: %s", tt.method, tt.path, body)
			assert.Equal(t, tt.allow, header.Get("Allow"), "%s %s", tt.method, tt.path)
			assert.Contains(t, body, "method not allowed; use "+tt.allow)
		}
		status, _, body := f.do(t, hc, "GET", "/admin/nothing", "")
		assert.Equal(t, http.StatusNotFound, status)
		assert.Contains(t, body, "GET /admin/ lists them")
	})

	t.Run("reset forgets sessions, requests and failures", func(t *testing.T) {
		status, _, body := f.do(t, hc, "POST", "/api/v1/verifications", `{}`, append(key, "Content-Type", "application/json")...)
		require.Equal(t, http.StatusOK, status, body)
		var created struct {
			Data struct{ VerificationID string }
		}
		require.NoError(t, json.Unmarshal([]byte(body), &created))
		f.do(t, hc, "POST", "/admin/fail", `{"status":503,"count":5}`)

		status, _, body = f.do(t, hc, "POST", "/admin/reset", "")
		require.Equal(t, http.StatusOK, status, body)
		status, _, _ = f.do(t, hc, "GET", "/api/v1/verifications/"+created.Data.VerificationID, "", key...)
		assert.Equal(t, http.StatusNotFound, status, "the session is gone, and no failure is left")
		_, _, body = f.do(t, hc, "GET", "/admin/requests", "")
		var reqs []adminRequest
		require.NoError(t, json.Unmarshal([]byte(body), &reqs))
		assert.Len(t, reqs, 1, "only the request after the reset")
	})

	assert.Equal(t, exitOK, f.stop(t), "stderr: %s", f.stderr)
	assert.Contains(t, f.stderr.String(), "heliumid fake: stopped")
}

func TestBinaryFakeStartupErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "bogus"}, `--addr "bogus": want HOST:PORT, such as 127.0.0.1:8080`},
		{[]string{"--addr", "127.0.0.1:99999"}, `the port "99999" is not a number from 0 to 65535`},
		{[]string{"--clock", "sideways"}, `--clock "sideways": want real or virtual`},
		{[]string{"--rate-limit", "10/1m", "--token-bucket", "5"}, "give one"},
		{[]string{"--rate-limit", "ten"}, `want N/D, such as 10/1m`},
		{[]string{"--token-bucket", "0"}, `want a rate above 0`},
		{[]string{"--burst", "3"}, "--burst goes with --token-bucket"},
		{[]string{"--webhook-attempts", "0"}, "--webhook-attempts 0: want at least 1"},
		{[]string{"--webhook-backoff", "2h"}, "want from 0s to 1h"},
	} {
		r := runBinary(t, nil, append([]string{"fake"}, tt.args...)...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", tt.args, r.stderr)
		assert.Contains(t, r.stderr, tt.want, tt.args)
		assert.NotContains(t, r.stderr, envBaseURL, "%v: nothing to do with the base URL", tt.args)
		assert.Empty(t, r.stdout)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	r := runBinary(t, nil, "fake", "--addr", busy.Addr().String())
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "heliumid fake: cannot listen on "+busy.Addr().String()+": address already in use")
	assert.Contains(t, r.stderr, "hint: another program (another heliumid fake?) listens on that port: pass --addr 127.0.0.1:0")
	assert.NotContains(t, r.stderr, envBaseURL)
	assert.Empty(t, r.stdout)
}

// The CLI fake's clock runs in real time unless --clock virtual.
func TestBinaryFakeClock(t *testing.T) {
	createdAt := func(f *binaryFake) []time.Time {
		env := map[string]string{envAPIKey: heliumidtest.DefaultAPIKey, envBaseURL: f.base + "/api"}
		var out []time.Time
		for range 2 {
			r := runBinary(t, env, "create", "--json")
			require.Equal(t, exitOK, r.code, r.stderr)
			var c createOutput
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &c))
			g := runBinary(t, env, "get", "--json", c.ID)
			require.Equal(t, exitOK, g.code, g.stderr)
			var v heliumid.Verification
			require.NoError(t, json.Unmarshal([]byte(g.stdout), &v))
			out = append(out, v.CreatedAt)
			time.Sleep(5 * time.Millisecond)
		}
		return out
	}
	real := startBinaryFake(t, nil)
	assert.Contains(t, real.banner, "Clock: real time")
	at := createdAt(real)
	assert.True(t, at[1].After(at[0]), "created later, stamped later: %v", at)
	assert.WithinDuration(t, time.Now(), at[1], time.Minute)

	virtual := startBinaryFake(t, nil, "--clock", "virtual")
	assert.Contains(t, virtual.banner, "Clock: virtual")
	at = createdAt(virtual)
	assert.Equal(t, at[0], at[1], "the virtual clock stands still")
	status, _, body := virtual.do(t, keepAlive(t), "POST", "/admin/advance", `{"duration":"1h"}`)
	assert.Equal(t, http.StatusOK, status, body)
}

func TestBinaryFakeCaps(t *testing.T) {
	create := func(f *binaryFake) (int, http.Header) {
		status, h, _ := f.do(t, keepAlive(t), "POST", "/api/v1/verifications", `{}`,
			"X-Api-Key", heliumidtest.DefaultAPIKey, "Content-Type", "application/json")
		return status, h
	}
	bucket := startBinaryFake(t, nil, "--token-bucket", "0.5", "--burst", "2")
	assert.Contains(t, bucket.banner, "Creation cap: 0.5 sessions per second, bursts of 2 (token bucket)")
	for range 2 {
		status, _ := create(bucket)
		require.Equal(t, http.StatusOK, status)
	}
	status, h := create(bucket)
	require.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, "2", h.Get("Retry-After"), "a token every 2 s")

	s, _, body := bucket.do(t, keepAlive(t), "POST", "/admin/ratelimit", `{"tokenBucket":1000,"burst":1}`)
	require.Equal(t, http.StatusOK, s, body)
	time.Sleep(3 * time.Millisecond) // a token every millisecond now
	status, _ = create(bucket)
	assert.Equal(t, http.StatusOK, status, "the raised rate works at once")
	s, _, body = bucket.do(t, keepAlive(t), "POST", "/admin/ratelimit", `{"tokenBucket":0}`)
	assert.Equal(t, http.StatusBadRequest, s, body)

	window := startBinaryFake(t, nil, "--rate-limit", "1/1h")
	status, _ = create(window)
	require.Equal(t, http.StatusOK, status)
	status, h = create(window)
	require.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, "3600", h.Get("Retry-After"))
}

func TestBinaryFakeRedeliversWebhooks(t *testing.T) {
	isDown := true // guarded by mu
	var received []string
	var mu sync.Mutex
	rc := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if isDown {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if _, err := heliumid.ParseWebhook(b, r.Header, heliumidtest.DefaultAPIKey); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		received = append(received, string(b))
	}))
	f := startBinaryFake(t, nil, "--webhook-url", rc+"/hook", "--webhook-attempts", "3", "--webhook-backoff", "1h")
	assert.Contains(t, f.banner, "(3 attempts in all, retried after 1h0m0s, doubling)")
	hc := keepAlive(t)
	status, _, body := f.do(t, hc, "POST", "/api/v1/verifications", `{}`, "X-Api-Key", heliumidtest.DefaultAPIKey, "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, status, body)
	var created struct {
		Data struct{ VerificationID string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	status, _, body = f.do(t, hc, "POST", "/admin/sessions/"+created.Data.VerificationID+"/status", `{"status":"started"}`)
	require.Equal(t, http.StatusOK, status, body)

	var hooks []adminDelivery
	require.Eventually(t, func() bool {
		_, _, body := f.do(t, hc, "GET", "/admin/webhooks", "")
		require.NoError(t, json.Unmarshal([]byte(body), &hooks))
		return len(hooks) == 1 && hooks[0].Attempts == 1 && hooks[0].NextAttempt != nil
	}, 10*time.Second, 2*time.Millisecond)
	assert.Equal(t, "pending", hooks[0].State)
	assert.Equal(t, "whk_1", hooks[0].ID)
	assert.WithinDuration(t, time.Now().Add(time.Hour), *hooks[0].NextAttempt, time.Minute, "the retry is an hour away")
	failedLine := "webhook whk_1 verification.status " + created.Data.VerificationID + " → started: failed: heliumidtest: the webhook receiver answered 503 Service Unavailable (attempt 1); next attempt in 1h0m0s"
	require.Eventually(t, func() bool { return strings.Contains(f.stderr.String(), failedLine) }, 10*time.Second, 2*time.Millisecond,
		"the failed attempt is logged (the log line may follow the state the admin API shows)")

	mu.Lock()
	isDown = false // the receiver restarted
	mu.Unlock()
	status, _, body = f.do(t, hc, "POST", "/admin/webhooks/whk_1/redeliver", "")
	require.Equal(t, http.StatusOK, status, body)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(received) == 1
	}, 10*time.Second, 2*time.Millisecond)
	require.Eventually(t, func() bool {
		_, _, body := f.do(t, hc, "GET", "/admin/webhooks", "")
		require.NoError(t, json.Unmarshal([]byte(body), &hooks))
		return hooks[0].State == "delivered"
	}, 10*time.Second, 2*time.Millisecond)
	assert.Equal(t, 2, hooks[0].Attempts)

	status, _, body = f.do(t, hc, "POST", "/admin/webhooks/whk_9/redeliver", "")
	assert.Equal(t, http.StatusNotFound, status, body)
	_, _, body = f.do(t, hc, "POST", "/admin/webhooks/redeliver", "")
	assert.JSONEq(t, `{"redelivering":0}`, body)

	// Ctrl-C with a retry an hour away stops at once: it is abandoned.
	mu.Lock()
	isDown = true
	mu.Unlock()
	f.do(t, hc, "POST", "/admin/sessions/"+created.Data.VerificationID+"/status", `{"status":"submitted"}`)
	require.Eventually(t, func() bool { return strings.Contains(f.stderr.String(), "whk_2") }, 10*time.Second, 2*time.Millisecond)
	assert.Equal(t, exitOK, f.stop(t))
	assert.Contains(t, f.stderr.String(), "abandoned when the server closed")
}

// newHTTPServer serves h on a loopback port until the test ends and
// returns its URL.
func newHTTPServer(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

// Errors and hints name what the command line reads, not the Go API.
func TestBinaryErrorsAreWordedForTheCLI(t *testing.T) {
	srv, env := newFake(t, heliumidtest.WithRateLimit(1, time.Hour))
	id := newSession(t, srv, nil)

	wrongKey := map[string]string{envAPIKey: "not-the-key", envBaseURL: srv.URL}
	r := runBinary(t, wrongKey, "get", id)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "heliumid get: GET /v1/verifications/"+id+": 401 Unauthorized: invalid API key (request id req_")
	assert.Contains(t, r.stderr, "hint: check HELIUMID_API_KEY or --api-key-file")

	noAPI := map[string]string{envAPIKey: srv.APIKey(), envBaseURL: strings.TrimSuffix(srv.URL, "/api")}
	r = runBinary(t, noAPI, "list")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "404 Not Found: no such endpoint")
	assert.Contains(t, r.stderr, "hint: HELIUMID_BASE_URL is "+noAPI[envBaseURL]+", without the /api path")
	assert.Contains(t, r.stderr, "use a base URL ending in /api, such as \""+srv.URL+"\"", "the fake's own message says it too")

	r = runBinary(t, env, "get", "no-such-id")
	assert.Contains(t, r.stderr, `hint: check the session id ("heliumid list" shows yours)`)

	r = runBinary(t, env, "create")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "429 Too Many Requests")
	assert.Contains(t, r.stderr, "hint: the session-creation cap was hit: try again in 1h0m0s")

	srv.FailNext(1, heliumidtest.Failure{Status: 502})
	require.NoError(t, srv.SetRateLimit(100, time.Second))
	r = runBinary(t, env, "create", "--vendor-data", "user-42")
	assert.Contains(t, r.stderr, "the session may exist: look for it with \"heliumid list --vendor-data user-42\"")

	for _, out := range []string{r.stderr, runBinary(t, wrongKey, "list").stderr, runBinary(t, noAPI, "get", id).stderr} {
		for _, goOnly := range []string{"NewClient", "Server.URL", "WithRateLimiter", "verification id"} {
			assert.NotContains(t, out, goOnly)
		}
	}
}

// Piped or redirected, wait writes one plain line per change: no \r, no
// escape sequence, nothing for a terminal.
func TestBinaryWaitOutputWhenPiped(t *testing.T) {
	srv, env := newFake(t)
	id := newSession(t, srv, nil, heliumid.StatusStarted)
	c := exec.Command(heliumidBinary(t), "wait", "--interval", "1ms", id)
	c.Env = environ(env)
	var stdout, stderr syncBuffer
	c.Stdout, c.Stderr = &stdout, &stderr
	before := len(srv.Requests())
	require.NoError(t, c.Start())
	waitForRequests(t, srv, before+2) // it has read "started", twice
	walk(srv, id, heliumid.StatusSubmitted, heliumid.StatusSuccessful)
	require.NoError(t, c.Wait(), stderr.String())
	assert.Equal(t, id+": successful (2010)\n", stdout.String())
	assert.NotContains(t, stderr.String(), "\r")
	assert.NotContains(t, stderr.String(), "\x1b")
	assert.NotContains(t, stderr.String(), "elapsed")
	assert.True(t, strings.HasPrefix(stderr.String(), id+": started\n"), stderr.String())
	assert.Equal(t, 1, strings.Count(stderr.String(), "started"), "one line per change, not per poll")
	assert.Contains(t, stderr.String(), id+": successful\n")

	// To a file too.
	file, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	require.NoError(t, err)
	defer file.Close()
	c = exec.Command(heliumidBinary(t), "wait", "--interval", "1ms", id)
	c.Env, c.Stderr = environ(env), file
	require.NoError(t, c.Run())
	b, err := os.ReadFile(file.Name())
	require.NoError(t, err)
	assert.Equal(t, id+": successful\n", string(b))
}

func walk(srv *heliumidtest.Server, id string, statuses ...heliumid.Status) {
	for _, st := range statuses {
		_ = srv.SetStatus(id, st)
	}
}

// Every flag in every --help is spelled --flag, as the usage lines are.
func TestBinaryHelpSpellsFlagsWithTwoDashes(t *testing.T) {
	single := regexp.MustCompile(`(?m)^\s+-[a-z]`)
	for _, args := range [][]string{{"create"}, {"get"}, {"list"}, {"wait"}, {"webhook", "send"}, {"fake"}} {
		r := runBinary(t, nil, append(args, "--help")...)
		require.Equal(t, exitOK, r.code, r.stderr)
		flags := r.stdout[strings.Index(r.stdout, "\nFlags:\n"):]
		assert.NotRegexp(t, single, flags, "%v", args)
		assert.Regexp(t, `(?m)^  --api-key-file FILE$`, flags, "%v", args)
		usage := strings.SplitN(r.stdout, "\n\n", 2)[0]
		for _, m := range regexp.MustCompile(`(?m)^  --([a-z-]+)`).FindAllStringSubmatch(flags, -1) {
			if m[1] != "api-key-file" { // every command's, described by "heliumid help"
				assert.Contains(t, usage, "--"+m[1], "%v: the usage line names every flag", args)
			}
		}
	}
}

// One 100 KB vendor data value does not make every row of the table 100 KB.
func TestBinaryListCutsLongValues(t *testing.T) {
	srv, env := newFake(t)
	long := strings.Repeat("v", 100<<10)
	newSession(t, srv, &heliumid.CreateVerificationRequest{VendorData: long})
	newSession(t, srv, &heliumid.CreateVerificationRequest{VendorData: "user-2"})
	r := runBinary(t, env, "list")
	require.Equal(t, exitOK, r.code, r.stderr)
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		assert.Less(t, len(line), 250, "%.300s", line)
	}
	assert.Contains(t, r.stdout, strings.Repeat("v", maxTextCell-1)+"…")
	r = runBinary(t, env, "list", "--json")
	assert.Contains(t, r.stdout, long, "--json shows the value whole")
}

// webhook send, in the Standard Webhooks form, is accepted by
// WebhookHandler.
func TestBinaryWebhookSendStandardWebhooks(t *testing.T) {
	rc := newReceiver(t, heliumidtest.DefaultAPIKey)
	r := runBinary(t, map[string]string{envAPIKey: heliumidtest.DefaultAPIKey},
		"webhook", "send", "--to", rc.URL, "--status", "successful", "--id", "s-1", "--signature-format", "v1")
	require.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	require.Len(t, rc.received(), 1)
	assert.Equal(t, heliumid.EventVerificationStatus, rc.received()[0].Event)
}

// Issue 21 defect 3: POST /admin/webhooks/{id}/redeliver while that
// webhook's attempt is in flight, which then succeeds. The fake panicked
// (its log line took a pending delivery for a failed one), losing every
// session and webhook. The receiver holds the first attempt until the
// redeliver request has been answered, so the race is played every time.
func TestBinaryFakeSurvivesARedeliverDuringASuccessfulAttempt(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	var attempts atomic.Int32
	rc := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) == 1 {
			arrived <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	f := startBinaryFake(t, nil, "--webhook-url", rc+"/hook")
	hc := keepAlive(t)
	key := []string{"X-Api-Key", heliumidtest.DefaultAPIKey}
	status, _, body := f.do(t, hc, "POST", "/api/v1/verifications", `{}`, append(key, "Content-Type", "application/json")...)
	require.Equal(t, http.StatusOK, status, body)
	var created struct {
		Data struct{ VerificationID string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	id := created.Data.VerificationID
	status, _, body = f.do(t, hc, "POST", "/admin/sessions/"+id+"/status", `{"status":"started"}`)
	require.Equal(t, http.StatusOK, status, body)

	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatalf("the webhook never arrived; stderr:\n%s", f.stderr)
	}
	status, _, body = f.do(t, hc, "POST", "/admin/webhooks/whk_1/redeliver", "")
	require.Equal(t, http.StatusOK, status, body)
	unblock() // the attempt in flight now succeeds

	var hooks []adminDelivery
	require.Eventually(t, func() bool {
		status, _, body := f.do(t, hc, "GET", "/admin/webhooks", "")
		require.Equal(t, http.StatusOK, status, "the fake is still up; stderr:\n%s", f.stderr)
		require.NoError(t, json.Unmarshal([]byte(body), &hooks))
		return len(hooks) == 1 && hooks[0].State == "delivered" && hooks[0].Attempts == 2
	}, 10*time.Second, 2*time.Millisecond, "sent again, as asked")
	status, _, _ = f.do(t, hc, "GET", "/api/v1/verifications/"+id, "", key...)
	assert.Equal(t, http.StatusOK, status, "the session survived")
	assert.Equal(t, int32(2), attempts.Load())

	assert.Equal(t, exitOK, f.stop(t))
	log := f.stderr.String()
	assert.NotContains(t, log, "panic")
	assert.Contains(t, log, "webhook whk_1 verification.status "+id+" → started: 204 (attempt 1); sending it again now, as a redelivery asked")
	assert.Contains(t, log, "webhook whk_1 verification.status "+id+" → started: 204 (attempt 2)")
}

// Issue 22 item 6: any web page the developer visits can send requests to
// the fake. A state-changing request from another site is refused on every
// path, and so is any request naming a host other than loopback (DNS
// rebinding); curl, which sends neither header, is not affected.
func TestBinaryFakeRefusesOtherSitesAndOtherHosts(t *testing.T) {
	f := startBinaryFake(t, nil, "--clock", "virtual")
	hc := keepAlive(t)
	apiHeaders := []string{"X-Api-Key", heliumidtest.DefaultAPIKey, "Content-Type", "application/json"}
	status, _, body := f.do(t, hc, "POST", "/api/v1/verifications", `{}`, apiHeaders...)
	require.Equal(t, http.StatusOK, status, "curl-like: no Sec-Fetch-Site, no Origin: %s", body)
	var created struct {
		Data struct{ VerificationID, Link string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	id := created.Data.VerificationID
	pagePath := strings.TrimPrefix(created.Data.Link, f.base)
	require.Equal(t, "/?processId="+id, pagePath, "the link is on the address the fake printed")

	writes := []struct{ path, body string }{
		{pagePath, "status=started"},
		{"/admin/sessions/" + id + "/status", `{"status":"started"}`},
		{"/admin/sessions/" + id + "/decide", `{"status":"successful"}`},
		{"/admin/reset", ""},
		{"/admin/fail", `{"status":503}`},
		{"/api/v1/verifications", `{}`},
	}
	for _, w := range writes {
		for _, h := range [][]string{
			{"Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site", "same-site"},
			{"Origin", "http://evil.example"},
			{"Origin", "null"},
		} {
			status, _, body := f.do(t, hc, "POST", w.path, w.body, append(h, apiHeaders...)...)
			assert.Equal(t, http.StatusForbidden, status, "POST %s with %v: %s", w.path, h, body)
			assert.Contains(t, body, "a request from another web site may not change the fake")
		}
	}
	status, _, body = f.do(t, hc, "GET", pagePath, "", "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusOK, status, "a link followed from another site opens the page")
	assert.Contains(t, body, `data-session-status="not started"`, "nothing changed")
	status, _, _ = f.do(t, hc, "GET", "/admin/requests", "", "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusOK, status, "GET and HEAD change nothing and pass")

	for _, host := range []string{"rebound.example", "rebound.example:" + strings.Split(f.base, ":")[2], "10.0.0.1"} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", pagePath, ""},
			{"GET", "/api/v1/verifications/" + id, ""},
			{"POST", "/admin/reset", ""},
		} {
			req, err := http.NewRequestWithContext(t.Context(), r.method, f.base+r.path, strings.NewReader(r.body))
			require.NoError(t, err)
			req.Host = host
			req.Header.Set("X-Api-Key", heliumidtest.DefaultAPIKey)
			resp, err := hc.Do(req)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode, "%s %s with Host %s: %s", r.method, r.path, host, b)
			assert.Contains(t, string(b), "a guard against DNS rebinding")
		}
	}

	// The page's own form (same origin), localhost, and curl all work.
	port := strings.Split(f.base, ":")[2]
	status, h, body := f.do(t, noFollow(hc), "POST", pagePath, "status=started",
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin", "Origin", f.base)
	assert.Equal(t, http.StatusSeeOther, status, body)
	assert.Equal(t, pagePath, h.Get("Location"))
	req, err := http.NewRequestWithContext(t.Context(), "GET", f.base+pagePath, nil)
	require.NoError(t, err)
	req.Host = "localhost:" + port
	resp, err := hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "localhost is a loopback name")
	status, _, body = f.do(t, hc, "POST", "/admin/sessions/"+id+"/decide", `{"status":"successful"}`)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, exitOK, f.stop(t))
}

// noFollow is c, without following redirects.
func noFollow(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// The hosted page on the built fake: the link opens it, presses walk the
// session to a decision (POST-redirect-GET), each with its webhook.
func TestBinaryFakeServesTheHostedPage(t *testing.T) {
	var mu sync.Mutex
	var statuses []heliumid.Status
	rc := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ev, err := heliumid.ParseWebhook(b, r.Header, heliumidtest.DefaultAPIKey)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		statuses = append(statuses, ev.Data.Status)
		mu.Unlock()
	}))
	f := startBinaryFake(t, nil, "--webhook-url", rc+"/hook")
	assert.Contains(t, f.banner, "A session's link opens the fake's own page, "+f.base+"/?processId=ID")
	env := map[string]string{envAPIKey: heliumidtest.DefaultAPIKey, envBaseURL: f.base + "/api"}
	r := runBinary(t, env, "create", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var c createOutput
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &c))
	require.Equal(t, f.base+"/?processId="+c.ID, c.Link)

	// A browser: it follows the 303 back to the page.
	browser := &http.Client{Timeout: 10 * time.Second}
	form := func(st string) *http.Response {
		resp, err := browser.PostForm(c.Link, map[string][]string{"status": {st}})
		require.NoError(t, err)
		return resp
	}
	for _, st := range []string{"started", "submitted", "successful"} {
		resp := form(st)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", st, b)
		assert.Equal(t, c.Link, resp.Request.URL.String(), "redirected back to the page")
		assert.Contains(t, string(b), `data-session-status="`+st+`">`+st+`<`)
	}
	resp := form("failed")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "successful is final")
	assert.Contains(t, string(b), "That step is not possible now")
	resp, err := browser.Get(f.base + "/?processId=nope")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(statuses) == 3
	}, 10*time.Second, 2*time.Millisecond)
	mu.Lock()
	assert.Equal(t, []heliumid.Status{"started", "submitted", "successful"}, statuses)
	mu.Unlock()
	assert.Contains(t, f.stderr.String(), "POST /?processId="+c.ID+" → 303")
}

// heliumid decide, against the built fake: one command to a decision,
// printed as get prints it, with the webhook of every step.
func TestBinaryDecide(t *testing.T) {
	var mu sync.Mutex
	var statuses []heliumid.Status
	rc := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if ev, err := heliumid.ParseWebhook(b, r.Header, heliumidtest.DefaultAPIKey); err == nil {
			mu.Lock()
			statuses = append(statuses, ev.Data.Status)
			mu.Unlock()
		}
	}))
	f := startBinaryFake(t, nil, "--webhook-url", rc+"/hook")
	withKey := map[string]string{envAPIKey: heliumidtest.DefaultAPIKey, envBaseURL: f.base + "/api"}
	noKey := map[string]string{envBaseURL: f.base + "/api"}
	newID := func() string {
		r := runBinary(t, withKey, "create", "--json", "--vendor-data", "user-42")
		require.Equal(t, exitOK, r.code, r.stderr)
		var c createOutput
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &c))
		return c.ID
	}
	id := newID()

	r := runBinary(t, noKey, "decide", id, "successful")
	require.Equal(t, exitOK, r.code, "no key needed: %s", r.stderr)
	assert.Regexp(t, `(?m)^ID\s+`+id+`$`, r.stdout)
	assert.Regexp(t, `(?m)^Status\s+successful \(2010\)$`, r.stdout)
	assert.Regexp(t, `(?m)^Vendor data\s+user-42$`, r.stdout)
	assert.Contains(t, r.stdout, "hidden: pass --show-personal-data to show it")
	assert.NotContains(t, r.stdout, "JANE")
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(statuses) == 3
	}, 10*time.Second, 2*time.Millisecond)
	mu.Lock()
	assert.Equal(t, []heliumid.Status{"started", "submitted", "successful"}, statuses)
	mu.Unlock()

	r = runBinary(t, noKey, "decide", "--json", newID(), "review")
	require.Equal(t, exitOK, r.code, r.stderr)
	var v heliumid.Verification
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v))
	assert.Equal(t, heliumid.StatusReview, v.Status)
	assert.Nil(t, v.DocumentInfo, "personal data hidden")
	assert.Contains(t, r.stderr, personalDataNote)
	r = runBinary(t, noKey, "decide", "--show-personal-data", newID(), "failed")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "JANE")

	r = runBinary(t, noKey, "decide", id, "failed")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, `heliumid decide: POST /admin/sessions/`+id+`/decide: 409 Conflict: transition not allowed by the lifecycle: session `+id+` cannot reach "failed" from "successful"`)
	assert.Contains(t, r.stderr, `hint: "heliumid get ID" shows where the session is`)
	r = runBinary(t, noKey, "decide", "nope", "successful")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "404 Not Found: no session \"nope\"")
	assert.Contains(t, r.stderr, "hint: check the session id")
	r = runBinary(t, noKey, "decide", id, "started")
	assert.Equal(t, exitUsage, r.code)
	r = runBinary(t, nil, "decide", id, "successful")
	assert.Equal(t, exitConfig, r.code)
	assert.Contains(t, r.stderr, envBaseURL+" is not set")
	assert.Equal(t, exitOK, f.stop(t))
}
