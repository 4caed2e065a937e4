package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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

// Against the embedded fake: one session per distinct vendor id, paced by the
// limiter, as CSV on stdout; the summary on stderr, with no \r: stderr is
// not a terminal here.
func TestEmbeddedFake(t *testing.T) {
	in := "vendor_id,plan\nv-1,basic\nv-2,pro\nv-1,basic\n,\nv-3,basic\nv-4,basic\nv-5,pro\n"
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-rate", "50"}, env(nil), strings.NewReader(in), &stdout, &stderr)
	require.NoError(t, err, stderr.String())

	rows := readCSV(t, stdout.String())
	assert.Equal(t, []string{"vendor_id", "verification_id", "link"}, rows[0])
	assert.ElementsMatch(t, []string{"v-1", "v-2", "v-3", "v-4", "v-5"}, column(rows[1:], 0))
	for _, row := range rows[1:] {
		assert.Regexp(t, `^http://127\.0\.0\.1:\d+/\?processId=`+row[1]+`$`, row[2], "the embedded fake's hosted page")
	}

	log := stderr.String()
	assert.Contains(t, log, "Using the embedded fake Helium ID at http://127.0.0.1:")
	assert.Contains(t, log, "Skipping 1 repeated vendor id: one session each is enough.")
	assert.NotContains(t, log, "\r", "no \r unless stderr is a terminal")
	assert.NotContains(t, log, "\x1b")
	assert.Regexp(t, `Done in \S+: created 5, failed 0, not attempted 0\n`, log)
	assert.Contains(t, log, "The server never answered 429 (rate limited).\n", "5 fit in the fake's burst")
	assert.NotContains(t, log, "paused")
	m := regexp.MustCompile(`The rate limiter made (\d+) requests? wait \(at 50/s\)\.\n$`).FindStringSubmatch(log)
	require.NotNil(t, m, log)
	waits, _ := strconv.Atoi(m[1])
	assert.Positive(t, waits, "4 workers, burst 1: the limiter must hold some back")
}

// Past the embedded fake's burst of 5, it answers 429; the client waits out
// the Retry-After (1 s) and every row is still created. (This test takes
// that second in real time: the wait is the behaviour shown.)
func TestEmbeddedFakeShows429Handling(t *testing.T) {
	in := "v-1\nv-2\nv-3\nv-4\nv-5\nv-6\nv-7\nv-8\n"
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-rate", "50"}, env(nil), strings.NewReader(in), &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Len(t, readCSV(t, stdout.String()), 1+8)
	log := stderr.String()
	assert.Contains(t, log, "created 8, failed 0, not attempted 0")
	assert.Regexp(t, `The server answered 429 \(rate limited\) (once|twice|\d+ times): the client paused creation for (its|each) Retry-After \(up to -max-wait 30s\) and tried again\.\n`, log,
		"the sample shows the 429 handling it is there to show")
}

// Without -csv, a terminal on stdin is not read: bulk says how to give it
// input instead of waiting silently.
func TestNoInputFromATerminal(t *testing.T) {
	// /dev/null is a character device, as a terminal is.
	tty, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer tty.Close()
	var stdout, stderr bytes.Buffer
	err = run(t.Context(), nil, env(nil), tty, &stdout, &stderr)
	require.ErrorIs(t, err, errNoInput)
	assert.Contains(t, err.Error(), "pass -csv FILE")
	assert.Empty(t, stdout.String())
	err = run(t.Context(), []string{"-csv", "-"}, env(nil), tty, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "no vendor ids in standard input", "-csv - reads it anyway")
}

// On a terminal, the progress line steps aside for each CSV row and is
// redrawn after it.
func TestProgressOnATerminal(t *testing.T) {
	var w bytes.Buffer
	p := &progress{w: &w, live: true, total: 2}
	p.show(0, 0, true)
	p.clear()
	p.show(1, 0, true)
	p.clear()
	p.clear()
	p.show(2, 0, true)
	p.end()
	assert.Equal(t, "\r\x1b[K0/2 created, 0 failed\r\x1b[K\r\x1b[K1/2 created, 0 failed\r\x1b[K\r\x1b[K2/2 created, 0 failed\n", w.String())

	w.Reset()
	p = &progress{w: &w, total: 2, last: time.Now().Add(-time.Minute)}
	p.show(1, 0, false)
	p.clear()
	p.show(2, 0, true)
	p.end()
	assert.Equal(t, "progress: 1/2 created, 0 failed\n", w.String(), "elsewhere, plain lines, and the summary says the end")
}

// realAPI stands in for the real API: bulk gets its key and URL from the
// environment.
func realAPI(t *testing.T, opts ...heliumidtest.Option) (*heliumidtest.Server, func(string) string) {
	srv := heliumidtest.NewServer(append(opts, heliumidtest.WithAPIKey("live_key_1"))...)
	t.Cleanup(srv.Close)
	return srv, env(map[string]string{"HELIUMID_API_KEY": "live_key_1", "HELIUMID_BASE_URL": srv.URL})
}

// The sample file: 20 sessions, each vendor id sent once as VendorData.
func TestVendorsFile(t *testing.T) {
	srv, getenv := realAPI(t)
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-csv", "vendors.csv", "-rate", "1000", "-workers", "8"}, getenv, nil, &stdout, &stderr)
	require.NoError(t, err, stderr.String())

	assert.Len(t, readCSV(t, stdout.String()), 21)
	var sent []string
	for _, r := range srv.Requests() {
		require.Equal(t, http.MethodPost, r.Method)
		sent = append(sent, string(r.Body))
	}
	var want []string
	for i := 1; i <= 20; i++ {
		want = append(want, fmt.Sprintf(`{"vendorData":"vendor-%02d"}`, i))
	}
	assert.ElementsMatch(t, want, sent)
	assert.Contains(t, stderr.String(), "created 20, failed 0, not attempted 0\n")
	assert.NotContains(t, stderr.String(), "live_key_1")
}

// Once the server's cap is reached for longer than the client waits, the run
// stops early and says what happened; what was created is still on stdout.
func TestCapReached(t *testing.T) {
	srv, getenv := realAPI(t, heliumidtest.WithRateLimit(5, time.Hour))
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-csv", "vendors.csv", "-rate", "1000", "-max-wait", "0s"}, getenv, nil, &stdout, &stderr)
	require.ErrorContains(t, err, "15 of 20 sessions not created")

	assert.Len(t, readCSV(t, stdout.String()), 1+5)
	log := stderr.String()
	assert.Contains(t, log, ": created 5, ")
	assert.Regexp(t, `Failures by class: (interrupted \d+, )?rate-limited \d+\n`, log)
	assert.Less(t, len(srv.Requests()), 20, "it must stop early rather than try every row")
}

func TestWrongKey(t *testing.T) {
	srv := heliumidtest.NewServer()
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-csv", "vendors.csv", "-rate", "1000"}, env(map[string]string{"HELIUMID_API_KEY": "nope", "HELIUMID_BASE_URL": srv.URL}), nil, &stdout, &stderr)
	require.Error(t, err)
	assert.Equal(t, "vendor_id,verification_id,link\n", stdout.String())
	assert.Regexp(t, `Failures by class: (interrupted \d+, )?unauthorized \d+\n`, stderr.String())
	assert.Less(t, len(srv.Requests()), 20, "it must stop early rather than try every row")
}

// Bad input fails before any session is created.
func TestBadInput(t *testing.T) {
	srv, getenv := realAPI(t)
	for name, tc := range map[string]struct {
		args []string
		in   string
		err  string
	}{
		"empty":        {nil, "vendor_id\n", "no vendor ids in standard input"},
		"short row":    {nil, "name,vendor_id\nann,a-1\nbob\n", "line 3 has no vendor_id column"},
		"bad quoting":  {nil, "a-1\n\"a-2\n", `extraneous or missing " in quoted-field`},
		"missing file": {[]string{"-csv", "nope.csv"}, "", "nope.csv"},
		"bad rate":     {[]string{"-rate", "0"}, "a-1\n", "-rate and -workers must be positive"},
		"bad max-wait": {[]string{"-max-wait", "-1s"}, "a-1\n", "-max-wait not negative"},
	} {
		err := run(context.Background(), tc.args, getenv, strings.NewReader(tc.in), io.Discard, io.Discard)
		assert.ErrorContains(t, err, tc.err, name)
	}
	assert.Empty(t, srv.Requests())
}

func TestReadVendorIDs(t *testing.T) {
	for name, tc := range map[string]struct {
		in       string
		ids      []string
		repeated int
	}{
		"no header":            {"a-1\na-2\n", []string{"a-1", "a-2"}, 0},
		"header, other column": {"email,Vendor_ID\nx@example.com,a-1\ny@example.com, a-2 \n", []string{"a-1", "a-2"}, 0},
		"blanks and repeats":   {"a-1\n\n\"\"\na-1\na-2\na-1\n", []string{"a-1", "a-2"}, 2},
		"quoted comma":         {"vendor_id\n\"a,1\"\n", []string{"a,1"}, 0},
	} {
		ids, repeated, err := readVendorIDs(strings.NewReader(tc.in))
		require.NoError(t, err, name)
		assert.Equal(t, tc.ids, ids, name)
		assert.Equal(t, tc.repeated, repeated, name)
	}
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	return rows
}

func column(rows [][]string, i int) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[i])
	}
	return out
}

var _ heliumid.RateLimiter = (*countingLimiter)(nil)

// The summary counts in words that fit the count: no pause claimed for
// no 429, "once" rather than "1 times", and the sessions given up on said.
func TestSummaryPhrasesCounts(t *testing.T) {
	for _, tt := range []struct {
		answered, gaveUp int
		want             string
	}{
		{0, 0, "The server never answered 429 (rate limited)."},
		{1, 0, "The server answered 429 (rate limited) once: the client paused creation for its Retry-After (up to -max-wait 30s) and tried again."},
		{2, 0, "The server answered 429 (rate limited) twice: the client paused creation for each Retry-After (up to -max-wait 30s) and tried again."},
		{7, 1, "The server answered 429 (rate limited) 7 times: the client paused creation for each Retry-After (up to -max-wait 30s) and tried again, but gave up on 1 session (see the failures below)."},
		{3, 2, "The server answered 429 (rate limited) 3 times: the client paused creation for each Retry-After (up to -max-wait 30s) and tried again, but gave up on 2 sessions (see the failures below)."},
	} {
		assert.Equal(t, tt.want, throttleSummary(tt.answered, tt.gaveUp, 30*time.Second))
	}
	assert.Equal(t, "The rate limiter made no request wait (at 10/s).", limiterSummary(0, 10))
	assert.Equal(t, "The rate limiter made 1 request wait (at 10/s).", limiterSummary(1, 10))
	assert.Equal(t, "The rate limiter made 12 requests wait (at 2.5/s).", limiterSummary(12, 2.5))
}
