package loopback

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1":            true,
		"127.0.0.1:8080":       true,
		"127.1.2.3:1":          true,
		"[::1]:8080":           true,
		"::1":                  true,
		"localhost":            true,
		"LOCALHOST:8080":       true,
		"localhost.:8080":      true,
		"app.localhost:3000":   true,
		"[::ffff:127.0.0.1]:1": true,
		"":                     false,
		"evil.example":         false,
		"evil.example:8080":    false,
		"127.0.0.1.nip.io":     false,
		"localhost.evil.com":   false,
		"10.0.0.1:8080":        false,
		"0.0.0.0:8080":         false,
		"[::]:8080":            false,
		"notlocalhost":         false,
	} {
		assert.Equal(t, want, IsHost(host), "%q", host)
	}
}

func TestOnlyRefusesOtherNamesWith421(t *testing.T) {
	h := Only("test", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	for host, want := range map[string]int{
		"127.0.0.1:1":       http.StatusTeapot,
		"":                  http.StatusTeapot,
		"rebound.example:1": http.StatusMisdirectedRequest,
	} {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, want, rec.Code, host)
		if want == http.StatusMisdirectedRequest {
			assert.Contains(t, rec.Body.String(), `test: refused: the Host header names "rebound.example:1"`)
		}
	}
}
