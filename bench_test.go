package heliumid

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The benchmarks of docs/PERFORMANCE.md. Each call is measured against a
// hand-written baseline (net/http + encoding/json into plain structs)
// through the same transport, with the same responses, in the same run,
// alternating round by round:
//
//	BenchmarkGetVerification/transport=memory/round=1/impl=baseline
//	BenchmarkGetVerification/transport=memory/round=1/impl=sdk
//	BenchmarkGetVerification/transport=memory/round=2/impl=sdk
//	BenchmarkGetVerification/transport=memory/round=2/impl=baseline
//	...
//
// so that a noisy moment of a shared machine lands on both sides (-count
// would run every round of one side before the other's). The order flips
// each round (ABBA), which also cancels a slow drift. -rounds sets how
// many; `benchstat -col /impl -ignore /round` pools the rounds into one
// ratio per call.
//
// Transports: "memory" is a RoundTripper answering canned responses
// without any network, where only client-side work is left; "loopback" a
// real HTTP/1.1 server on 127.0.0.1 answering at once; "latency=2ms" the
// same server taking 2 ms per request, closer to what users feel.

var benchRounds = flag.Int("rounds", 1, "benchmarks: rounds of each implementation, alternating (docs/PERFORMANCE.md)")

// benchSessionJSON is a realistic session as GET /v1/verifications/{id}
// returns it once submitted: every documented field, document data included.
const benchSessionJSON = `{"id":"66f1c0ffee00000000000001","status":"successful","statusCode":2010,` +
	`"verificationMethod":"auto","createdAt":"2026-11-28T12:00:00.000Z","updatedAt":"2026-11-28T12:04:31.517Z",` +
	`"reason":"","vendorData":"user-8812","meta":{"plan":"pro","source":"signup"},` +
	`"selfie":{"key":"selfies/66f1c0ffee00000000000001.jpg","url":"https://cdn.heliumid.io/selfies/66f1c0ffee00000000000001.jpg?sig=abc"},` +
	`"doc":{"type":"passport","name":"Passport","issuingState":"DEU","key":{"front":"docs/66f1-front.jpg","back":"docs/66f1-back.jpg"},` +
	`"url":{"front":"https://cdn.heliumid.io/docs/66f1-front.jpg?sig=def","back":"https://cdn.heliumid.io/docs/66f1-back.jpg?sig=ghi"}},` +
	`"docInfo":{"docType":"P","docNumber":"C01X00T47","issueDate":"2020-01-15","expiryDate":"2030-01-14","issuingState":"DEU",` +
	`"firstName":"Erika","lastName":"Mustermann","middleName":"","dob":"1964-08-12","sex":"F"}}`

// The response bodies: the documented envelope around the documented data.
var (
	benchGetBody    = []byte(`{"status":true,"message":"Verification found","data":` + benchSessionJSON + `,"code":200}`)
	benchCreateBody = []byte(`{"status":true,"message":"Created verification","data":{"link":"https://verify.heliumid.io/?processId=66f1c0ffee00000000000001","verificationId":"66f1c0ffee00000000000001"},"code":200}`)
)

const benchID = "66f1c0ffee00000000000001"

// benchCreateRequest is what a sign-up flow sends.
var benchCreateRequest = &CreateVerificationRequest{VendorData: "user-8812", Method: MethodAuto}

// Listing: benchPages pages of benchPageSize sessions each (a page is
// about 117 KiB).
const (
	benchPages    = 10
	benchPageSize = 100
)

// benchListBody returns page n (1-based) of a list of pages pages; the last
// one says so.
func benchListBody(n, pages int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"status":true,"message":"Verifications found","data":{"verifications":[`)
	for i := range benchPageSize {
		if i > 0 {
			b.WriteByte(',')
		}
		// Distinct ids, so that no page looks like a repeat of the last.
		s := bytes.Replace([]byte(benchSessionJSON), []byte(benchID), fmt.Appendf(nil, "66f1c0ffee00000000%04d%02d", n%10000, i), 1)
		b.Write(s)
	}
	fmt.Fprintf(&b, `],"page":%d,"limit":%d,"total":%d,"totalPages":%d,"hasNextPage":%t},"code":200}`,
		n, benchPageSize, pages*benchPageSize, pages, n < pages)
	return b.Bytes()
}

var benchListBodies = func() [][]byte {
	pages := make([][]byte, benchPages+1)
	for n := 1; n <= benchPages; n++ {
		pages[n] = benchListBody(n, benchPages)
	}
	return pages
}()

// benchResponse picks the canned body for a request: the API as far as
// these benchmarks use it.
func benchResponse(req *http.Request) []byte {
	switch {
	case req.Method == http.MethodPost:
		return benchCreateBody
	case req.URL.Path == "/api/v1/verifications":
		n, _ := strconv.Atoi(req.URL.Query().Get("page"))
		return benchListBodies[min(max(n, 1), benchPages)]
	default:
		return benchGetBody
	}
}

// benchHeader is the header of every canned response. Like the fake
// server, it carries a request id.
func benchHeader() http.Header {
	return http.Header{
		"Content-Type": {"application/json"},
		"X-Request-Id": {"req_0123456789abcdef"},
	}
}

// memoryTransport answers every request in memory: it reads and closes the
// request body, as a real transport does, and returns the body respond
// picks (benchResponse when nil), with its Content-Length.
type memoryTransport struct {
	header  http.Header // shared: neither the SDK nor the baseline modifies it
	respond func(*http.Request) []byte
}

func (t *memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	respond := t.respond
	if respond == nil {
		respond = benchResponse
	}
	body := respond(req)
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        t.header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// benchHandler serves benchResponse over HTTP after latency.
func benchHandler(latency time.Duration) http.Handler {
	header := benchHeader()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if latency > 0 {
			time.Sleep(latency)
		}
		body := benchResponse(r)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.Write(body)
	})
}

// benchServer is an HTTP/1.1 server on loopback answering benchResponse at
// once.
func benchServer(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(benchHandler(0))
	tb.Cleanup(srv.Close)
	return srv
}

// benchTarget is where a benchmark sends its requests: a base URL and the
// one http.Client (with its transport) that the SDK and the baseline share.
type benchTarget struct {
	name    string
	baseURL string
	hc      *http.Client
}

// benchTargets returns the in-memory target, the loopback one and, with
// withLatency, the loopback one behind a server that takes 2 ms.
func benchTargets(b *testing.B, withLatency bool) []benchTarget {
	memory := &http.Client{Transport: &memoryTransport{header: benchHeader()}, Timeout: 60 * time.Second}
	targets := []benchTarget{
		{name: "memory", baseURL: "https://server.heliumid.io/api", hc: memory},
		loopbackTarget(b, "loopback", 0),
	}
	if withLatency {
		targets = append(targets, loopbackTarget(b, "latency=2ms", 2*time.Millisecond))
	}
	return targets
}

// loopbackTarget starts a server answering after latency, reached through
// the SDK's default transport.
func loopbackTarget(b *testing.B, name string, latency time.Duration) benchTarget {
	srv := httptest.NewServer(benchHandler(latency))
	b.Cleanup(srv.Close)
	hc := newDefaultHTTPClient()
	b.Cleanup(hc.CloseIdleConnections)
	return benchTarget{name: name, baseURL: srv.URL + "/api", hc: hc}
}

func (bt benchTarget) client(b *testing.B) *Client {
	c, err := NewClient(testKey, WithBaseURL(bt.baseURL), WithHTTPClient(bt.hc))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchImpl is one side of a comparison: a name and its benchmark.
type benchImpl struct {
	name  string
	bench func(b *testing.B)
}

// loopOp benchmarks op, once per iteration, after a first call that warms
// the connection pool and caches up (b.Loop resets the timer and the
// allocation counters).
func loopOp(op func() error) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// runRounds runs each impl as a sub-benchmark of b, *benchRounds times,
// alternating: round=1 in the order given, round=2 in reverse, and so on.
func runRounds(b *testing.B, impls ...benchImpl) {
	for round := 1; round <= *benchRounds; round++ {
		order := slices.Clone(impls)
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, impl := range order {
			b.Run(fmt.Sprintf("round=%d/impl=%s", round, impl.name), impl.bench)
		}
	}
}

// The baseline: what a competent engineer writes without the SDK.
// net/http and encoding/json, the same headers, the status checked, the body
// read whole and the envelope decoded in one json.Unmarshal, the body
// closed. io.ReadAll + json.Unmarshal and json.NewDecoder(resp.Body).Decode
// take the same time here; the former allocates a little less, so it is the
// baseline.
//
// The baseline decodes into plain structs of its own, as hand-written code
// declares them (handVerification), not into Verification: decoding into
// Verification would run the SDK's own decoder (its UnmarshalJSON), and the
// baseline would no longer be code written without the SDK. A plain struct
// is also less work: no tolerance for the variants Verification accepts.

// handEnvelope is the response envelope as a hand-written client declares it.
type handEnvelope struct {
	Status  bool   `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// handVerification is a session as a hand-written client declares it: the
// documented fields, with plain types.
type handVerification struct {
	ID           string         `json:"id"`
	Status       string         `json:"status"`
	StatusCode   int            `json:"statusCode"`
	Method       string         `json:"verificationMethod"`
	CreatedAt    time.Time      `json:"createdAt"`
	UpdatedAt    time.Time      `json:"updatedAt"`
	Reason       string         `json:"reason"`
	VendorData   string         `json:"vendorData"`
	Meta         map[string]any `json:"meta"`
	Selfie       *Media         `json:"selfie"` // Media, Document and DocumentInfo are plain structs
	Document     *Document      `json:"doc"`
	DocumentInfo *DocumentInfo  `json:"docInfo"`
}

// handCall sends one request and decodes the envelope's data into out.
func handCall(ctx context.Context, hc *http.Client, method, target, key string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return err
	}
	req.Header.Set("x-api-key", key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s %s: HTTP %d", method, target, resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	env := handEnvelope{Data: out}
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	if !env.Status {
		return errors.New(env.Message)
	}
	return nil
}

func handCreate(ctx context.Context, hc *http.Client, baseURL, key string, req *CreateVerificationRequest) (*CreatedVerification, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var out CreatedVerification
	if err := handCall(ctx, hc, http.MethodPost, baseURL+"/v1/verifications", key, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func handGet(ctx context.Context, hc *http.Client, baseURL, key, id string) (*handVerification, error) {
	var out handVerification
	if err := handCall(ctx, hc, http.MethodGet, baseURL+"/v1/verifications/"+url.PathEscape(id), key, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// handAll pages through the list by hand until the server says the last
// page was reached.
func handAll(ctx context.Context, hc *http.Client, baseURL, key string, limit int, yield func(*handVerification)) error {
	for page := 1; ; page++ {
		q := url.Values{"limit": {strconv.Itoa(limit)}, "page": {strconv.Itoa(page)}}
		var data struct {
			Verifications []*handVerification `json:"verifications"`
			HasNextPage   bool                `json:"hasNextPage"`
		}
		if err := handCall(ctx, hc, http.MethodGet, baseURL+"/v1/verifications?"+q.Encode(), key, nil, &data); err != nil {
			return err
		}
		for _, v := range data.Verifications {
			yield(v)
		}
		if !data.HasNextPage || len(data.Verifications) == 0 {
			return nil
		}
	}
}

func BenchmarkCreateVerification(b *testing.B) {
	ctx := context.Background()
	for _, bt := range benchTargets(b, true) {
		b.Run("transport="+bt.name, func(b *testing.B) {
			c := bt.client(b)
			runRounds(b, benchImpl{"baseline", loopOp(func() error {
				_, err := handCreate(ctx, bt.hc, bt.baseURL, testKey, benchCreateRequest)
				return err
			})}, benchImpl{"sdk", loopOp(func() error {
				_, err := c.CreateVerification(ctx, benchCreateRequest)
				return err
			})})
		})
	}
}

func BenchmarkGetVerification(b *testing.B) {
	ctx := context.Background()
	for _, bt := range benchTargets(b, true) {
		b.Run("transport="+bt.name, func(b *testing.B) {
			c := bt.client(b)
			runRounds(b, benchImpl{"baseline", loopOp(func() error {
				_, err := handGet(ctx, bt.hc, bt.baseURL, testKey, benchID)
				return err
			})}, benchImpl{"sdk", loopOp(func() error {
				_, err := c.GetVerification(ctx, benchID)
				return err
			})})
		})
	}
}

// BenchmarkAllVerifications walks benchPages pages of benchPageSize full
// sessions: one op is the whole walk, 1,000 sessions.
func BenchmarkAllVerifications(b *testing.B) {
	ctx := context.Background()
	const want = benchPages * benchPageSize
	for _, bt := range benchTargets(b, false) {
		b.Run("transport="+bt.name, func(b *testing.B) {
			c := bt.client(b)
			runRounds(b, benchImpl{"baseline", loopOp(func() error {
				n := 0
				err := handAll(ctx, bt.hc, bt.baseURL, testKey, benchPageSize, func(*handVerification) { n++ })
				if err == nil && n != want {
					err = fmt.Errorf("walked %d sessions, want %d", n, want)
				}
				return err
			})}, benchImpl{"sdk", loopOp(func() error {
				n := 0
				for _, err := range c.AllVerifications(ctx, &ListVerificationsOptions{Limit: benchPageSize}) {
					if err != nil {
						return err
					}
					n++
				}
				if n != want {
					return fmt.Errorf("walked %d sessions, want %d", n, want)
				}
				return nil
			})})
		})
	}
}

// BenchmarkParseStatus parses the spellings a status arrives in: canonical,
// an alias, another case, a numeric code, and one the SDK does not know.
func BenchmarkParseStatus(b *testing.B) {
	inputs := []string{"successful", "not started", "completed", "Cancelled", "2010", "on hold"}
	b.Run("ParseStatus", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, s := range inputs {
				_ = ParseStatus(s)
			}
		}
	})
	raw := [][]byte{[]byte(`"successful"`), []byte(`"not started"`), []byte(`"completed"`), []byte(`"Cancelled"`), []byte(`2010`), []byte(`"on hold"`)}
	b.Run("UnmarshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		var s Status
		for b.Loop() {
			for _, r := range raw {
				if err := s.UnmarshalJSON(r); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// TestBaselinesDoTheSameJob makes sure the baselines are not cheaper for
// doing less: out of the same responses they read the same data as the SDK.
func TestBaselinesDoTheSameJob(t *testing.T) {
	srv := benchServer(t)
	hc := newDefaultHTTPClient()
	defer hc.CloseIdleConnections()
	baseURL := srv.URL + "/api"
	c, err := NewClient(testKey, WithBaseURL(baseURL), WithHTTPClient(hc))
	require.NoError(t, err)
	ctx := t.Context()

	created, err := c.CreateVerification(ctx, benchCreateRequest)
	require.NoError(t, err)
	handCreated, err := handCreate(ctx, hc, baseURL, testKey, benchCreateRequest)
	require.NoError(t, err)
	assert.Equal(t, created, handCreated)

	v, err := c.GetVerification(ctx, benchID)
	require.NoError(t, err)
	hv, err := handGet(ctx, hc, baseURL, testKey, benchID)
	require.NoError(t, err)
	assert.Equal(t, handVerification{
		ID: v.ID, Status: string(v.Status), StatusCode: v.StatusCode, Method: string(v.Method),
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Reason: v.Reason, VendorData: v.VendorData, Meta: v.Meta,
		Selfie: v.Selfie, Document: v.Document, DocumentInfo: v.DocumentInfo,
	}, *hv)
	assert.NotNil(t, v.DocumentInfo)

	var ids, handIDs []string
	for v, err := range c.AllVerifications(ctx, &ListVerificationsOptions{Limit: benchPageSize}) {
		require.NoError(t, err)
		ids = append(ids, v.ID)
	}
	require.NoError(t, handAll(ctx, hc, baseURL, testKey, benchPageSize, func(v *handVerification) { handIDs = append(handIDs, v.ID) }))
	assert.Len(t, ids, benchPages*benchPageSize)
	assert.Equal(t, ids, handIDs)
}
