package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListTable(t *testing.T) {
	srv, env := newFake(t)
	a := newSession(t, srv, &heliumid.CreateVerificationRequest{VendorData: "user-1"})
	b := newSession(t, srv, &heliumid.CreateVerificationRequest{VendorData: "user-2", Method: heliumid.MethodManual},
		heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusFailed)

	r := cmd(t, env, "list")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 3, r.stdout)
	assert.Equal(t, []string{"ID", "STATUS", "CODE", "METHOD", "VENDOR", "DATA", "CREATED", "UPDATED", "REASON"}, strings.Fields(lines[0]))
	assert.Contains(t, lines[1], a)
	assert.Contains(t, lines[1], "not started  1001")
	assert.Contains(t, lines[1], "user-1")
	assert.Contains(t, lines[2], b)
	assert.Contains(t, lines[2], "failed")
	assert.Contains(t, lines[2], "manual")
	assert.Contains(t, lines[2], "could not be verified")
	for _, pii := range fakePersonalData {
		assert.NotContains(t, r.stdout, pii)
	}
	assert.Contains(t, r.stderr, "hidden: pass --show-personal-data")

	r = cmd(t, env, "list", "--show-personal-data")
	require.Equal(t, exitOK, r.code)
	lines = strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	assert.Contains(t, lines[0], "NAME")
	assert.Contains(t, lines[0], "DOB")
	assert.Contains(t, lines[2], "JANE DOE")
	assert.Contains(t, lines[2], "1990-01-01")
	assert.Contains(t, lines[2], "P X0000000 UTO")
	assert.Empty(t, r.stderr)
}

func TestListFiltersAndJSON(t *testing.T) {
	srv, env := newFake(t)
	newSession(t, srv, &heliumid.CreateVerificationRequest{VendorData: "user-1"})
	want := newSession(t, srv, &heliumid.CreateVerificationRequest{VendorData: "user-2"},
		heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusReview)

	r := cmd(t, env, "list", "--status", "review", "--json")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	var out []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Len(t, out, 1)
	assert.Equal(t, want, out[0]["id"])
	assert.NotContains(t, out[0], "docInfo")

	r = cmd(t, env, "list", "--vendor-data", "user-1", "--status", "not_started", "--json")
	require.Equal(t, exitOK, r.code)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	require.Len(t, out, 1)
	assert.Equal(t, "user-1", out[0]["vendorData"])

	r = cmd(t, env, "list", "--status", "successful", "--json")
	require.Equal(t, exitOK, r.code)
	assert.Equal(t, "[]\n", r.stdout, "no sessions is an empty array, not null")

	assert.Contains(t, apiRequests(srv), "GET /api/v1/verifications?limit=20&status=review")
	assert.Contains(t, apiRequests(srv), "GET /api/v1/verifications?limit=20&status=not+started&vendorData=user-1")
}

func TestListLimitSpansPages(t *testing.T) {
	srv, env := newFake(t)
	client := srv.Client()
	for i := range 105 {
		_, err := client.CreateVerification(t.Context(), &heliumid.CreateVerificationRequest{VendorData: fmt.Sprint("user-", i)})
		require.NoError(t, err)
	}
	before := len(srv.Requests())
	list := func(args ...string) ([]map[string]any, string) {
		t.Helper()
		r := cmd(t, env, append([]string{"list", "--json"}, args...)...)
		require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
		var out []map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
		return out, r.stderr
	}

	out, note := list("--limit", "3")
	assert.Len(t, out, 3)
	assert.Equal(t, "sessions 1–3 of at least 6 shown, in the server's order; the next ones: heliumid list --json --limit 3 --page 2\n", note)

	out, note = list("--limit", "104")
	assert.Len(t, out, 104)
	assert.Equal(t, "user-103", out[103]["vendorData"])
	assert.Equal(t, "sessions 1–104 of 105 shown, in the server's order; the next 1: heliumid list --json --limit 104 --page 2\n", note)

	out, note = list("--limit", "104", "--page", "2")
	require.Len(t, out, 1)
	assert.Equal(t, "user-104", out[0]["vendorData"], "the 105th: the second API page of 100, after 4 of it")
	assert.Equal(t, "session 105 of 105 shown, in the server's order\n", note)

	out, note = list("--page", "9")
	assert.Empty(t, out)
	assert.Equal(t, "no sessions from number 161 on: the list ends before\n", note)

	assert.Equal(t, []string{
		"GET /api/v1/verifications?limit=3",
		"GET /api/v1/verifications?limit=3&page=2", // how many more
		"GET /api/v1/verifications?limit=100",
		"GET /api/v1/verifications?limit=100&page=2",
		"GET /api/v1/verifications?limit=100&page=2",
		"GET /api/v1/verifications?limit=20&page=9",
	}, apiRequests(srv)[before:])
}

func TestNextPageCommandIsShellQuoted(t *testing.T) {
	c := &cli{stdout: io.Discard, stderr: io.Discard}
	fs := c.newFlagSet("list")
	fs.String("status", "", "")
	fs.String("vendor-data", "", "")
	fs.Int("page", 1, "")
	fs.Bool("json", false, "")
	fs.Bool("show-personal-data", false, "")
	_, _, done := c.parse(fs, "", []string{"--status", "not started", "--vendor-data", "it's $HOME", "--page", "3", "--json=false", "--show-personal-data"})
	require.False(t, done)
	assert.Equal(t, `heliumid list --show-personal-data --status 'not started' --vendor-data 'it'\''s $HOME' --page 4`, nextPageCommand(fs, 4))
}

func TestListUsageErrors(t *testing.T) {
	srv, env := newFake(t)
	assertUsage(t, cmd(t, env, "list", "--status", "approved"), `unknown status "approved"; want one of "not started", started,`)
	assertUsage(t, cmd(t, env, "list", "--limit", "0"), "--limit 0: want at least 1")
	assertUsage(t, cmd(t, env, "list", "extra"), `unexpected argument "extra"`)
	assert.Empty(t, srv.Requests())
}
