package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The heliumid package's webhook tests and fuzz targets exercise every
// rule through ParseWebhook; this pins the codec's own contract.
func TestMACAndSignatures(t *testing.T) {
	key, ts, body := []byte("sk_test"), "1795867200123", []byte(`{"event":"x"}`)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts + "." + string(body)))
	want := m.Sum(nil)
	require.Equal(t, want, MAC(nil, key, ts, body))

	hexSig, b64 := hex.EncodeToString(want), base64.StdEncoding.EncodeToString(want)
	h := http.Header{}
	h.Set(HeaderSignature, "t=1, sha256="+hexSig+" v1,"+b64+" v1="+b64)
	var sigs [MaxSignatures][Size]byte
	name, n, err := Signatures(h, &sigs)
	require.NoError(t, err)
	assert.Equal(t, HeaderSignature, name)
	require.Equal(t, 3, n)
	for _, s := range sigs[:n] {
		assert.Equal(t, want, s[:])
	}

	h = http.Header{}
	h.Set(HeaderHMACSignature, hexSig)
	name, n, err = Signatures(h, &sigs)
	require.NoError(t, err)
	assert.Equal(t, HeaderHMACSignature, name)
	assert.Equal(t, 1, n)

	h = http.Header{}
	h.Set(HeaderTimestamp, " "+ts+" ")
	digits, ms, err := Timestamp(h)
	require.NoError(t, err)
	assert.Equal(t, ts, digits)
	assert.Equal(t, int64(1795867200123), ms)
	h.Set(HeaderTimestamp, "+1")
	_, _, err = Timestamp(h)
	assert.ErrorContains(t, err, "not a base-10 integer")
}
