package heliumid

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseWebhook feeds ParseWebhook arbitrary bodies and header values. It
// must never panic, and it must never accept a delivery whose signature was
// not made with the key: whenever ParseWebhook returns nil, the signature is
// recomputed here by hand and must match. Then the same body is signed
// properly, so that the decoder sees every body the fuzzer invents, and what
// it decodes is compared with encoding/json into a *Verification.
func FuzzParseWebhook(f *testing.F) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	mac := webhookMACOf(testKey, ts, webhookFixture)
	f.Add(webhookFixture, ts, hex.EncodeToString(mac))
	f.Add(webhookFixture, ts, strings.ToUpper(hex.EncodeToString(mac)))
	f.Add(webhookFixture, ts, base64.StdEncoding.EncodeToString(mac))
	f.Add(webhookFixture, " "+ts+" ", "x,"+hex.EncodeToString(mac))
	f.Add([]byte(`{"event":"e","data":null}`), "-1", "")
	f.Add([]byte(`{"DATA":{"id":1},"\u0065vent":"x"}`), "99999999999999999999", strings.Repeat("0", 64))
	f.Add([]byte(`[{"x":"}"}]`), "0", strings.Repeat("A", 43)+"=")

	// Every timestamp a fuzzer writes is within this tolerance, so inputs get
	// past the clock to the signature check and the decoder.
	wide := WithWebhookTolerance(math.MaxInt64)
	f.Fuzz(func(t *testing.T, body []byte, ts, sig string) {
		header := http.Header{headerTimestamp: {ts}, headerSignature: {sig}}
		ev, err := ParseWebhook(body, header, testKey, wide)
		switch {
		case err == nil:
			if !signedByHand(body, ts, sig, testKey) {
				t.Fatalf("accepted a signature not made with the key: ts %q, sig %q", ts, sig)
			}
			if !bytes.Equal(ev.Raw, body) {
				t.Fatalf("Raw differs from the body")
			}
		case !errors.Is(err, ErrInvalidSignature) && !errors.Is(err, ErrInvalidWebhookBody):
			t.Fatalf("error matches no webhook sentinel: %v", err)
		case strings.Contains(err.Error(), testKey):
			t.Fatalf("the key leaked into the error: %v", err)
		}

		// The same delivery, signed properly.
		trimmed := strings.Trim(ts, " \t")
		header[headerSignature] = []string{hex.EncodeToString(webhookMACOf(testKey, trimmed, body))}
		ev, err = ParseWebhook(body, header, testKey, wide)
		if errors.Is(err, ErrInvalidSignature) {
			if plausibleTimestamp(trimmed) {
				t.Fatalf("refused a properly signed delivery: %v", err)
			}
			return
		}
		compareWithEncodingJSON(t, body, ev, err)
	})
}

// signedByHand reports whether sig lists the documented signature of body at
// ts (hex or base64, optionally after "sha256=" or "v1=", among items
// separated by spaces, tabs or commas), computed here without the code under
// test.
func signedByHand(body []byte, ts, sig, key string) bool {
	mac := webhookMACOf(key, strings.Trim(ts, " \t"), body)
	hexMAC, b64MAC := hex.EncodeToString(mac), base64.StdEncoding.EncodeToString(mac)
	items := strings.FieldsFunc(sig, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' })
	for _, s := range items {
		if low := strings.ToLower(s); strings.HasPrefix(low, "sha256=") || strings.HasPrefix(low, "v1=") {
			s = s[strings.IndexByte(s, '=')+1:]
		}
		if strings.EqualFold(s, hexMAC) || s == b64MAC {
			return true
		}
	}
	return false
}

// plausibleTimestamp reports whether ts is a millisecond timestamp that no
// tolerance of math.MaxInt64 can refuse: up to 13 digits, before the year
// 2287.
func plausibleTimestamp(ts string) bool {
	return ts != "" && len(ts) <= 13 && strings.Trim(ts, "0123456789") == ""
}

// compareWithEncodingJSON checks that ParseWebhook decodes a verified body as
// json.Unmarshal into a WebhookEvent-shaped struct with a *Verification
// does: the same verdict and the same values. A top-level null is refused by
// design. A repeated "data" member decodes into the wire struct twice on
// the SDK's side and through UnmarshalJSON twice on the other, whose
// derived fields (an id from "_id", a status from its code) then differ:
// the values are compared only when "data" comes at most once.
func compareWithEncodingJSON(t *testing.T, body []byte, ev *WebhookEvent, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrInvalidWebhookBody) {
		t.Fatalf("a verified body failed with %v", err)
	}
	if string(bytes.TrimSpace(body)) == "null" {
		if err == nil {
			t.Fatalf("accepted a null body")
		}
		return
	}
	var want struct {
		Event string        `json:"event"`
		Data  *Verification `json:"data"`
	}
	wantErr := json.Unmarshal(body, &want)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("ParseWebhook says %v, encoding/json says %v, for %q", err, wantErr, body)
	}
	if err != nil {
		return
	}
	if ev.Event != want.Event {
		t.Fatalf("event %q, encoding/json %q", ev.Event, want.Event)
	}
	if dataMembers(body) <= 1 && !reflect.DeepEqual(ev.Data, want.Data) {
		t.Fatalf("data %#v, encoding/json %#v", ev.Data, want.Data)
	}
}

// dataMembers counts the top-level members of the JSON object body whose
// names encoding/json matches to "data".
func dataMembers(body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		return 0
	}
	n := 0
	for dec.More() {
		name, err := dec.Token()
		if err != nil {
			return n
		}
		if s, ok := name.(string); ok && strings.EqualFold(s, "data") {
			n++
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return n
		}
	}
	return n
}
