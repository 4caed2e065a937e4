package heliumidtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzAnyRequestGetsAnEnvelope feeds the Server's handler arbitrary
// requests: none may panic, and every answer is the API's envelope whose
// code repeats a status the API uses.
func FuzzAnyRequestGetsAnEnvelope(f *testing.F) {
	f.Add("POST", "/api/v1/verifications", "", `{"vendorData":"a","meta":{"x":1},"method":"manual"}`, true)
	f.Add("GET", "/api/v1/verifications", "page=2&limit=1&status=created", "", true)
	f.Add("GET", "/api/v1/verifications/7e570000-0000-4000-8000-000000000001", "", "", true)
	f.Add("GET", "/api/v1/verifications/%2F..%2f", "", "", true)
	f.Add("PUT", "/api/v1/verifications/x", "", "{}", false)
	f.Add("POST", "/api/v1/verifications", "", `{"meta":{"a":[1,2,{"b":null}]},"vendorData":null}`, true)
	f.Add("POST", "/api/v1/verifications", "", "\xff\xfe{", true)
	f.Add("GET", "/api", "page=%zz", "", true)
	f.Add("BREW", "/", "", "", false)

	srv := NewServer(WithRateLimit(50, 1))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, method, path, query, body string, withKey bool) {
		if method == "" || strings.ContainsAny(method, " \t\r\n") {
			method = "GET"
		}
		req := &http.Request{
			Method: method,
			URL:    &url.URL{Path: path, RawQuery: query},
			Header: http.Header{"Content-Type": {"application/json"}},
			Body:   io.NopCloser(strings.NewReader(body)),
		}
		if withKey {
			req.Header.Set("X-Api-Key", srv.APIKey())
		}
		req = req.WithContext(t.Context())
		rec := httptest.NewRecorder()
		srv.serveHTTP(rec, req)

		var env struct {
			Status *bool           `json:"status"`
			Code   int             `json:"code"`
			Data   json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Status == nil {
			t.Fatalf("%s %s?%s: not an envelope: %q", method, path, query, rec.Body.Bytes())
		}
		switch rec.Code {
		case 200, 400, 401, 404, 405, 413, 415, 429:
		default:
			t.Fatalf("%s %s?%s: unexpected status %d", method, path, query, rec.Code)
		}
		if env.Code != rec.Code || *env.Status != (rec.Code == 200) {
			t.Fatalf("%s %s?%s: envelope %s disagrees with status %d", method, path, query, rec.Body.Bytes(), rec.Code)
		}
	})
}
