package benchpeers

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/hashicorp/go-retryablehttp"
	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
)

var rounds = flag.Int("rounds", 1, "rounds of each implementation, alternating (docs/PERFORMANCE.md)")

// The documented responses, as the root module's benchmarks serve them.
const sessionJSON = `{"id":"66f1c0ffee00000000000001","status":"successful","statusCode":2010,` +
	`"verificationMethod":"auto","createdAt":"2026-11-28T12:00:00.000Z","updatedAt":"2026-11-28T12:04:31.517Z",` +
	`"reason":"","vendorData":"user-8812","meta":{"plan":"pro","source":"signup"},` +
	`"selfie":{"key":"selfies/66f1c0ffee00000000000001.jpg","url":"https://cdn.heliumid.io/selfies/66f1c0ffee00000000000001.jpg?sig=abc"},` +
	`"doc":{"type":"passport","name":"Passport","issuingState":"DEU","key":{"front":"docs/66f1-front.jpg","back":"docs/66f1-back.jpg"},` +
	`"url":{"front":"https://cdn.heliumid.io/docs/66f1-front.jpg?sig=def","back":"https://cdn.heliumid.io/docs/66f1-back.jpg?sig=ghi"}},` +
	`"docInfo":{"docType":"P","docNumber":"C01X00T47","issueDate":"2020-01-15","expiryDate":"2030-01-14","issuingState":"DEU",` +
	`"firstName":"Erika","lastName":"Mustermann","middleName":"","dob":"1964-08-12","sex":"F"}}`

var (
	getBody    = []byte(`{"status":true,"message":"Verification found","data":` + sessionJSON + `,"code":200}`)
	createBody = []byte(`{"status":true,"message":"Created verification","data":{"link":"https://verify.heliumid.io/?processId=66f1c0ffee00000000000001","verificationId":"66f1c0ffee00000000000001"},"code":200}`)
)

const memoryKey = "sk_test_0123456789abcdef"

// memoryTransport answers in memory, with the documented bodies.
type memoryTransport struct{}

func (memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	body := getBody
	if req.Method == http.MethodPost {
		body = createBody
	}
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// The plain structs every peer decodes into, as hand-written code declares
// them (the SDK decodes into its own types).
type (
	envelope struct {
		Status  bool   `json:"status"`
		Message string `json:"message"`
		Data    any    `json:"data"`
	}
	created struct {
		ID   string `json:"verificationId"`
		Link string `json:"link"`
	}
	session struct {
		ID           string                 `json:"id"`
		Status       string                 `json:"status"`
		StatusCode   int                    `json:"statusCode"`
		Method       string                 `json:"verificationMethod"`
		CreatedAt    time.Time              `json:"createdAt"`
		UpdatedAt    time.Time              `json:"updatedAt"`
		Reason       string                 `json:"reason"`
		VendorData   string                 `json:"vendorData"`
		Meta         map[string]any         `json:"meta"`
		Selfie       *heliumid.Media        `json:"selfie"`
		Document     *heliumid.Document     `json:"doc"`
		DocumentInfo *heliumid.DocumentInfo `json:"docInfo"`
	}
)

var createRequest = []byte(`{"vendorData":"user-8812","method":"auto"}`)

// peer is one client doing the benchmark's two calls.
type peer struct {
	name   string
	create func(ctx context.Context) (string, error) // returns the new session's id
	get    func(ctx context.Context, id string) (string, error)
}

// target is where the peers send their requests: a base URL, its key, and
// the one http.Client every peer is given, so that they share a transport.
type target struct {
	name, baseURL, key string
	hc                 *http.Client
	quickRetries       bool // retryablehttp waits 1 ms between attempts, not 1 s to 30 s: its policy stays
}

func targets(tb testing.TB) []target {
	srv := heliumidtest.NewServer()
	tb.Cleanup(srv.Close)
	// The SDK's default pool sizes: every peer gets the same.
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}
	tb.Cleanup(tr.CloseIdleConnections)
	return []target{
		{name: "memory", baseURL: "https://server.heliumid.io/api", key: memoryKey, hc: &http.Client{Transport: memoryTransport{}, Timeout: time.Minute}},
		{name: "heliumidtest", baseURL: srv.URL, key: srv.APIKey(), hc: &http.Client{Transport: tr, Timeout: time.Minute}},
	}
}

// peers returns every client, wired to t.
func peers(tb testing.TB, t target) []peer {
	sdk, err := heliumid.NewClient(t.key, heliumid.WithBaseURL(t.baseURL), heliumid.WithHTTPClient(t.hc))
	if err != nil {
		tb.Fatal(err)
	}
	retryable := retryablehttp.NewClient()
	retryable.HTTPClient = t.hc
	retryable.Logger = nil // it logs every request by default
	if t.quickRetries {
		retryable.RetryWaitMin, retryable.RetryWaitMax = time.Millisecond, time.Millisecond
	}
	rest := resty.NewWithClient(t.hc).SetBaseURL(t.baseURL).
		SetHeader("x-api-key", t.key).SetHeader("Accept", "application/json")

	return []peer{
		{
			name: "baseline",
			create: func(ctx context.Context) (string, error) {
				var out created
				err := handCall(ctx, t.hc, http.MethodPost, t.baseURL+"/v1/verifications", t.key, createRequest, &out)
				return out.ID, err
			},
			get: func(ctx context.Context, id string) (string, error) {
				var out session
				err := handCall(ctx, t.hc, http.MethodGet, t.baseURL+"/v1/verifications/"+url.PathEscape(id), t.key, nil, &out)
				return out.Status, err
			},
		},
		{
			name: "sdk",
			create: func(ctx context.Context) (string, error) {
				cv, err := sdk.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-8812", Method: heliumid.MethodAuto})
				if err != nil {
					return "", err
				}
				return cv.ID, nil
			},
			get: func(ctx context.Context, id string) (string, error) {
				v, err := sdk.GetVerification(ctx, id)
				if err != nil {
					return "", err
				}
				return string(v.Status), nil
			},
		},
		{
			name: "retryablehttp",
			create: func(ctx context.Context) (string, error) {
				var out created
				err := retryableCall(ctx, retryable, http.MethodPost, t.baseURL+"/v1/verifications", t.key, createRequest, &out)
				return out.ID, err
			},
			get: func(ctx context.Context, id string) (string, error) {
				var out session
				err := retryableCall(ctx, retryable, http.MethodGet, t.baseURL+"/v1/verifications/"+url.PathEscape(id), t.key, nil, &out)
				return out.Status, err
			},
		},
		{
			name: "resty",
			create: func(ctx context.Context) (string, error) {
				var out created
				err := restyCall(rest.R().SetContext(ctx).SetHeader("Content-Type", "application/json").SetBody(createRequest), http.MethodPost, "/v1/verifications", &out)
				return out.ID, err
			},
			get: func(ctx context.Context, id string) (string, error) {
				var out session
				err := restyCall(rest.R().SetContext(ctx).SetPathParam("id", id), http.MethodGet, "/v1/verifications/{id}", &out)
				return out.Status, err
			},
		},
	}
}

// handCall is the hand-written baseline, as in the root module's
// benchmarks: net/http, io.ReadAll, one json.Unmarshal.
func handCall(ctx context.Context, hc *http.Client, method, target, key string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return err
	}
	setHeaders(req.Header, key, body != nil)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(resp, out)
}

func setHeaders(h http.Header, key string, withBody bool) {
	h.Set("x-api-key", key)
	h.Set("Accept", "application/json")
	if withBody {
		h.Set("Content-Type", "application/json")
	}
}

func decode(resp *http.Response, out any) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	env := envelope{Data: out}
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	if !env.Status {
		return errors.New(env.Message)
	}
	return nil
}

func retryableCall(ctx context.Context, c *retryablehttp.Client, method, target, key string, body []byte, out any) error {
	var raw any // retryablehttp takes nil for no body
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, target, raw)
	if err != nil {
		return err
	}
	setHeaders(req.Header, key, body != nil)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(resp, out)
}

func restyCall(r *resty.Request, method, path string, out any) error {
	env := envelope{Data: out}
	resp, err := r.SetResult(&env).Execute(method, path)
	switch {
	case err != nil:
		return err
	case resp.IsError():
		return fmt.Errorf("HTTP %d", resp.StatusCode())
	case !env.Status:
		return errors.New(env.Message)
	}
	return nil
}

// runRounds runs one sub-benchmark per peer, *rounds times, the order
// flipping every round (see the root module's runRounds).
func runRounds(b *testing.B, ps []peer, op func(p peer) error) {
	for _, p := range ps {
		if err := op(p); err != nil { // warm the pool up
			b.Fatalf("%s: %v", p.name, err)
		}
	}
	for round := 1; round <= *rounds; round++ {
		order := slices.Clone(ps)
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, p := range order {
			b.Run(fmt.Sprintf("round=%d/impl=%s", round, p.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := op(p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	for _, t := range targets(b) {
		b.Run("transport="+t.name, func(b *testing.B) {
			runRounds(b, peers(b, t), func(p peer) error {
				_, err := p.create(ctx)
				return err
			})
		})
	}
}

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	for _, t := range targets(b) {
		b.Run("transport="+t.name, func(b *testing.B) {
			ps := peers(b, t)
			id, err := ps[0].create(ctx)
			if err != nil {
				b.Fatal(err)
			}
			runRounds(b, ps, func(p peer) error {
				_, err := p.get(ctx, id)
				return err
			})
		})
	}
}

// TestPeersDoTheSameJob: against the fake, every peer creates a session
// and reads it back.
func TestPeersDoTheSameJob(t *testing.T) {
	ctx := t.Context()
	tg := targets(t)[1]
	for _, p := range peers(t, tg) {
		id, err := p.create(ctx)
		if err != nil || id == "" {
			t.Fatalf("%s: created %q, %v", p.name, id, err)
		}
		status, err := p.get(ctx, id)
		if err != nil || status != string(heliumid.StatusNotStarted) {
			t.Fatalf("%s: got status %q, %v", p.name, status, err)
		}
	}
}

// TestRetryPolicies: a create answered 503 (which Helium ID may have
// processed) is sent once by the SDK and by resty, five times by
// go-retryablehttp's default policy.
func TestRetryPolicies(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"status":false,"message":"try later","code":503}`)
	}))
	defer srv.Close()
	tg := target{name: "503", baseURL: srv.URL + "/api", key: memoryKey, hc: &http.Client{Timeout: time.Minute}, quickRetries: true}
	defer tg.hc.CloseIdleConnections()
	want := map[string]int64{"baseline": 1, "sdk": 1, "retryablehttp": 1 + 4, "resty": 1}
	for _, p := range peers(t, tg) {
		posts.Store(0)
		_, err := p.create(t.Context())
		if err == nil {
			t.Fatalf("%s: a 503 succeeded", p.name)
		}
		if got := posts.Load(); got != want[p.name] {
			t.Errorf("%s sent the create %d times, want %d", p.name, got, want[p.name])
		}
	}
}
