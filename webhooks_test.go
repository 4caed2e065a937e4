package heliumid

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The webhook headers, spelled out as Helium ID's docs name them: a test
// does not take them from the code it tests.
const (
	headerTimestamp = "Webhook-Timestamp"
	headerSignature = "Webhook-Signature"
)

// webhookFixture is a delivery as the fake server sends it: a decided
// session with its document data.
var webhookFixture = []byte(`{"event":"verification.status","data":{"id":"66f1c0ffee00000000000001","status":"successful","statusCode":2010,"verificationMethod":"auto","createdAt":"2026-11-28T12:00:00.000Z","updatedAt":"2026-11-28T12:04:31.517Z","reason":"","vendorData":"user-8812","meta":{"plan":"pro","source":"signup"},"selfie":{"key":"selfies/66f1c0ffee00000000000001.jpg","url":"https://cdn.heliumid.io/selfies/66f1c0ffee00000000000001.jpg?sig=abc"},"doc":{"type":"passport","name":"Passport","issuingState":"DEU","key":{"front":"docs/66f1-front.jpg","back":"docs/66f1-back.jpg"},"url":{"front":"https://cdn.heliumid.io/docs/66f1-front.jpg?sig=def","back":"https://cdn.heliumid.io/docs/66f1-back.jpg?sig=ghi"}},"docInfo":{"docType":"P","docNumber":"C01X00T47","issueDate":"2020-01-15","expiryDate":"2030-01-14","issuingState":"DEU","firstName":"Erika","lastName":"Mustermann","middleName":"","dob":"1964-08-12","sex":"F"}}}`)

// webhookPII are pieces of webhookFixture that must never be printed or
// logged.
var webhookPII = []string{"Mustermann", "Erika", "C01X00T47", "1964-08-12", "cdn.heliumid.io", "docs/66f1", "selfies/", "user-8812", "signup"}

// assertNoSecrets fails when s holds the test key or personal data of
// webhookFixture.
func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	assert.NotContains(t, s, testKey, "the API key leaked")
	for _, pii := range webhookPII {
		assert.NotContains(t, s, pii, "personal data leaked")
	}
}

// webhookMACOf computes the documented signature by hand, independently of the
// code under test.
func webhookMACOf(key, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return m.Sum(nil)
}

// webhookHeader returns headers with the given timestamp and signature
// values; an empty value leaves its header out.
func webhookHeader(ts, sig string) http.Header {
	h := http.Header{}
	if ts != "" {
		h.Set(headerTimestamp, ts)
	}
	if sig != "" {
		h.Set(headerSignature, sig)
	}
	return h
}

func TestSignWebhook(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 123_456_789, time.UTC)
	h := SignWebhook(webhookFixture, testKey, at)

	assert.Len(t, h, 2)
	assert.Equal(t, "1795867200123", h.Get(headerTimestamp), "Unix milliseconds, truncated")
	want := hex.EncodeToString(webhookMACOf(testKey, "1795867200123", webhookFixture))
	assert.Equal(t, want, h.Get(headerSignature), "lowercase hex HMAC-SHA256 over <timestamp>.<body>")
}

func TestParseWebhook_roundTrip(t *testing.T) {
	body := bytes.Clone(webhookFixture)
	signedAt := time.Now().Add(-time.Minute)
	ev, err := ParseWebhook(body, SignWebhook(body, testKey, signedAt), testKey)
	require.NoError(t, err)

	assert.Equal(t, "verification.status", ev.Event)
	assert.Equal(t, time.UnixMilli(signedAt.UnixMilli()).UTC(), ev.Timestamp)
	assert.Equal(t, time.UTC, ev.Timestamp.Location())
	require.NotNil(t, ev.Data)
	assert.Equal(t, "66f1c0ffee00000000000001", ev.Data.ID)
	assert.Equal(t, StatusSuccessful, ev.Data.Status)
	assert.Equal(t, 2010, ev.Data.StatusCode)
	assert.Equal(t, MethodAuto, ev.Data.Method)
	assert.Equal(t, time.Date(2026, 11, 28, 12, 4, 31, 517_000_000, time.UTC), ev.Data.UpdatedAt)
	require.NotNil(t, ev.Data.DocumentInfo)
	assert.Equal(t, "Mustermann", ev.Data.DocumentInfo.LastName)
	require.NotNil(t, ev.Data.Document)
	assert.Equal(t, "https://cdn.heliumid.io/docs/66f1-back.jpg?sig=ghi", ev.Data.Document.URL.Back)
	assert.Equal(t, "pro", ev.Data.Meta["plan"])
	assert.JSONEq(t, string(webhookFixture), string(ev.Raw))

	// Raw is a copy: a caller reusing its buffer does not change the event.
	body[2] = 'X'
	assert.Equal(t, webhookFixture, []byte(ev.Raw))
}

func TestParseWebhook_signatureEncodings(t *testing.T) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	mac := webhookMACOf(testKey, ts, webhookFixture)
	lower := hex.EncodeToString(mac)
	other := hex.EncodeToString(webhookMACOf("another key", ts, webhookFixture))
	tests := map[string][]string{
		"lowercase hex":                   {lower},
		"uppercase hex":                   {strings.ToUpper(lower)},
		"mixed-case hex":                  {strings.ToUpper(lower[:32]) + lower[32:]},
		"standard base64":                 {base64.StdEncoding.EncodeToString(mac)},
		"surrounding spaces":              {" \t" + lower + " "},
		"second of a comma list":          {other + "," + lower},
		"first of a comma list":           {lower + ", " + other},
		"in a list with empty items":      {", " + lower + ",,"},
		"on the second of two lines":      {other, lower},
		"base64 in a list of hex":         {other + "," + base64.StdEncoding.EncodeToString(mac)},
		"eight signatures, the last good": append(strings.Split(strings.Repeat(other+",", 7), ",")[:7], lower),
	}
	for name, sigs := range tests {
		t.Run(name, func(t *testing.T) {
			h := webhookHeader(ts, "")
			h[headerSignature] = sigs
			ev, err := ParseWebhook(webhookFixture, h, testKey)
			require.NoError(t, err)
			assert.Equal(t, "verification.status", ev.Event)
		})
	}
}

func TestParseWebhook_rejectsUnauthenticated(t *testing.T) {
	now := time.Now()
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	mac := webhookMACOf(testKey, ts, webhookFixture)
	good := hex.EncodeToString(mac)
	std := base64.StdEncoding.EncodeToString(mac)
	signedAt := func(at time.Time) (string, string) {
		ts := strconv.FormatInt(at.UnixMilli(), 10)
		return ts, hex.EncodeToString(webhookMACOf(testKey, ts, webhookFixture))
	}
	staleTS, staleSig := signedAt(now.Add(-6 * time.Minute))
	futureTS, futureSig := signedAt(now.Add(6 * time.Minute))
	secondsTS := strconv.FormatInt(now.Unix(), 10)

	tests := []struct {
		name   string
		header http.Header
		body   []byte // default webhookFixture
		want   string // in the error's text
	}{
		{name: "nil header", header: nil, want: "missing Webhook-Timestamp"},
		{name: "no headers", header: http.Header{}, want: "missing Webhook-Timestamp"},
		{name: "missing timestamp", header: webhookHeader("", good), want: "missing Webhook-Timestamp"},
		{name: "missing signature", header: webhookHeader(ts, ""), want: "missing Webhook-Signature"},
		{name: "lower-case header keys built by hand", header: http.Header{"webhook-timestamp": {ts}, "webhook-signature": {good}}, want: "canonical keys"},
		{name: "blank timestamp", header: http.Header{headerTimestamp: {"  "}, headerSignature: {good}}, want: "not a base-10 integer"},
		{name: "negative timestamp", header: webhookHeader("-"+ts, good), want: "not a base-10 integer"},
		{name: "plus sign", header: webhookHeader("+"+ts, good), want: "not a base-10 integer"},
		{name: "fractional timestamp", header: webhookHeader(ts+".5", good), want: "not a base-10 integer"},
		{name: "hex timestamp", header: webhookHeader("0x1a", good), want: "not a base-10 integer"},
		{name: "space inside timestamp", header: webhookHeader(ts[:5]+" "+ts[5:], good), want: "not a base-10 integer"},
		{name: "RFC 3339 timestamp", header: webhookHeader(now.Format(time.RFC3339), good), want: "not a base-10 integer"},
		{name: "overlong timestamp", header: webhookHeader(strings.Repeat("1", 20), good), want: "not a base-10 integer"},
		{name: "overflowing timestamp", header: webhookHeader("9223372036854775808", good), want: "out of range"},
		{name: "two timestamps", header: http.Header{headerTimestamp: {ts, ts}, headerSignature: {good}}, want: "2 Webhook-Timestamp headers"},
		{name: "timestamp in seconds", header: webhookHeader(secondsTS, hex.EncodeToString(webhookMACOf(testKey, secondsTS, webhookFixture))), want: "in the past"},
		{name: "stale", header: webhookHeader(staleTS, staleSig), want: "in the past, beyond the tolerance of 5m0s"},
		{name: "future", header: webhookHeader(futureTS, futureSig), want: "in the future, beyond the tolerance of 5m0s"},
		{name: "largest timestamp", header: webhookHeader("9223372036854775807", good), want: "in the future"},
		{name: "zero timestamp", header: webhookHeader("0", good), want: "in the past"},
		{name: "empty signature", header: http.Header{headerTimestamp: {ts}, headerSignature: {""}}, want: "Webhook-Signature is empty"},
		{name: "only commas", header: webhookHeader(ts, " , ,"), want: "Webhook-Signature is empty"},
		{name: "overlong signature header", header: webhookHeader(ts, strings.Repeat(good+",", 16)+good), want: "at most 1024 are accepted"},
		{name: "overlong over two lines", header: http.Header{headerTimestamp: {ts}, headerSignature: {strings.Repeat("a", 600), strings.Repeat("a", 600)}}, want: "1200 bytes long"},
		{name: "nine signatures", header: webhookHeader(ts, strings.Repeat(std+",", 8)+std), want: "more than 8 signatures"},
		{name: "short hex", header: webhookHeader(ts, good[:62]), want: "no well-formed signature"},
		{name: "long hex", header: webhookHeader(ts, good+"00"), want: "no well-formed signature"},
		{name: "64 non-hex characters", header: webhookHeader(ts, strings.Repeat("z", 64)), want: "no well-formed signature"},
		{name: "unpadded base64", header: webhookHeader(ts, strings.TrimRight(std, "=")), want: "no well-formed signature"},
		{name: "base64 with invalid characters", header: webhookHeader(ts, std[:40]+"!!!="), want: "no well-formed signature"},
		{name: "base64 of the wrong length", header: webhookHeader(ts, base64.StdEncoding.EncodeToString(append(mac, 0))[:44]), want: "no well-formed signature"},
		{name: "non-canonical base64 padding bits", header: webhookHeader(ts, noncanonicalWebhookBase64(std)), want: "no well-formed signature"},
		{name: "other key", header: webhookHeader(ts, hex.EncodeToString(webhookMACOf("sk_test_other", ts, webhookFixture))), want: "no signature in Webhook-Signature matches"},
		{name: "key with a newline", header: webhookHeader(ts, hex.EncodeToString(webhookMACOf(testKey+"\n", ts, webhookFixture))), want: "no signature"},
		{name: "body changed", header: webhookHeader(ts, good), body: bytes.Replace(webhookFixture, []byte("successful"), []byte("failed"), 1), want: "no signature"},
		{name: "body re-encoded", header: webhookHeader(ts, good), body: append(bytes.Clone(webhookFixture), '\n'), want: "no signature"},
		{name: "timestamp changed", header: webhookHeader(strconv.FormatInt(now.UnixMilli()+1, 10), good), want: "no signature"},
		{name: "leading zero added to the timestamp", header: webhookHeader("0"+ts, good), want: "no signature"},
		{name: "signed without the dot", header: webhookHeader(ts, hex.EncodeToString(hmacSHA256Of(testKey, ts+string(webhookFixture)))), want: "no signature"},
		{name: "SHA-256 without a key", header: webhookHeader(ts, hex.EncodeToString(webhookSHA256Of(ts+"."+string(webhookFixture)))), want: "no signature"},
		{name: "base64 URL alphabet", header: webhookHeader(urlSafeWebhookSignature(t)), want: "no well-formed signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if body == nil {
				body = webhookFixture
			}
			ev, err := ParseWebhook(body, tt.header, testKey)
			require.ErrorIs(t, err, ErrInvalidSignature)
			assert.NotErrorIs(t, err, ErrInvalidWebhookBody)
			assert.Nil(t, ev)
			assert.Contains(t, err.Error(), tt.want)
			assertNoSecrets(t, err.Error())
		})
	}
}

func hmacSHA256Of(key, msg string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func webhookSHA256Of(msg string) []byte {
	sum := sha256.Sum256([]byte(msg))
	return sum[:]
}

// noncanonicalWebhookBase64 flips the unused low bits of the last character before
// the padding: lenient decoders accept the result as the same bytes.
func noncanonicalWebhookBase64(std string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.IndexByte(alphabet, std[42])
	return std[:42] + string(alphabet[last^1]) + "="
}

// urlSafeWebhookSignature finds a timestamp whose signature of webhookFixture, in standard
// base64, holds '+' or '/', and returns it with the signature written in the
// URL-safe alphabet, which ParseWebhook does not accept.
func urlSafeWebhookSignature(t *testing.T) (string, string) {
	start := time.Now().UnixMilli()
	for ms := start; ms < start+1000; ms++ {
		ts := strconv.FormatInt(ms, 10)
		std := base64.StdEncoding.EncodeToString(webhookMACOf(testKey, ts, webhookFixture))
		if strings.ContainsAny(std, "+/") {
			return ts, base64.URLEncoding.EncodeToString(webhookMACOf(testKey, ts, webhookFixture))
		}
	}
	t.Fatal("no signature with + or / in 1000 tries")
	return "", ""
}

// parseSignedWebhook signs body with testKey now and parses it.
func parseSignedWebhook(body []byte, opts ...WebhookOption) (*WebhookEvent, error) {
	return ParseWebhook(body, SignWebhook(body, testKey, time.Now()), testKey, opts...)
}

func TestParseWebhook_invalidBody(t *testing.T) {
	tests := map[string]string{
		"empty":                          ``,
		"whitespace":                     " \n",
		"text":                           `verification.status`,
		"HTML":                           `<html><body>Bad Gateway</body></html>`,
		"array":                          `[{"event":"verification.status"}]`,
		"string":                         `"verification.status"`,
		"null":                           `null`,
		"unterminated object":            `{"event":"verification.status"`,
		"unterminated string":            `{"event":"verification.status}`,
		"trailing comma":                 `{"event":"verification.status",}`,
		"missing colon":                  `{"event" "verification.status"}`,
		"missing comma":                  `{"event":"a" "data":null}`,
		"unquoted name":                  `{event:"verification.status"}`,
		"trailing data":                  `{"event":"verification.status"} {}`,
		"two objects":                    `{}{}`,
		"event is a number":              `{"event":7}`,
		"event is an object":             `{"event":{"name":"x"}}`,
		"event with a raw newline":       "{\"event\":\"a\nb\"}",
		"event with a bad escape":        `{"event":"a\qb"}`,
		"data is a string":               `{"event":"verification.status","data":"66f1"}`,
		"data is an array":               `{"data":[{"id":"66f1"}]}`,
		"data is a number":               `{"data":42}`,
		"data is true":                   `{"data":true}`,
		"data has a wrongly typed field": `{"data":{"id":5}}`,
		"data is cut short":              `{"data":{"id":"66f1","status":}}`,
		"data with mismatched brackets":  `{"data":{"id":"66f1"]}`,
		"data is misspelled null":        `{"data":nul}`,
		"unknown member is invalid":      `{"event":"a","extra":[1,}`,
		"unknown member, bad literal":    `{"extra":tru,"event":"a"}`,
		"unknown member, bad number":     `{"extra":01}`,
		"invalid member name":            `{"a\qb":1}`,
		"raw control byte in a name":     "{\"a\x01\":1}",
		"missing value":                  `{"event":}`,
		"ends after the colon":           `{"event":`,
		"ends inside a member's string":  `{"x":{"a":"b`,
		"ends inside a member's array":   `{"x":[1,2`,
		"ends after a member":            `{"event":"a"`,
		"first of two data is invalid":   `{"data":"x","data":{"id":"66f1"}}`,
		"bad member after good data":     `{"data":{"id":"66f1"},"x":[}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			ev, err := parseSignedWebhook([]byte(body))
			require.ErrorIs(t, err, ErrInvalidWebhookBody)
			assert.NotErrorIs(t, err, ErrInvalidSignature)
			assert.Nil(t, ev)
			if body == "null" {
				return // encoding/json decodes null into a struct as nothing; a delivery is an object
			}
			// The baseline agrees that these bodies are unusable.
			_, baseErr := handParseWebhook([]byte(body), SignWebhook([]byte(body), testKey, time.Now()), testKey)
			assert.Error(t, baseErr, "encoding/json accepts %q", body)
		})
	}
}

func TestParseWebhook_invalidBodyErrorSaysWhere(t *testing.T) {
	_, err := parseSignedWebhook([]byte(`{"data":{"id":5,"docInfo":{"lastName":"Mustermann"}}}`))
	require.ErrorIs(t, err, ErrInvalidWebhookBody)
	assert.Contains(t, err.Error(), `"data" is not a session object`)
	assert.Contains(t, err.Error(), `id" holds a JSON number`)
	assertNoSecrets(t, err.Error())

	_, err = parseSignedWebhook([]byte(`{"event":"a", "data": {"docInfo":{"lastName":"Mustermann"}} x}`))
	require.ErrorIs(t, err, ErrInvalidWebhookBody)
	assert.Contains(t, err.Error(), "near byte")
	assertNoSecrets(t, err.Error())
}

func TestParseWebhook_tolerantBody(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantEvent string
		wantData  *Verification // nil: Data must be nil
	}{
		{name: "empty object", body: `{}`},
		{name: "no data", body: `{"event":"verification.status"}`, wantEvent: "verification.status"},
		{name: "null data", body: `{"event":"verification.status","data":null}`, wantEvent: "verification.status"},
		{name: "null event", body: `{"event":null,"data":null}`},
		{name: "empty data", body: `{"event":"x","data":{}}`, wantEvent: "x", wantData: &Verification{}},
		{name: "unknown event kept", body: `{"event":"verification.escalated","data":{"id":"a"}}`, wantEvent: "verification.escalated", wantData: &Verification{ID: "a"}},
		{name: "unknown status kept", body: `{"event":"verification.status","data":{"id":"a","status":"Escalated"}}`, wantEvent: "verification.status", wantData: &Verification{ID: "a", Status: "Escalated"}},
		{name: "status alias", body: `{"data":{"id":"a","status":"completed"}}`, wantData: &Verification{ID: "a", Status: StatusSubmitted}},
		{name: "status from its code", body: `{"data":{"_id":"a","statusCode":"4100"}}`, wantData: &Verification{ID: "a", Status: StatusFailed, StatusCode: 4100}},
		{name: "unknown members ignored, or kept in Data.Extra", body: `{"id":"evt_1","event":"e","attempt":2,"nested":{"a":[1,2,{"b":"}"}]},"ok":true,"none":null,"n":-1.5e3,"s":"\"}","data":{"id":"a","newField":[1]}}`, wantEvent: "e",
			wantData: &Verification{ID: "a", Extra: map[string]json.RawMessage{"newField": json.RawMessage(`[1]`)}}},
		{name: "whitespace everywhere", body: " \r\n\t{ \"event\" :\t\"e\" ,\n \"data\" : { \"id\" : \"a\" } }\n", wantEvent: "e", wantData: &Verification{ID: "a"}},
		{name: "escaped names", body: `{"\u0065vent":"e","d\u0061ta":{"id":"a"}}`, wantEvent: "e", wantData: &Verification{ID: "a"}},
		{name: "escaped event", body: `{"event":"verification.\u0073tatus \"q\""}`, wantEvent: `verification.status "q"`},
		{name: "non-ASCII event", body: `{"event":"vérification"}`, wantEvent: "vérification"},
		{name: "invalid UTF-8 in event replaced", body: "{\"event\":\"a\xffb\"}", wantEvent: "a\uFFFDb"},
		{name: "names match as encoding/json matches them", body: `{"Event":"x","DATA":{"ID":"a"}}`, wantEvent: "x", wantData: &Verification{ID: "a"}},
		{name: "repeated event: the last wins", body: `{"event":"a","event":"b"}`, wantEvent: "b"},
		{name: "data then null", body: `{"data":{"id":"a"},"data":null}`},
		{name: "null then data", body: `{"data":null,"data":{"id":"a"}}`, wantData: &Verification{ID: "a"}},
		{name: "repeated data merges like encoding/json", body: `{"data":{"id":"a","reason":"r"},"data":{"status":"failed"}}`, wantData: &Verification{ID: "a", Status: StatusFailed, Reason: "r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := parseSignedWebhook([]byte(tt.body))
			require.NoError(t, err)
			assert.Equal(t, tt.wantEvent, ev.Event)
			assert.Equal(t, tt.wantData, ev.Data)
			assert.Equal(t, tt.body, string(ev.Raw))
		})
	}
}

// TestParseWebhook_decodesLikeEncodingJSON checks ParseWebhook's decoding against
// the hand-written baseline: the same event and session for the bodies both
// understand.
func TestParseWebhook_decodesLikeEncodingJSON(t *testing.T) {
	bodies := []string{
		string(webhookFixture),
		`{"event":"verification.status","data":{"id":"x","status":"review","createdAt":1795867200000}}`,
		`{"data":{"verificationId":"x","statusCode":5000,"doc":{"type":"id","url":{"front":"f"}}},"event":"e"}`,
		`{"event":"e\\\"","data":{"id":"\u00e9","meta":{"k":[null,{"x":"]"}]}}}`,
	}
	for _, body := range bodies {
		h := SignWebhook([]byte(body), testKey, time.Now())
		got, err := ParseWebhook([]byte(body), h, testKey)
		require.NoError(t, err)
		want, err := handParseWebhook([]byte(body), h, testKey)
		require.NoError(t, err)
		assert.Equal(t, want.Event, got.Event)
		assert.Equal(t, want.Data, got.Data)
	}
}

func TestParseWebhook_keyRotation(t *testing.T) {
	const oldKey, newKey = "sk_live_old_0000000000", "sk_live_new_1111111111"
	signed := func(key string) http.Header { return SignWebhook(webhookFixture, key, time.Now()) }

	t.Run("old key accepted during the overlap", func(t *testing.T) {
		_, err := ParseWebhook(webhookFixture, signed(oldKey), newKey, WithWebhookKeys(oldKey))
		require.NoError(t, err)
	})
	t.Run("new key accepted during the overlap", func(t *testing.T) {
		_, err := ParseWebhook(webhookFixture, signed(newKey), newKey, WithWebhookKeys(oldKey))
		require.NoError(t, err)
	})
	t.Run("several extra keys, options add up", func(t *testing.T) {
		_, err := ParseWebhook(webhookFixture, signed(oldKey), "sk_a", WithWebhookKeys("sk_b"), WithWebhookKeys("sk_c", oldKey))
		require.NoError(t, err)
	})
	t.Run("extra keys are trimmed", func(t *testing.T) {
		_, err := ParseWebhook(webhookFixture, signed(oldKey), newKey, WithWebhookKeys(" "+oldKey+"\n"))
		require.NoError(t, err)
	})
	t.Run("old key refused after the overlap", func(t *testing.T) {
		_, err := ParseWebhook(webhookFixture, signed(oldKey), newKey)
		require.ErrorIs(t, err, ErrInvalidSignature)
	})
	t.Run("a third key is refused", func(t *testing.T) {
		_, err := ParseWebhook(webhookFixture, signed("sk_live_stranger"), newKey, WithWebhookKeys(oldKey))
		require.ErrorIs(t, err, ErrInvalidSignature)
		assert.Contains(t, err.Error(), "WithWebhookKeys")
		assert.NotContains(t, err.Error(), oldKey)
		assert.NotContains(t, err.Error(), newKey)
	})
	t.Run("no extra keys is no change", func(t *testing.T) {
		_, err := ParseWebhook(webhookFixture, signed(newKey), newKey, WithWebhookKeys())
		require.NoError(t, err)
	})
	t.Run("blank extra key is invalid", func(t *testing.T) {
		_, err := ParseWebhook(webhookFixture, signed(newKey), newKey, WithWebhookKeys(oldKey, " "))
		require.ErrorIs(t, err, ErrInvalidOption)
		assert.Contains(t, err.Error(), "key 2 of 2")
		assert.NotContains(t, err.Error(), oldKey)
	})
	t.Run("extra key with a control character is invalid", func(t *testing.T) {
		_, err := ParseWebhook(webhookFixture, signed(newKey), newKey, WithWebhookKeys("sk\x00x"))
		require.ErrorIs(t, err, ErrInvalidOption)
	})
}

func TestParseWebhook_configuration(t *testing.T) {
	h := SignWebhook(webhookFixture, testKey, time.Now())

	for _, key := range []string{"", "  \n"} {
		_, err := ParseWebhook(webhookFixture, h, key)
		require.ErrorIs(t, err, ErrMissingAPIKey)
		assert.NotErrorIs(t, err, ErrInvalidSignature, "a configuration mistake is not the sender's fault")
		assert.Contains(t, err.Error(), "ParseWebhook needs the API key")
	}
	_, err := ParseWebhook(webhookFixture, h, "sk test")
	require.ErrorIs(t, err, ErrMissingAPIKey)

	_, err = ParseWebhook(webhookFixture, h, " "+testKey+"\n")
	require.NoError(t, err, "the key is trimmed like NewClient's")

	for _, d := range []time.Duration{0, -time.Minute} {
		_, err = ParseWebhook(webhookFixture, h, testKey, WithWebhookTolerance(d))
		require.ErrorIs(t, err, ErrInvalidOption)
		assert.Contains(t, err.Error(), "must be positive")
	}

	_, err = ParseWebhook(webhookFixture, h, testKey, nil, WithWebhookLogger(nil))
	require.NoError(t, err, "nil options are skipped")
}

func TestWebhookEvent_redacts(t *testing.T) {
	ev, err := parseSignedWebhook(webhookFixture)
	require.NoError(t, err)

	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, arg := range []any{ev, *ev} {
			out := fmt.Sprintf(format, arg)
			assertNoSecrets(t, out)
			assert.Contains(t, out, "verification.status", format)
			assert.Contains(t, out, "66f1c0ffee00000000000001", format)
			assert.Contains(t, out, "successful", format)
			assert.Contains(t, out, redacted, format)
		}
	}
	assert.True(t, strings.HasPrefix(fmt.Sprintf("%#v", ev), "heliumid.WebhookEvent{"))

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("got", "webhook", ev)
	logger.Info("got", "webhook", *ev)
	assertNoSecrets(t, logs.String())
	var rec struct {
		Webhook struct {
			Event        string
			Timestamp    time.Time
			Verification struct {
				ID, Status   string
				PersonalData string `json:"personal_data"`
			}
		}
	}
	require.NoError(t, json.Unmarshal(bytes.SplitN(logs.Bytes(), []byte("\n"), 2)[0], &rec))
	assert.Equal(t, "verification.status", rec.Webhook.Event)
	assert.Equal(t, ev.Timestamp, rec.Webhook.Timestamp)
	assert.Equal(t, "66f1c0ffee00000000000001", rec.Webhook.Verification.ID)
	assert.Equal(t, "successful", rec.Webhook.Verification.Status)
	assert.Equal(t, redacted, rec.Webhook.Verification.PersonalData)
}

func TestWebhookEvent_stringWithoutData(t *testing.T) {
	ev := WebhookEvent{Event: "ping"}
	assert.Equal(t, "WebhookEvent{Event: ping, Data: <nil>}", fmt.Sprint(ev))
	assert.Equal(t, "heliumid.WebhookEvent{Event: ping, Data: <nil>}", fmt.Sprintf("%#v", ev))
	var nilEv *WebhookEvent
	assert.Equal(t, "<nil>", fmt.Sprint(nilEv))

	ev.Timestamp = time.Date(2026, 11, 28, 12, 0, 0, 5_000_000, time.UTC)
	ev.Raw = json.RawMessage(`{"event":"ping"}`)
	assert.Equal(t, "WebhookEvent{Event: ping, Timestamp: 2026-11-28T12:00:00.005Z, Data: <nil>, Raw: [REDACTED]}", fmt.Sprintf("%s", ev))
	assert.Equal(t, slog.GroupValue(slog.String("event", "ping"), slog.Time("timestamp", ev.Timestamp)).String(), ev.LogValue().String())
}
