package heliumid

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go/internal/webhooksig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signatureForms are the spellings of one MAC that Webhook-Signature and
// X-Hmac-Signature accept, by name.
func signatureForms(mac []byte) map[string]string {
	h, b := hex.EncodeToString(mac), base64.StdEncoding.EncodeToString(mac)
	return map[string]string{
		"hex":                 h,
		"uppercase hex":       strings.ToUpper(h),
		"base64":              b,
		"sha256=hex":          "sha256=" + h,
		"SHA256=hex":          "SHA256=" + h,
		"sha256=base64":       "sha256=" + b,
		"v1=hex":              "v1=" + h,
		"v1=base64":           "v1=" + b,
		"v1,base64":           "v1," + b, // Standard Webhooks
		"v1,hex":              "v1," + h,
		"v1, base64 (spaced)": "v1, " + b,
	}
}

func TestParseWebhook_signatureForms(t *testing.T) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	mac := webhookMACOf(testKey, ts, webhookFixture)
	other := webhookMACOf("sk_test_other", ts, webhookFixture)
	for name, sig := range signatureForms(mac) {
		t.Run(name, func(t *testing.T) {
			ev, err := ParseWebhook(webhookFixture, webhookHeader(ts, sig), testKey)
			require.NoError(t, err)
			assert.Equal(t, EventVerificationStatus, ev.Event)
		})
		t.Run(name+" in X-Hmac-Signature", func(t *testing.T) {
			h := http.Header{}
			h.Set(headerTimestamp, ts)
			h.Set("X-Hmac-Signature", sig)
			_, err := ParseWebhook(webhookFixture, h, testKey)
			require.NoError(t, err)
		})
	}

	b := base64.StdEncoding.EncodeToString(mac)
	otherB, otherH := base64.StdEncoding.EncodeToString(other), hex.EncodeToString(other)
	ed25519 := base64.StdEncoding.EncodeToString(make([]byte, 64))
	lists := map[string]string{
		"Standard Webhooks, two signatures, the second good": "v1," + otherB + " v1," + b,
		"Standard Webhooks, the first good":                  "v1," + b + " v1," + otherB,
		"an asymmetric v1a signature first":                  "v1a," + ed25519 + " v1," + b,
		"Stripe style, with a t= item":                       "t=" + ts + ",v1=" + hex.EncodeToString(mac) + ",v0=" + otherH,
		"garbage before":                                     "nonsense v1,!!! " + b,
		"garbage after":                                      b + ",nonsense",
		"tab separated":                                      otherH + "\t" + b,
		"hex and base64 mixed":                               "sha256=" + otherH + ", v1=" + b,
		"labels only around it":                              "v1 v1 v1," + b + " v1",
	}
	for name, sig := range lists {
		t.Run(name, func(t *testing.T) {
			_, err := ParseWebhook(webhookFixture, webhookHeader(ts, sig), testKey)
			require.NoError(t, err, "header %q", sig)
		})
	}
}

func TestParseWebhook_rejectsSignatureForms(t *testing.T) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	mac := webhookMACOf(testKey, ts, webhookFixture)
	good, b := hex.EncodeToString(mac), base64.StdEncoding.EncodeToString(mac)
	wrongKey := webhookMACOf("sk_test_other", ts, webhookFixture)
	nine := strings.TrimSpace(strings.Repeat("v1,"+base64.StdEncoding.EncodeToString(wrongKey)+" ", 8)) + " v1," + b

	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"neither header", http.Header{headerTimestamp: {ts}}, "missing Webhook-Signature header, and no X-Hmac-Signature"},
		{"empty Webhook-Signature beside a valid X-Hmac-Signature", http.Header{headerTimestamp: {ts}, headerSignature: {""}, "X-Hmac-Signature": {good}}, "Webhook-Signature is empty"},
		{"wrong Webhook-Signature beside a valid X-Hmac-Signature", http.Header{headerTimestamp: {ts}, headerSignature: {hex.EncodeToString(wrongKey)}, "X-Hmac-Signature": {good}}, "no signature in Webhook-Signature matches"},
		{"X-Hmac-Signature without a timestamp", http.Header{"X-Hmac-Signature": {good}}, "missing Webhook-Timestamp"},
		{"empty X-Hmac-Signature", http.Header{headerTimestamp: {ts}, "X-Hmac-Signature": {" "}}, "X-Hmac-Signature is empty"},
		{"X-Hmac-Signature with another key", http.Header{headerTimestamp: {ts}, "X-Hmac-Signature": {"sha256=" + hex.EncodeToString(wrongKey)}}, "no signature in X-Hmac-Signature matches"},
		{"separators only", webhookHeader(ts, " ,\t, "), "Webhook-Signature is empty"},
		{"garbage only", webhookHeader(ts, "v1,notbase64 sha256=zz t=1"), "holds no well-formed signature"},
		{"a bare label", webhookHeader(ts, "v1"), "holds no well-formed signature"},
		{"a label and nothing after it", webhookHeader(ts, "v1,"), "holds no well-formed signature"},
		{"a prefix and nothing after it", webhookHeader(ts, "sha256="), "holds no well-formed signature"},
		{"two prefixes", webhookHeader(ts, "sha256=v1="+good), "holds no well-formed signature"},
		{"an unknown prefix", webhookHeader(ts, "sha512="+good), "holds no well-formed signature"},
		{"prefix glued without separator", webhookHeader(ts, "v1"+b), "holds no well-formed signature"},
		{"truncated base64", webhookHeader(ts, "v1,"+b[:43]), "holds no well-formed signature"},
		{"truncated hex", webhookHeader(ts, "sha256="+good[:63]), "holds no well-formed signature"},
		{"hex with a character more", webhookHeader(ts, "sha256="+good+"0"), "holds no well-formed signature"},
		{"right MAC, wrong key, Standard Webhooks form", webhookHeader(ts, "v1,"+base64.StdEncoding.EncodeToString(wrongKey)), "no signature in Webhook-Signature matches"},
		{"right key, other timestamp", webhookHeader(ts, "v1,"+base64.StdEncoding.EncodeToString(webhookMACOf(testKey, ts+"1", webhookFixture))), "no signature"},
		{"nine well-formed signatures, the last good", webhookHeader(ts, nine), "lists more than 8 signatures"},
		{"over 1 KiB", webhookHeader(ts, strings.Repeat("v1 ", 340)+"v1,"+b), "at most 1024 are accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseWebhook(webhookFixture, tt.header, testKey)
			require.ErrorIs(t, err, ErrInvalidSignature)
			assert.Nil(t, ev)
			assert.Contains(t, err.Error(), tt.want)
			assertNoSecrets(t, err.Error())
		})
	}
}

// A handler built with WebhookHandler accepts the Standard Webhooks form and
// X-Hmac-Signature as ParseWebhook does.
func TestWebhookHandler_signatureForms(t *testing.T) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	mac := webhookMACOf(testKey, ts, webhookFixture)
	for name, h := range map[string]http.Header{
		"Standard Webhooks": {headerTimestamp: {ts}, headerSignature: {"v1," + base64.StdEncoding.EncodeToString(mac)}},
		"X-Hmac-Signature":  {headerTimestamp: {ts}, "X-Hmac-Signature": {hex.EncodeToString(mac)}},
	} {
		t.Run(name, func(t *testing.T) {
			fn := &webhookRecorder{}
			r := signedWebhookRequest(webhookFixture, testKey)
			r.Header = h
			w := serveWebhook(WebhookHandler(testKey, fn.handle), r)
			assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, 1, fn.calls)
		})
	}
}

// fuzzSignatureTS is the fixed signing time of FuzzWebhookSignatureHeader,
// so that its seed corpus can hold signatures that verify.
const fuzzSignatureTS = "1795867200123"

// FuzzWebhookSignatureHeader feeds the signature header arbitrary values. It
// must never panic and never accept a header that does not carry the MAC
// (checked by signedByHand, written without the code under test). And items
// that cannot be signatures (no letters, digits, '+', '/' or '=') placed
// around a valid signature must never hide it.
func FuzzWebhookSignatureHeader(f *testing.F) {
	mac := webhookMACOf(testKey, fuzzSignatureTS, webhookFixture)
	for _, sig := range signatureForms(mac) {
		f.Add(sig, "", uint8(0))
	}
	f.Add("v1,"+base64.StdEncoding.EncodeToString(mac), "!! ,, --", uint8(1))
	f.Add("v1 v1 v1", "", uint8(2))

	cfg, err := newWebhookConfig("fuzz", testKey, nil)
	if err != nil {
		f.Fatal(err)
	}
	ms, _ := strconv.ParseInt(fuzzSignatureTS, 10, 64)
	now := time.UnixMilli(ms)
	f.Fuzz(func(t *testing.T, sig, junk string, form uint8) {
		h := http.Header{headerTimestamp: {fuzzSignatureTS}}
		header := headerSignature
		if form&1 == 1 {
			header = "X-Hmac-Signature"
		}
		h[header] = []string{sig}
		if _, err := cfg.parse(webhookFixture, h, now); err == nil && !signedByHand(webhookFixture, fuzzSignatureTS, sig, testKey) {
			t.Fatalf("accepted %s %q, which does not carry the MAC", header, sig)
		}

		// Junk that cannot be a signature, around a valid one.
		junk = strings.Map(func(r rune) rune {
			if r < ' ' || r > '~' || strings.ContainsRune("+/=", r) ||
				('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
				return -1
			}
			return r
		}, junk)
		forms := []string{hex.EncodeToString(mac), "v1," + base64.StdEncoding.EncodeToString(mac), "sha256=" + strings.ToUpper(hex.EncodeToString(mac))}
		value := junk + " " + forms[int(form>>1)%len(forms)] + " " + junk
		if len(value) > webhooksig.MaxHeaderSize {
			return
		}
		h[header] = []string{value}
		if _, err := cfg.parse(webhookFixture, h, now); err != nil {
			t.Fatalf("refused %q: %v", value, err)
		}
	})
}
