package heliumid

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTheKeyIsNotSentToAnotherHost(t *testing.T) {
	other := newFakeAPI()
	_, otherBase := other.serve(t, "HTTP/1.1")
	// 127.0.0.1 and localhost are different hosts to http.Client, so the
	// redirect crosses hosts while staying on loopback.
	otherURL := strings.Replace(strings.TrimSuffix(otherBase, "/api"), "127.0.0.1", "localhost", 1)
	api := newFakeAPI()
	api.otherwise(func(req *http.Request) (*http.Response, error) {
		return respond(http.StatusFound, "", "Location", otherURL+req.URL.Path)(req)
	})
	c, base := api.serve(t, "HTTP/1.1", WithMaxRetries(0))
	_, err := c.GetVerification(context.Background(), "v")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.Contains(t, err.Error(), "refusing to follow a redirect to another host")
	assert.Zero(t, other.count(), "the other host was not contacted at all, with the key or without")
	assert.NotContains(t, err.Error(), testKey)

	// Also through a caller's own http.Client.
	c2, err := NewClient(testKey, WithBaseURL(base), WithHTTPClient(&http.Client{}))
	require.NoError(t, err)
	_, err = c2.GetVerification(context.Background(), "v")
	require.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.Zero(t, other.count())
}

func TestSameHostRedirectsAreFollowedWithTheKey(t *testing.T) {
	api := newFakeAPI()
	api.on(http.MethodGet, testBaseURL+"/v1/verifications/old", respond(http.StatusMovedPermanently, "", "Location", "/api/v1/verifications/new"))
	api.otherwise(respond(200, okEnvelope(`{"id":"new","status":"started"}`)))
	c, _ := api.serve(t, "HTTP/1.1")
	v, err := c.GetVerification(context.Background(), "old")
	require.NoError(t, err)
	assert.Equal(t, "new", v.ID)
	var keys []string
	for _, r := range api.requests() {
		keys = append(keys, r.Header.Get("x-api-key"))
	}
	assert.Equal(t, []string{testKey, testKey}, keys)
}

// TestMemoryStaysBoundedOnAHugeResponse streams 64 MiB at the client: it
// must stop reading at the limit and fail, not buffer the lot.
func TestMemoryStaysBoundedOnAHugeResponse(t *testing.T) {
	const size = 64 << 20
	for _, status := range []int{200, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			api := newFakeAPI()
			api.otherwise(func(req *http.Request) (*http.Response, error) {
				resp, _ := respond(status, "")(req)
				resp.ContentLength = -1 // streamed: the client hangs up at its limit, as it should
				resp.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"status":true,"data":{"id":"`),
					io.LimitReader(repeatedByte('a'), size), strings.NewReader(`"}}`)))
				return resp, nil
			})
			c, _ := api.serve(t, "HTTP/1.1", WithMaxRetries(0))
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.GetVerification(context.Background(), "v")
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			if status == 200 {
				assert.ErrorIs(t, err, ErrUnexpectedResponse)
				assert.Contains(t, err.Error(), "larger than 10 MiB")
			} else {
				assert.ErrorIs(t, err, ErrServer)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, allocated, uint64(40<<20), "reading a 64 MiB body allocated %d MiB", allocated>>20)
		})
	}
}

// TestHundredsOfConcurrentCallers runs under -race in CI: one Client, many
// goroutines, every endpoint, real HTTP.
func TestHundredsOfConcurrentCallers(t *testing.T) {
	var created atomic.Int64
	api := newFakeAPI()
	api.otherwise(func(r *http.Request) (*http.Response, error) {
		switch {
		case r.Method == http.MethodPost:
			n := created.Add(1)
			return respond(200, okEnvelope(fmt.Sprintf(`{"link":"https://verify.heliumid.io/?processId=v%d","verificationId":"v%d"}`, n, n)))(r)
		case r.URL.Path == "/api/v1/verifications":
			return respond(200, okEnvelope(sessions("v", 3)))(r)
		}
		return respond(200, okEnvelope(`{"id":"`+strings.TrimPrefix(r.URL.Path, "/api/v1/verifications/")+`","status":"started"}`))(r)
	})
	c, _ := api.serve(t, "HTTP/1.1")
	const callers = 300
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			var err error
			switch i % 3 {
			case 0:
				var cv *CreatedVerification
				cv, err = c.CreateVerification(ctx, &CreateVerificationRequest{VendorData: fmt.Sprint(i)})
				if err == nil && !strings.HasSuffix(cv.Link, cv.ID) {
					err = fmt.Errorf("link %s does not match id %s", cv.Link, cv.ID)
				}
			case 1:
				var v *Verification
				v, err = c.GetVerification(ctx, fmt.Sprint("v", i))
				if err == nil && v.ID != fmt.Sprint("v", i) {
					err = fmt.Errorf("got %s for v%d", v.ID, i)
				}
			case 2:
				_, err = c.ListVerifications(ctx, &ListVerificationsOptions{Limit: 3})
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, int64(callers/3), created.Load())
	c.hc.CloseIdleConnections()
}

func TestTheRedirectPolicy(t *testing.T) {
	var callerSaw int
	callers := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		callerSaw++
		return http.ErrUseLastResponse
	}}
	c, err := NewClient(testKey, WithBaseURL("https://api.test/api"), WithHTTPClient(callers))
	require.NoError(t, err)
	mustReq := func(rawURL string) *http.Request {
		req, err := http.NewRequest(http.MethodGet, rawURL, nil)
		require.NoError(t, err)
		return req
	}
	first := mustReq("https://api.test/api/v1/verifications/a")

	err = c.hc.CheckRedirect(mustReq("http://api.test/api/v1/verifications/b"), []*http.Request{first})
	assert.ErrorIs(t, err, ErrUnexpectedResponse, "no downgrade from https to http")
	assert.Contains(t, err.Error(), "from https to http")

	err = c.hc.CheckRedirect(mustReq("https://api.test/api/v1/verifications/b"), []*http.Request{first})
	assert.ErrorIs(t, err, http.ErrUseLastResponse, "the caller's policy decides same-host redirects")
	assert.Equal(t, 1, callerSaw)

	err = c.hc.CheckRedirect(mustReq("https://evil.test/steal"), []*http.Request{first})
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.Equal(t, 1, callerSaw, "another host is refused before the caller's policy runs")

	own, err := NewClient(testKey, WithBaseURL("https://api.test/api"))
	require.NoError(t, err)
	via := make([]*http.Request, 10)
	for i := range via {
		via[i] = first
	}
	assert.Error(t, own.hc.CheckRedirect(mustReq("https://api.test/api/x"), via), "a redirect loop ends")
	assert.NoError(t, own.hc.CheckRedirect(mustReq("https://api.test/api/x"), via[:3]))
}

// repeatedByte is an endless stream of one byte.
type repeatedByte byte

func (b repeatedByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
