package main

import (
	"encoding/json"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The personal data heliumidtest puts on every submitted session.
var fakePersonalData = []string{"JANE", "DOE", "1990-01-01", "X0000000", "selfie.jpg", "doc-front.jpg"}

func TestGetHidesPersonalDataByDefault(t *testing.T) {
	srv, env := newFake(t)
	id := newSession(t, srv, &heliumid.CreateVerificationRequest{VendorData: "user-42", Meta: map[string]any{"plan": "pro"}},
		heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful)

	r := cmd(t, env, "get", id)
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	for _, want := range []string{"ID", id, "Status", "successful (2010)", "Method", "auto", "Vendor data", "user-42",
		"Meta", "plan=pro", "Created", "Updated", "Personal data", "--show-personal-data"} {
		assert.Contains(t, r.stdout, want)
	}
	assert.NotContains(t, r.stdout, "Expires", "a decided session does not expire")
	for _, pii := range fakePersonalData {
		assert.NotContains(t, r.stdout+r.stderr, pii)
	}

	r = cmd(t, env, "get", id, "--json") // flags after the id work too
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	assert.Equal(t, id, out["id"])
	assert.Equal(t, "successful", out["status"])
	assert.EqualValues(t, 2010, out["statusCode"])
	assert.Equal(t, "user-42", out["vendorData"])
	assert.Equal(t, map[string]any{"plan": "pro"}, out["meta"])
	for _, key := range []string{"docInfo", "doc", "selfie"} {
		assert.NotContains(t, out, key)
	}
	for _, pii := range fakePersonalData {
		assert.NotContains(t, r.stdout, pii)
	}
	assert.Contains(t, r.stderr, "personal data (docInfo, doc, selfie) hidden")
}

func TestGetShowsPersonalDataWhenAsked(t *testing.T) {
	srv, env := newFake(t)
	id := newSession(t, srv, nil, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusFailed)

	r := cmd(t, env, "get", "--show-personal-data", id)
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	for _, want := range []string{"docInfo.firstName", "JANE", "docInfo.dob", "1990-01-01", "docInfo.docNumber", "X0000000",
		"doc.url.front", "selfie.url", "Reason", "could not be verified"} {
		assert.Contains(t, r.stdout, want)
	}
	assert.NotContains(t, r.stdout, "hidden")

	r = cmd(t, env, "get", "--json", "--show-personal-data", id)
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	var v heliumid.Verification
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v))
	require.NotNil(t, v.DocumentInfo)
	assert.Equal(t, "JANE", v.DocumentInfo.FirstName)
	require.NotNil(t, v.Document)
	require.NotNil(t, v.Selfie)
	assert.Empty(t, r.stderr)
}

func TestGetBeforeSubmissionShowsExpiry(t *testing.T) {
	srv, env := newFake(t)
	id := newSession(t, srv, nil)
	r := cmd(t, env, "get", id)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "not started (1001)")
	assert.Contains(t, r.stdout, "Expires")
	assert.Regexp(t, `(?m)^Vendor data\s+-$`, r.stdout)
	assert.NotContains(t, r.stdout, "Personal data", "nothing was hidden")
}

func TestGetErrors(t *testing.T) {
	srv, env := newFake(t)

	assertUsage(t, cmd(t, env, "get"), "missing the session ID")
	assertUsage(t, cmd(t, env, "get", "a", "b"), "want one session ID, got 2")
	assertUsage(t, cmd(t, env, "get", "a/b"), "characters an id never has")
	assert.Empty(t, srv.Requests(), "usage errors send nothing")

	r := cmd(t, env, "get", "no-such-id")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "heliumid get: GET /v1/verifications/no-such-id: 404 Not Found")
	assert.Empty(t, r.stdout)

	wrongKey := map[string]string{envAPIKey: "not-the-key", envBaseURL: srv.URL}
	r = cmd(t, wrongKey, "get", "no-such-id")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "401 Unauthorized")
	assert.Contains(t, r.stderr, "hint: check HELIUMID_API_KEY or --api-key-file")
	assert.NotContains(t, r.stderr, "not-the-key", "the key is never printed")

	srv.FailNext(3, heliumidtest.Failure{Status: 503}) // the first attempt and both retries
	r = fastCmd(t, env, "get", "no-such-id")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "503 Service Unavailable")
}
