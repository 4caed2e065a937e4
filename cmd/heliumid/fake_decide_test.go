package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// createOn creates a session on a running fake with a raw request, as curl
// would, and returns its id and link.
func createOn(t *testing.T, base string) (id, link string) {
	t.Helper()
	status, body := call(t, "POST", base+"/api/v1/verifications", `{"vendorData":"user-42"}`,
		"X-Api-Key", heliumidtest.DefaultAPIKey, "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, status, body)
	var created struct {
		Data struct{ VerificationID, Link string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	return created.Data.VerificationID, created.Data.Link
}

func TestFakeAdminDecide(t *testing.T) {
	rc := newReceiver(t, heliumidtest.DefaultAPIKey)
	fake := startFake(t, nil, "--addr", "127.0.0.1:0", "--webhook-url", rc.URL)
	id, _ := createOn(t, fake.base)

	status, body := call(t, "POST", fake.base+"/admin/sessions/"+id+"/decide", `{"status":"successful"}`)
	require.Equal(t, http.StatusOK, status, body)
	var v heliumid.Verification
	require.NoError(t, json.Unmarshal([]byte(body), &v), "it answers the session")
	assert.Equal(t, heliumid.StatusSuccessful, v.Status)
	require.Eventually(t, func() bool { return len(rc.received()) == 3 }, 5*time.Second, time.Millisecond)
	var got []heliumid.Status
	for _, ev := range rc.received() {
		got = append(got, ev.Data.Status)
	}
	assert.Equal(t, []heliumid.Status{"started", "submitted", "successful"}, got, "one webhook per step, in order")

	other, _ := createOn(t, fake.base)
	status, body = call(t, "POST", fake.base+"/admin/sessions/"+other+"/decide", "status=review", "Content-Type", "application/x-www-form-urlencoded")
	assert.Equal(t, http.StatusOK, status, "form values work too: %s", body)
	assert.Contains(t, body, `"status": "review"`)
	status, body = call(t, "POST", fake.base+"/admin/sessions/"+other+"/decide?status=failed", "")
	assert.Equal(t, http.StatusOK, status, "and the query string: %s", body)

	for _, tt := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/admin/sessions/" + id + "/decide", `{"status":"started"}`, http.StatusBadRequest, `status \"started\" is not a decision: want successful, failed or review`},
		{"/admin/sessions/" + id + "/decide", `{}`, http.StatusBadRequest, "is not a decision"},
		{"/admin/sessions/" + id + "/decide", `{"status":"approved"}`, http.StatusBadRequest, "is not a decision"},
		{"/admin/sessions/nope/decide", `{"status":"successful"}`, http.StatusNotFound, `no session \"nope\"`},
		{"/admin/sessions/" + id + "/decide", `{"status":"failed"}`, http.StatusConflict, `cannot reach \"failed\" from \"successful\"`},
		{"/admin/sessions/" + id + "/decide", `{"status":"successful"}`, http.StatusConflict, `is \"successful\" already`},
	} {
		status, body := call(t, "POST", fake.base+tt.path, tt.body)
		assert.Equal(t, tt.status, status, "%s %s: %s", tt.path, tt.body, body)
		assert.Contains(t, body, tt.want, "%s %s", tt.path, tt.body)
	}
	status, _ = call(t, "GET", fake.base+"/admin/sessions/"+id+"/decide", "")
	assert.Equal(t, http.StatusMethodNotAllowed, status)

	_, body = call(t, "GET", fake.base+"/admin/", "")
	assert.Contains(t, body, "POST /admin/sessions/{id}/decide")
	assert.Contains(t, body, "GET  /admin/webhooks?view=compact")
	assert.Contains(t, fake.banner, "curl -X POST "+fake.base+"/admin/sessions/ID/decide -d '{\"status\":\"successful\"}'")
}

// The compact view: one line per webhook, the state and the next attempt
// at a glance, no body (so no personal data).
func TestFakeAdminWebhooksCompact(t *testing.T) {
	down := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	fake := startFake(t, nil, "--addr", "127.0.0.1:0", "--webhook-url", down, "--webhook-attempts", "2", "--webhook-backoff", "1h")
	id, _ := createOn(t, fake.base)
	status, body := call(t, "POST", fake.base+"/admin/sessions/"+id+"/decide", `{"status":"successful"}`)
	require.Equal(t, http.StatusOK, status, body)

	var lines []string
	require.Eventually(t, func() bool { // each first attempt made, each retry an hour away
		_, body := call(t, "GET", fake.base+"/admin/webhooks?view=compact", "")
		lines = strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		return len(lines) == 4 && strings.Count(body, "in 1h0m0s") == 3
	}, 10*time.Second, 2*time.Millisecond, "%q", lines)
	assert.Regexp(t, `^ID\s+SESSION\s+STATUS\s+STATE\s+ATTEMPTS\s+NEXT ATTEMPT$`, lines[0])
	for i, st := range []string{"started", "submitted", "successful"} {
		assert.Regexp(t, `^whk_`+string(rune('1'+i))+`\s+`+id+`\s+`+st+`\s+pending\s+1\s+in 1h0m0s \(\d\d:\d\d:\d\d UTC\)$`, lines[i+1])
	}
	_, body = call(t, "GET", fake.base+"/admin/webhooks?view=compact", "")
	for _, pii := range []string{"JANE", "X0000000", "user-42", "{"} {
		assert.NotContains(t, body, pii)
	}
	status, body = call(t, "GET", fake.base+"/admin/webhooks?view=everything", "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "want compact")

	var full []adminDelivery
	_, body = call(t, "GET", fake.base+"/admin/webhooks", "")
	require.NoError(t, json.Unmarshal([]byte(body), &full), "the full view stays JSON")
	require.Len(t, full, 3)
	assert.Equal(t, "pending", full[0].State)
	assert.NotNil(t, full[0].NextAttempt)
}

// Every state a Delivery can be in gets a log line, none a panic (issue
// 21 defect 3: a pending delivery without an error).
func TestLogDeliveryNamesEveryState(t *testing.T) {
	at := time.Now().Add(time.Hour)
	base := heliumidtest.Delivery{ID: "whk_1", Event: heliumid.EventVerificationStatus, VerificationID: "s-1", Status: heliumid.StatusStarted}
	with := func(f func(*heliumidtest.Delivery)) heliumidtest.Delivery {
		d := base
		f(&d)
		return d
	}
	for _, tt := range []struct {
		name string
		d    heliumidtest.Delivery
		want string
	}{
		{"queued", with(func(d *heliumidtest.Delivery) { d.Pending = true; d.NextAttempt = time.Now() }), "→ started: queued"},
		{"delivered", with(func(d *heliumidtest.Delivery) { d.Attempts, d.StatusCode = 1, 200 }), "→ started: 200 (attempt 1)"},
		{"delivered, sent again on request", with(func(d *heliumidtest.Delivery) {
			d.Attempts, d.StatusCode, d.Pending, d.NextAttempt = 1, 200, true, time.Now()
		}), "→ started: 200 (attempt 1); sending it again now, as a redelivery asked"},
		{"waiting for a retry", with(func(d *heliumidtest.Delivery) {
			d.Attempts, d.StatusCode, d.Pending, d.NextAttempt, d.Err = 1, 503, true, at, errors.New("503")
		}), "failed: 503 (attempt 1); next attempt in 1h0m0s"},
		{"in flight, after a failure", with(func(d *heliumidtest.Delivery) { d.Attempts, d.Pending, d.Err = 1, true, errors.New("refused") }),
			"failed: refused (attempt 1); next attempt now"},
		{"given up", with(func(d *heliumidtest.Delivery) { d.Attempts, d.Err = 3, errors.New("503") }), "failed: 503 (attempt 3); given up: POST /admin/webhooks/whk_1/redeliver"},
		{"zero", heliumidtest.Delivery{}, "failed: no answer (attempt 0); given up"},
	} {
		var buf bytes.Buffer
		require.NotPanics(t, func() { logDelivery(log.New(&buf, "", 0), tt.d) }, tt.name)
		assert.Contains(t, buf.String(), tt.want, tt.name)
	}
}

// "heliumid fake --help", decide's and the banner fit in 80 columns.
func TestFakeHelpFitsIn80Columns(t *testing.T) {
	for _, args := range [][]string{{"fake", "--help"}, {"decide", "--help"}} {
		r := cmd(t, nil, args...)
		require.Equal(t, exitOK, r.code, r.stderr)
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.Contains(line, "--api-key-file") || strings.Contains(line, "$"+envAPIKey) {
				continue // the shared key flag's line, printed by every command
			}
			width := utf8.RuneCountInString(strings.ReplaceAll(line, "    \t", "        "))
			assert.LessOrEqual(t, width, 80, "%v: %q", args, line)
		}
	}
	assert.Contains(t, fakeHelp, "POST /admin/sessions/{id}/decide")
	assert.Contains(t, fakeHelp, "data-session-status")
	assert.Contains(t, fakeHelp, `data-status="<the status it moves to>"`)
	assert.Contains(t, fakeHelp, "/admin/webhooks?view=compact")
	assert.Contains(t, fakeHelp, "(421 Misdirected\nRequest for any other Host")
}

func TestDecideUsageAndConfigErrors(t *testing.T) {
	env := map[string]string{envBaseURL: "http://127.0.0.1:1/api"}
	assertUsage(t, cmd(t, env, "decide"), "want a session ID and a decision")
	assertUsage(t, cmd(t, env, "decide", "id"), "want a session ID and a decision")
	assertUsage(t, cmd(t, env, "decide", "id", "successful", "extra"), "got 3 arguments")
	assertUsage(t, cmd(t, env, "decide", "id", "started"), `STATUS "started" is not a decision: want successful, failed or review`)
	assertUsage(t, cmd(t, env, "decide", "", "successful"), "the session ID is empty")

	for _, tt := range []struct {
		base string
		want string
	}{
		{"", "HELIUMID_BASE_URL is not set: decide talks to \"heliumid fake\""},
		{"https://server.heliumid.io/api", "is Helium ID's API, which decides by itself"},
		{"http://example.com/api", "uses plain http; https is required except for loopback hosts"},
		{"127.0.0.1:8080", "HELIUMID_BASE_URL: base URL does not parse"},
		// The SDK's rule, as every other command has it: a name under
		// .localhost is not a loopback host for plain http.
		{"http://app.localhost:8080/api", "uses plain http; https is required except for loopback hosts"},
	} {
		env := map[string]string{}
		if tt.base != "" {
			env[envBaseURL] = tt.base
		}
		r := cmd(t, env, "decide", "id", "successful")
		assert.Equal(t, exitConfig, r.code, "%s: %s", tt.base, r.stderr)
		assert.Contains(t, r.stderr, tt.want, tt.base)
	}

	r := cmd(t, env, "decide", "id", "successful") // nobody listens on port 1
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "heliumid decide: POST /admin/sessions/id/decide: ")
	assert.Contains(t, r.stderr, "hint: could not reach the fake at http://127.0.0.1:1: is \"heliumid fake\" running")
}
