package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRun is a "heliumid fake" running in-process.
type fakeRun struct {
	base   string // http://127.0.0.1:PORT, from the banner
	banner string
	log    *syncBuffer // its standard error
	stop   func() int  // Ctrl-C; returns the exit code
}

// startFake runs "heliumid fake args..." until the test stops it (or ends),
// and returns once its banner says where it listens.
func startFake(t *testing.T, env map[string]string, args ...string) *fakeRun {
	t.Helper()
	stdoutR, stdoutW := io.Pipe()
	f := &fakeRun{log: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		code := run(ctx, append([]string{"fake"}, args...), lookup(env), strings.NewReader(""), stdoutW, f.log)
		stdoutW.Close()
		exited <- code
	}()

	var banner strings.Builder
	sc := bufio.NewScanner(stdoutR)
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
	f.banner = banner.String()
	drained := make(chan struct{})
	go func() { io.Copy(io.Discard, stdoutR); close(drained) }()

	var once sync.Once
	code := -1
	f.stop = func() int {
		once.Do(func() {
			cancel()
			code = <-exited
			<-drained
		})
		return code
	}
	t.Cleanup(func() { f.stop() })
	require.NotEmpty(t, f.base, "no base URL in the banner:\n%s\nstderr: %s", f.banner, f.log)
	return f
}

// httpClient makes raw requests without keeping connections open.
var httpClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

// call makes a raw request and returns the status and body.
func call(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestFakeEndToEnd(t *testing.T) {
	rc := newReceiver(t, heliumidtest.DefaultAPIKey)
	fake := startFake(t, nil, "--addr", "127.0.0.1:0", "--webhook-url", rc.URL)
	assert.Contains(t, fake.banner, "export HELIUMID_API_KEY=heliumidtest_key")
	assert.Contains(t, fake.banner, "curl -X POST "+fake.base+"/admin/sessions/ID/status")
	assert.Contains(t, fake.banner, "POSTed to "+rc.URL)
	env := map[string]string{envAPIKey: heliumidtest.DefaultAPIKey, envBaseURL: fake.base + "/api"}

	// Every command works against it.
	r := cmd(t, env, "create", "--json", "--vendor-data", "user-42")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	var created createOutput
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &created))
	id := created.ID

	status, body := call(t, "POST", fake.base+"/admin/sessions/"+id+"/status", `{"status":"started"}`)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"status": "started"`)
	status, body = call(t, "POST", fake.base+"/admin/sessions/"+id+"/status", "status=completed", "Content-Type", "application/x-www-form-urlencoded")
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"status": "submitted"`)
	status, _ = call(t, "POST", fake.base+"/admin/sessions/"+id+"/status?status=successful", "")
	assert.Equal(t, http.StatusOK, status)

	r = cmd(t, env, "get", id)
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, "successful (2010)")
	assert.Equal(t, exitOK, cmd(t, env, "wait", id).code)
	r = cmd(t, env, "list", "--vendor-data", "user-42")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, id)
	r = cmd(t, map[string]string{envAPIKey: "wrong", envBaseURL: env[envBaseURL]}, "get", id)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "401 Unauthorized")

	// The webhooks of the three changes reached the endpoint, signed.
	require.Eventually(t, func() bool { return len(rc.received()) == 3 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, heliumid.StatusSuccessful, rc.received()[2].Data.Status)
	var deliveries []adminDelivery
	require.Eventually(t, func() bool { // the receiver answers before the fake records the delivery
		_, body := call(t, "GET", fake.base+"/admin/webhooks", "")
		require.NoError(t, json.Unmarshal([]byte(body), &deliveries))
		return len(deliveries) == 3
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, heliumid.StatusStarted, deliveries[0].Status)
	assert.Equal(t, 1, deliveries[0].Attempts)
	assert.Equal(t, 200, deliveries[0].StatusCode)
	var delivered struct{ Event string }
	require.NoError(t, json.Unmarshal(deliveries[0].Body, &delivered))
	assert.Equal(t, "verification.status", delivered.Event)

	// The admin endpoints say what is wrong.
	for _, tt := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/admin/sessions/" + id + "/status", `{"status":"failed"}`, http.StatusConflict, `\"successful\" is final`},
		{"/admin/sessions/nope/status", `{"status":"started"}`, http.StatusNotFound, `no session \"nope\"`},
		{"/admin/sessions/" + id + "/status", `{"status":"approved"}`, http.StatusBadRequest, `status \"approved\": want one of`},
		{"/admin/sessions/" + id + "/status", `{"status":`, http.StatusBadRequest, "not a JSON object"},
		{"/admin/advance", `{"duration":"-1h"}`, http.StatusBadRequest, "want a positive Go duration"},
		{"/admin/fail", `{"count":1}`, http.StatusBadRequest, "say how to fail"},
		{"/admin/fail", `{"status":700}`, http.StatusBadRequest, "from 200 to 599"},
		{"/admin/fail", `{"status":500,"count":"many"}`, http.StatusBadRequest, `count \"many\": want an integer`},
		{"/admin/fail", `{"drop":"maybe"}`, http.StatusBadRequest, "want true or false"},
		{"/admin/fail", `{"status":500,"delay":"soon"}`, http.StatusBadRequest, "want a Go duration"},
	} {
		status, body := call(t, "POST", fake.base+tt.path, tt.body)
		assert.Equal(t, tt.status, status, "%s %s: %s", tt.path, tt.body, body)
		assert.Contains(t, body, tt.want, "%s %s", tt.path, tt.body)
	}
	status, body = call(t, "GET", fake.base+"/admin/nothing", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, body, "no admin endpoint /admin/nothing; GET /admin/ lists them")

	// Advance expires what is left undecided, with a webhook.
	other := cmd(t, env, "create", "--json")
	require.NoError(t, json.Unmarshal([]byte(other.stdout), &created))
	status, body = call(t, "POST", fake.base+"/admin/advance", `{"duration":"168h"}`)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"now"`)
	assert.Equal(t, exitUnsuccess, cmd(t, env, "wait", created.ID).code, "expired")
	require.Eventually(t, func() bool { return len(rc.received()) == 4 }, 5*time.Second, time.Millisecond)

	// Injected failures reach the client, a delay and a dropped connection included.
	status, body = call(t, "POST", fake.base+"/admin/fail", `{"status":503,"retryAfter":"1s","message":"down for tests"}`)
	assert.Equal(t, http.StatusOK, status, body)
	status, body = call(t, "GET", fake.base+"/api/v1/verifications/"+id, "", "x-api-key", heliumidtest.DefaultAPIKey)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, body, "down for tests")
	call(t, "POST", fake.base+"/admin/fail", `{"delay":"50ms"}`)
	start := time.Now()
	status, _ = call(t, "GET", fake.base+"/api/v1/verifications/"+id, "", "x-api-key", heliumidtest.DefaultAPIKey)
	assert.Equal(t, http.StatusOK, status, "a delay alone answers normally, late")
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	call(t, "POST", fake.base+"/admin/fail", `{"drop":true}`)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", fake.base+"/api/v1/verifications", strings.NewReader(`{}`))
	req.Header.Set("x-api-key", heliumidtest.DefaultAPIKey)
	req.Header.Set("Content-Type", "application/json")
	_, err := httpClient.Do(req)
	assert.Error(t, err, "the fake drops the client's connection")

	// The request log, and a path outside /api answered by the fake itself.
	var requests []adminRequest
	_, body = call(t, "GET", fake.base+"/admin/requests", "")
	require.NoError(t, json.Unmarshal([]byte(body), &requests))
	require.NotEmpty(t, requests)
	assert.Equal(t, "POST", requests[0].Method)
	assert.Equal(t, "/api/v1/verifications", requests[0].Path)
	assert.JSONEq(t, `{"vendorData":"user-42"}`, requests[0].Body)
	assert.True(t, requests[0].KeyValid)
	assert.NotContains(t, body, heliumidtest.DefaultAPIKey, "the request log never holds the key")
	status, body = call(t, "GET", fake.base+"/v1/verifications", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, body, "/api")
	status, body = call(t, "GET", fake.base+"/admin/", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "POST /admin/sessions/{id}/status")

	assert.Equal(t, exitOK, fake.stop(), "Ctrl-C is the normal way to stop it")
	log := fake.log.String()
	for _, want := range []string{
		"POST /api/v1/verifications → 200 (",
		"GET /api/v1/verifications/" + id + " → 200 (",
		"GET /api/v1/verifications/" + id + " → 401 (",
		"POST /admin/sessions/" + id + "/status → 200 (",
		"POST /admin/sessions/" + id + "/status → 409 (",
		" req_1\n",
		"webhook whk_1 verification.status " + id + " → started: 200 (attempt 1)",
		"webhook whk_4 verification.status " + created.ID + " → expired: 200 (attempt 1)",
		"POST /api/v1/verifications → connection dropped",
		"heliumid fake: stopped",
	} {
		assert.Contains(t, log, want)
	}
	assert.NotContains(t, log, "warning", "loopback only")
}

func TestFakeWithYourKey(t *testing.T) {
	const key = "my-own-test-key"
	fake := startFake(t, map[string]string{envAPIKey: key}, "--addr", "127.0.0.1:0")
	assert.NotContains(t, fake.banner, key)
	assert.Contains(t, fake.banner, "the key you gave (not printed)")

	env := map[string]string{envAPIKey: key, envBaseURL: fake.base + "/api"}
	assert.Equal(t, exitOK, cmd(t, env, "create").code)
	env[envAPIKey] = heliumidtest.DefaultAPIKey
	assert.Equal(t, exitFailure, cmd(t, env, "create").code, "only your key is accepted")
	assert.Equal(t, exitOK, fake.stop())
	assert.NotContains(t, fake.log.String(), key)
}

func TestFakeErrors(t *testing.T) {
	r := cmd(t, nil, "fake", "--webhook-url", "localhost:3000")
	assertUsage(t, r, `--webhook-url "localhost:3000": want an absolute http or https URL`)
	assertUsage(t, cmd(t, nil, "fake", "now"), `unexpected argument "now"`)

	r = cmd(t, map[string]string{envAPIKey: "key with spaces"}, "fake", "--addr", "127.0.0.1:0")
	assert.Equal(t, exitConfig, r.code)
	assert.NotContains(t, r.stderr, "key with spaces")

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	r = cmd(t, nil, "fake", "--addr", busy.Addr().String())
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "address already in use")
	assert.Contains(t, r.stderr, "pass --addr 127.0.0.1:0 for any free port")
	assert.Empty(t, r.stdout)
}

func TestPublicHostPort(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "127.0.0.1:8080",
		"0.0.0.0:8080":   "127.0.0.1:8080",
		"[::]:8080":      "127.0.0.1:8080",
		"[::1]:8080":     "[::1]:8080",
	} {
		tcp, err := net.ResolveTCPAddr("tcp", addr)
		require.NoError(t, err)
		assert.Equal(t, want, publicHostPort(tcp), addr)
	}
}
