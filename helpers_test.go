package heliumid

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// assertSDKHeaders checks what every request must carry.
func assertSDKHeaders(t *testing.T, req *http.Request) {
	t.Helper()
	assert.Equal(t, testKey, req.Header.Get("x-api-key"))
	assert.Equal(t, "application/json", req.Header.Get("Accept"))
	assert.Regexp(t, `^heliumid-go/`+regexp.QuoteMeta(Version)+` \(go[^;]+; [a-z0-9]+/[a-z0-9]+\)$`, req.Header.Get("User-Agent"))
}
