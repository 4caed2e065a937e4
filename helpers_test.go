package heliumid

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey is the API key of every test client.
const testKey = "sk_test_0123456789abcdef"

// testBaseURL mounts the mocked API under a path prefix, like the real /api,
// so a request that drops the prefix fails loudly.
const testBaseURL = "https://api.test/api"

// newMockClient returns a client whose requests go to a fresh httpmock
// transport instead of the network, with fast retries.
func newMockClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mock := httpmock.NewMockTransport()
	all := append([]Option{
		WithBaseURL(testBaseURL),
		WithHTTPClient(&http.Client{Transport: mock}),
	}, opts...)
	c, err := NewClient(testKey, all...)
	require.NoError(t, err)
	return c, mock
}

// okEnvelope wraps data in the documented success envelope.
func okEnvelope(data string) string {
	return `{"status":true,"message":"OK","code":200,"data":` + data + `}`
}

// errEnvelope is the documented error envelope.
func errEnvelope(code int, message string) string {
	return `{"status":false,"message":"` + message + `","code":` + strconv.Itoa(code) + `}`
}

// respond returns a responder answering status with body and header pairs.
func respond(status int, body string, headerPairs ...string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, body)
		for i := 0; i+1 < len(headerPairs); i += 2 {
			resp.Header.Set(headerPairs[i], headerPairs[i+1])
		}
		return resp, nil
	}
}

// sequence answers each call with the next responder, repeating the last.
func sequence(responders ...httpmock.Responder) httpmock.Responder {
	var mu sync.Mutex
	n := 0
	return func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		r := responders[min(n, len(responders)-1)]
		n++
		mu.Unlock()
		return r(req)
	}
}

// received records the requests a responder saw, with their bodies.
type received struct {
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

func (rc *received) wrap(next httpmock.Responder) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		var b []byte
		if req.Body != nil {
			b, _ = io.ReadAll(req.Body)
		}
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, req)
		rc.body = append(rc.body, b)
		rc.mu.Unlock()
		return next(req)
	}
}

func (rc *received) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

func (rc *received) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	require.NotEmpty(t, rc.reqs, "no request was sent")
	return rc.reqs[len(rc.reqs)-1], rc.body[len(rc.body)-1]
}

// assertSDKHeaders checks what every request must carry.
func assertSDKHeaders(t *testing.T, req *http.Request) {
	t.Helper()
	assert.Equal(t, testKey, req.Header.Get("x-api-key"))
	assert.Equal(t, "application/json", req.Header.Get("Accept"))
	assert.Regexp(t, `^heliumid-go/`+regexp.QuoteMeta(Version)+` \(go[^;]+; [a-z0-9]+/[a-z0-9]+\)$`, req.Header.Get("User-Agent"))
}
