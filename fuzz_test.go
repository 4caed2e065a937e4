package heliumid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/; `go test` runs them
// as regression tests, `go test -fuzz=<FuzzName>` explores from them.

func fuzzClient(t *testing.T) *Client {
	c, err := NewClient(testKey)
	require.NoError(t, err)
	return c
}

func response(status int, body []byte) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
}

// exactlyOneSentinel reports the sentinels err matches.
func matchedSentinels(err error) []error {
	var out []error
	for _, s := range allSentinels {
		if errors.Is(err, s) {
			out = append(out, s)
		}
	}
	return out
}

// FuzzDecodeSuccess feeds arbitrary 2xx bodies to the decoder of every
// endpoint, as they are and as the data of a success envelope (so that the
// corpus's sessions and pages reach the data's decoding): it must never
// panic, every failure must be a typed APIError with one sentinel, what it
// accepts must be usable, and a session it accepts must be what
// Verification.UnmarshalJSON makes of the same data.
func FuzzDecodeSuccess(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		c := fuzzClient(t)
		check := func(err error) {
			if err == nil {
				return
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("untyped error %v", err)
			}
			if got := matchedSentinels(err); len(got) != 1 {
				t.Fatalf("%v matches %v", err, got)
			}
			if !utf8.ValidString(err.Error()) || len(err.Error()) > 2048 {
				t.Fatalf("unprintable or unbounded message %q", err.Error())
			}
			if len(apiErr.Body) > keptErrorBody {
				t.Fatalf("kept %d bytes of body", len(apiErr.Body))
			}
		}
		wrapped := append(append([]byte(`{"status":true,"data":`), in...), '}')
		for _, body := range [][]byte{in, wrapped} {
			var created CreatedVerification
			err := c.decodeSuccess(response(200, body), &created)
			check(err)
			if err == nil {
				u, perr := url.Parse(created.Link)
				if perr != nil || created.ID == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
					t.Fatalf("accepted an unusable session %+v", created)
				}
			}

			var v Verification
			err = c.decodeSuccess(response(200, body), &v)
			check(err)
			if err == nil && v.ID == "" && v.Status == "" {
				t.Fatalf("accepted a session with neither id nor status: %+v", v)
			}
			if err == nil && bytes.Equal(body, wrapped) {
				var user Verification
				if uerr := json.Unmarshal(in, &user); uerr != nil || !reflect.DeepEqual(user, v) {
					t.Fatalf("the SDK decoded %#v, UnmarshalJSON %#v (%v)", v, user, uerr)
				}
			}

			var p page
			err = c.decodeSuccess(response(200, body), &p)
			check(err)
			if err == nil {
				for _, item := range p.items {
					if item == nil {
						t.Fatal("accepted a nil session in a list")
					}
				}
			}
		}
	})
}

// FuzzReadError feeds arbitrary error responses: the APIError must always
// exist, carry a bounded printable message, never the key, and keep at most
// keptErrorBody bytes.
func FuzzReadError(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter, requestID string) {
		if status < 100 || status > 999 {
			status = 500
		}
		c := fuzzClient(t)
		resp := response(status, body)
		resp.Header.Set("Retry-After", retryAfter)
		resp.Header.Set("X-Request-Id", requestID)
		o := c.errorOutcome(&call{method: "GET", path: "/v1/verifications/x"}, resp)
		var apiErr *APIError
		if !errors.As(o.err, &apiErr) {
			t.Fatalf("not an APIError: %v", o.err)
		}
		apiErr.RequestID = c.requestID(resp.Header)
		msg := apiErr.Error()
		switch {
		case !utf8.ValidString(msg) || !utf8.ValidString(apiErr.RequestID):
			t.Fatalf("invalid UTF-8 in %q", msg)
		case strings.ContainsAny(apiErr.Message+apiErr.RequestID, "\n\r\x00"):
			t.Fatalf("control characters in %q", msg)
		case len(apiErr.Message) > maxMessage+len("…"), len(apiErr.Body) > keptErrorBody:
			t.Fatalf("unbounded: message %d, body %d bytes", len(apiErr.Message), len(apiErr.Body))
		case strings.Contains(msg, testKey) || bytes.Contains(apiErr.Body, []byte(testKey)):
			t.Fatal("the key reached the error")
		case apiErr.RetryAfter < 0:
			t.Fatalf("negative Retry-After %v", apiErr.RetryAfter)
		case len(matchedSentinels(o.err)) != 1:
			t.Fatalf("%v matches %v", o.err, matchedSentinels(o.err))
		}
	})
}

// FuzzParseStatus: parsing never fails, is idempotent, and agrees with the
// JSON decoding of the same text.
func FuzzParseStatus(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		st := ParseStatus(s)
		if ParseStatus(string(st)) != st {
			t.Fatalf("ParseStatus is not idempotent on %q: %q then %q", s, st, ParseStatus(string(st)))
		}
		if st.IsKnown() != (st == StatusNotStarted || st == StatusStarted || st == StatusSubmitted || st == StatusSuccessful ||
			st == StatusFailed || st == StatusExpired || st == StatusAbandoned || st == StatusReview) {
			t.Fatalf("IsKnown wrong for %q", st)
		}
		if !st.IsKnown() && string(st) != s {
			t.Fatalf("unknown %q was not kept verbatim: %q", s, st)
		}
		b, _ := json.Marshal(s) // which turns invalid UTF-8 into U+FFFD
		var carried string
		var fromJSON Status
		if json.Unmarshal(b, &carried) != nil || json.Unmarshal(b, &fromJSON) != nil {
			t.Fatalf("the JSON string %s failed to decode", b)
		}
		if want := ParseStatus(carried); fromJSON != want {
			t.Fatalf("JSON %s decoded to %q, ParseStatus gave %q", b, fromJSON, want)
		}
		if st.IsTerminal() && len(nextStatuses[st]) > 0 {
			t.Fatalf("terminal %q has a way out", st)
		}
	})
}

// FuzzVerificationJSON: decoding arbitrary JSON never panics, what decodes
// survives a round trip through its own encoding (Extra byte for byte), and decoding twice (into
// what the first decoding left) changes nothing: every member present is
// set again, every member absent was kept.
func FuzzVerificationJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Verification
		if json.Unmarshal(data, &v) != nil {
			return
		}
		_ = fmt.Sprint(v)
		_ = v.LogValue()
		_ = v.ExpiresAt()
		again := v
		again.Meta, again.Extra = maps.Clone(v.Meta), maps.Clone(v.Extra) // decoding merges into maps and pointed-to structs
		again.Selfie, again.Document, again.DocumentInfo = clonePtr(v.Selfie), clonePtr(v.Document), clonePtr(v.DocumentInfo)
		if err := json.Unmarshal(data, &again); err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("decoding %q again changed %#v into %#v (%v)", data, v, again, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return // a decoded timestamp outside years 0-9999 does not encode
		}
		var back Verification
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("re-decoding our own encoding %s: %v", b, err)
		}
		if back.ID != v.ID || back.Status != v.Status || back.StatusCode != v.StatusCode ||
			!back.CreatedAt.Equal(v.CreatedAt) || !back.UpdatedAt.Equal(v.UpdatedAt) || !reflect.DeepEqual(back.Extra, v.Extra) {
			t.Fatalf("round trip changed %+v into %+v (via %s)", v, back, b)
		}
		if v.CreatedAt.IsZero() != v.ExpiresAt().IsZero() {
			t.Fatal("ExpiresAt disagrees with CreatedAt")
		}
	})
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}
