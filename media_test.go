package heliumid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A presigned URL's path and query are credentials: they must never show
// in an error or a log record.
const (
	secretPath  = "/bucket/selfies/ver_123-SECRETPATH.png"
	secretQuery = "X-Amz-Credential=AKIASECRETCRED&X-Amz-Signature=SECRETSIG"
)

// mediaHost is a test server standing for a storage service: it records
// what each request carried and answers with handle.
type mediaHost struct {
	*httptest.Server
	mu       sync.Mutex
	received []*http.Request
	handle   http.HandlerFunc
}

// newMediaHost starts a media host over HTTP/1.1 (h2 false) or TLS with
// HTTP/2.
func newMediaHost(t *testing.T, h2 bool, handle http.HandlerFunc) *mediaHost {
	t.Helper()
	m := &mediaHost{handle: handle}
	m.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.received = append(m.received, r.Clone(context.Background()))
		m.mu.Unlock()
		m.handle(w, r)
	}))
	if h2 {
		m.EnableHTTP2 = true
		m.StartTLS()
	} else {
		m.Start()
	}
	t.Cleanup(m.Close)
	return m
}

func (m *mediaHost) requests() []*http.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*http.Request(nil), m.received...)
}

// fileURL is a presigned-looking URL of a file on m.
func (m *mediaHost) fileURL() string { return m.URL + secretPath + "?" + secretQuery }

// mediaClient returns a client whose API is api (another server) and
// whose http.Client trusts the test servers' certificate, with fast
// retries and a header of its own that must not reach a media host.
func mediaClient(t *testing.T, via *httptest.Server, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(testKey, append([]Option{
		WithBaseURL("https://api.test/api"),
		WithHTTPClient(via.Client()),
		WithHeader("X-Gateway-Token", "gw-secret"),
		WithUserAgent("acme/1.0"),
		WithRetryBackoff(time.Millisecond, 2*time.Millisecond),
	}, opts...)...)
	require.NoError(t, err)
	return c
}

// overTransports runs f over HTTP/1.1 and over TLS with HTTP/2.
func overTransports(t *testing.T, f func(t *testing.T, h2 bool)) {
	for _, h2 := range []bool{false, true} {
		name := "http1"
		if h2 {
			name = "h2"
		}
		t.Run(name, func(t *testing.T) { f(t, h2) })
	}
}

// assertNothingOfTheSDK checks that a request to a media host carried no
// credential and nothing that identifies the caller.
func assertNothingOfTheSDK(t *testing.T, r *http.Request) {
	t.Helper()
	assert.Empty(t, r.Header.Get("X-Api-Key"), "the API key")
	assert.Empty(t, r.Header.Get("X-Gateway-Token"), "a WithHeader header")
	assert.Empty(t, r.Header.Get("User-Agent"), "a User-Agent")
	assert.Empty(t, r.Header.Get("Authorization"))
}

func TestDownloadMediaCopiesTheFile(t *testing.T) {
	overTransports(t, func(t *testing.T, h2 bool) {
		file := bytes.Repeat([]byte("PNG\x00"), 50_000)
		m := newMediaHost(t, h2, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			w.Write(file)
		})
		c := mediaClient(t, m.Server)
		var buf bytes.Buffer
		n, err := c.DownloadMedia(context.Background(), m.fileURL(), &buf)
		require.NoError(t, err)
		assert.Equal(t, int64(len(file)), n)
		assert.Equal(t, file, buf.Bytes())

		reqs := m.requests()
		require.Len(t, reqs, 1)
		assert.Equal(t, http.MethodGet, reqs[0].Method)
		assert.Equal(t, secretPath, reqs[0].URL.Path)
		assert.Equal(t, secretQuery, reqs[0].URL.RawQuery, "the URL is sent as given")
		assert.Equal(t, h2, reqs[0].ProtoMajor == 2)
		assertNothingOfTheSDK(t, reqs[0])
	})
}

// TestDownloadMediaSendsNoKeyToTheAPIHost: a media URL on the base URL's
// own host gets no key either: DownloadMedia sends it nowhere.
func TestDownloadMediaSendsNoKeyToTheAPIHost(t *testing.T) {
	m := newMediaHost(t, true, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "img") })
	c := mediaClient(t, m.Server, WithBaseURL(m.URL+"/api"))
	_, err := c.DownloadMedia(context.Background(), m.URL+"/api/media/x.png", io.Discard)
	require.NoError(t, err)
	assertNothingOfTheSDK(t, m.requests()[0])
}

// TestDownloadMediaSizeLimit: a file of exactly 20 MiB is copied;
// one byte more is an error, with nothing written when the response says
// its length and nothing past the limit when it does not.
func TestDownloadMediaSizeLimit(t *testing.T) {
	const limit = 20 << 20 // as DownloadMedia documents it
	overTransports(t, func(t *testing.T, h2 bool) {
		m := newMediaHost(t, h2, func(w http.ResponseWriter, r *http.Request) {
			size, _ := strconv.Atoi(r.URL.Query().Get("size"))
			if r.URL.Query().Get("length") == "declared" {
				w.Header().Set("Content-Length", strconv.Itoa(size))
			}
			chunk := make([]byte, 64<<10)
			for left := size; left > 0; left -= len(chunk) {
				if _, err := w.Write(chunk[:min(left, len(chunk))]); err != nil {
					return
				}
			}
		})
		c := mediaClient(t, m.Server)
		for _, length := range []string{"declared", "streamed"} {
			var got countingWriter
			got.w = io.Discard
			n, err := c.DownloadMedia(context.Background(), fmt.Sprintf("%s/f?size=%d&length=%s", m.URL, limit, length), &got)
			require.NoError(t, err, length)
			assert.Equal(t, int64(limit), n, length)
			assert.Equal(t, int64(limit), got.n, length)

			got = countingWriter{w: io.Discard}
			n, err = c.DownloadMedia(context.Background(), fmt.Sprintf("%s/f?size=%d&length=%s", m.URL, limit+1, length), &got)
			require.ErrorIs(t, err, ErrUnexpectedResponse, length)
			assert.Contains(t, err.Error(), "20 MiB", length)
			assert.False(t, IsTransient(err), "a file too large stays too large")
			if length == "declared" {
				assert.Zero(t, n, "nothing written when the length says it is too large")
			} else {
				assert.Equal(t, int64(limit), n, "nothing past the limit")
			}
			assert.Equal(t, n, got.n)
		}
		assert.Len(t, m.requests(), 4, "a file too large is not retried")
	})
}

func TestDownloadMediaRedirects(t *testing.T) {
	overTransports(t, func(t *testing.T, h2 bool) {
		file := []byte("the document's front")
		storage := newMediaHost(t, h2, func(w http.ResponseWriter, r *http.Request) { w.Write(file) })
		plain := newMediaHost(t, false, func(w http.ResponseWriter, r *http.Request) { w.Write(file) })
		var redirector *mediaHost
		redirector = newMediaHost(t, h2, func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/other-host":
				http.Redirect(w, r, storage.fileURL(), http.StatusFound)
			case "/relative":
				http.Redirect(w, r, "/other-host", http.StatusTemporaryRedirect)
			case "/to-plain-http":
				http.Redirect(w, r, plain.fileURL(), http.StatusFound)
			case "/to-internet-http":
				http.Redirect(w, r, "http://example.com/x", http.StatusFound)
			case "/loop":
				http.Redirect(w, r, redirector.URL+"/loop", http.StatusFound)
			case "/no-location":
				w.WriteHeader(http.StatusFound)
			}
		})
		c := mediaClient(t, redirector.Server)

		for _, path := range []string{"/other-host", "/relative"} {
			var buf bytes.Buffer
			_, err := c.DownloadMedia(context.Background(), redirector.URL+path, &buf)
			require.NoError(t, err, path)
			assert.Equal(t, file, buf.Bytes(), path)
		}
		for _, r := range append(storage.requests(), redirector.requests()...) {
			assertNothingOfTheSDK(t, r)
		}

		refused := map[string]string{"/to-internet-http": "redirect to http://example.com/…: plain http"}
		if h2 {
			refused = map[string]string{"/to-internet-http": "from https to http://example.com/…", "/to-plain-http": "from https to http://127.0.0.1"}
		}
		for path, why := range refused {
			n, err := c.DownloadMedia(context.Background(), redirector.URL+path, io.Discard)
			require.ErrorIs(t, err, ErrUnexpectedResponse, path)
			assert.Contains(t, err.Error(), why, path)
			assert.Zero(t, n)
		}
		if h2 {
			assert.Empty(t, plain.requests(), "an https URL never leads to plain http")
		}
		before := len(redirector.requests())
		_, err := c.DownloadMedia(context.Background(), redirector.URL+"/loop", io.Discard)
		require.ErrorIs(t, err, ErrUnexpectedResponse)
		assert.Contains(t, err.Error(), "stopped after 10 redirects")
		assert.Len(t, redirector.requests(), before+11, "the first request and 10 redirects, not retried")

		_, err = c.DownloadMedia(context.Background(), redirector.URL+"/no-location", io.Discard)
		require.ErrorIs(t, err, ErrUnexpectedResponse)
	})
}

func TestDownloadMediaRefusesURLsBeforeAnyIO(t *testing.T) {
	c, api := newFakeClient(t)
	for name, raw := range map[string]string{
		"empty":               "",
		"plain http":          "http://cdn.heliumid.io" + secretPath + "?" + secretQuery,
		"another scheme":      "ftp://cdn.heliumid.io" + secretPath,
		"javascript":          "javascript:alert(1)",
		"relative":            secretPath + "?" + secretQuery,
		"no host":             "https://" + secretPath,
		"user info":           "https://user:SECRETPASS@cdn.heliumid.io" + secretPath,
		"does not parse":      "https://cdn.heliumid.io/%zz" + secretPath + "?" + secretQuery,
		"control characters":  "https://cdn.heliumid.io/a\nb?" + secretQuery,
		"plain http, IPv6":    "http://[2001:db8::1]/x",
		"plain http, a name":  "http://localhost.example.com/x",
		"plain http, 0.0.0.0": "http://0.0.0.0/x",
	} {
		n, err := c.DownloadMedia(context.Background(), raw, io.Discard)
		require.ErrorIs(t, err, ErrInvalidRequest, name)
		assert.Zero(t, n)
		for _, secret := range []string{"SECRETPATH", "SECRETSIG", "SECRETCRED", "SECRETPASS"} {
			assert.NotContains(t, err.Error(), secret, name)
		}
	}
	_, err := c.DownloadMedia(context.Background(), "https://cdn.heliumid.io/x", nil)
	require.ErrorIs(t, err, ErrInvalidRequest)
	//lint:ignore SA1012 a nil context is exactly what is being tested
	_, err = c.DownloadMedia(nil, "https://cdn.heliumid.io/x", io.Discard) //nolint:staticcheck
	require.ErrorIs(t, err, ErrInvalidRequest)
	_, err = c.DownloadMedia(context.Background(), "https://cdn.heliumid.io/x", io.Discard, WithMaxRetries(-1))
	require.ErrorIs(t, err, ErrInvalidOption)
	assert.Zero(t, api.count())
}

func TestDownloadMediaRetriesAsAGetDoes(t *testing.T) {
	overTransports(t, func(t *testing.T, h2 bool) {
		var mu sync.Mutex
		answers := []int{503, 502, 200, 404, 429}
		m := newMediaHost(t, h2, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			status := answers[0]
			answers = answers[1:]
			mu.Unlock()
			if status == 429 {
				w.Header().Set("Retry-After", "3600")
			}
			w.WriteHeader(status)
			io.WriteString(w, "<Error><Code>AccessDenied</Code><StringToSign>GET "+secretPath+"?"+secretQuery+"</StringToSign></Error>")
		})
		c := mediaClient(t, m.Server)
		var info ResponseInfo
		n, err := c.DownloadMedia(context.Background(), m.fileURL(), io.Discard, WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, int64(len("<Error><Code>AccessDenied</Code><StringToSign>GET "+secretPath+"?"+secretQuery+"</StringToSign></Error>")), n)
		assert.Equal(t, 3, info.Attempts, "two 5xx retried, as a GET's are")
		assert.Equal(t, http.StatusOK, info.StatusCode)

		_, err = c.DownloadMedia(context.Background(), m.fileURL(), io.Discard)
		require.ErrorIs(t, err, ErrNotFound)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
		assert.Nil(t, apiErr.Body, "a storage service's error body may quote the URL")
		assert.Contains(t, err.Error(), "fetch the session again")
		assert.NotContains(t, err.Error(), "check the verification id", "the API's hint does not fit a media host")

		_, err = c.DownloadMedia(context.Background(), m.fileURL(), io.Discard)
		require.ErrorIs(t, err, ErrRateLimited)
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, time.Hour, apiErr.RetryAfter, "a Retry-After over the cap fails at once")
		assert.Len(t, m.requests(), 5)
		for _, r := range m.requests() {
			assertNothingOfTheSDK(t, r)
		}
	})
}

// cutAfter answers 200 with the length of a whole file but sends only the
// first n bytes of it, then breaks the connection.
func cutAfter(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Length", "1000")
	w.WriteHeader(http.StatusOK)
	w.Write(bytes.Repeat([]byte("x"), n))
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func TestDownloadMediaRetriesOnlyBeforeAnyByteWasWritten(t *testing.T) {
	overTransports(t, func(t *testing.T, h2 bool) {
		var mu sync.Mutex
		calls := 0
		m := newMediaHost(t, h2, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			call := calls
			mu.Unlock()
			switch {
			case r.URL.Path == "/fails-at-once" && call == 1:
				cutAfter(w, 0)
			case r.URL.Path == "/fails-at-once":
				w.Write(bytes.Repeat([]byte("x"), 1000))
			default:
				cutAfter(w, 400)
			}
		})
		c := mediaClient(t, m.Server)

		var buf bytes.Buffer
		n, err := c.DownloadMedia(context.Background(), m.URL+"/fails-at-once", &buf)
		require.NoError(t, err, "nothing was written yet: retried")
		assert.Equal(t, int64(1000), n)
		assert.Equal(t, 1000, buf.Len())

		buf.Reset()
		n, err = c.DownloadMedia(context.Background(), m.URL+"/cut-midway", &buf)
		require.Error(t, err)
		assert.Equal(t, int64(400), n, "what was written is counted")
		assert.Equal(t, 400, buf.Len())
		assert.Contains(t, err.Error(), "400 bytes were already written, so it was not retried")
		assert.Equal(t, 3, calls, "the file cut midway was asked for once")
	})
}

func TestDownloadMediaStopsWhenTheContextEnds(t *testing.T) {
	overTransports(t, func(t *testing.T, h2 bool) {
		m := newMediaHost(t, h2, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("part"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		c := mediaClient(t, m.Server)
		ctx, cancel := context.WithCancel(context.Background())
		w := writerFunc(func(p []byte) (int, error) {
			cancel() // the first bytes arrived: the caller gives up
			return len(p), nil
		})
		n, err := c.DownloadMedia(ctx, m.fileURL(), w)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, int64(4), n)
		assert.Len(t, m.requests(), 1)

		_, err = c.DownloadMedia(ctx, m.fileURL(), io.Discard)
		require.ErrorIs(t, err, context.Canceled, "an ended context")
		assert.Len(t, m.requests(), 1, "sends nothing")
	})
}

// TestDownloadMediaRequestTimeout: an attempt that outlasts
// WithRequestTimeout is retried, as a GET's is.
func TestDownloadMediaRequestTimeout(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	m := newMediaHost(t, true, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			<-r.Context().Done()
			return
		}
		io.WriteString(w, "img")
	})
	c := mediaClient(t, m.Server)
	n, err := c.DownloadMedia(context.Background(), m.fileURL(), io.Discard, WithRequestTimeout(5*time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
	assert.Equal(t, 2, calls)
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestDownloadMediaReportsAFailingWriter(t *testing.T) {
	m := newMediaHost(t, false, func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 100)) })
	c := mediaClient(t, m.Server)
	diskFull := errors.New("no space left on device")
	_, err := c.DownloadMedia(context.Background(), m.fileURL(), writerFunc(func([]byte) (int, error) { return 0, diskFull }))
	require.ErrorIs(t, err, diskFull)
	assert.Contains(t, err.Error(), "writing the file to w")
	assert.Len(t, m.requests(), 1, "a failing writer is not retried")
}

// TestDownloadMediaNeverShowsThePathOrQuery: whatever fails, the error's
// text and every log record name the host and leave the path and query
// out.
func TestDownloadMediaNeverShowsThePathOrQuery(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := newMediaHost(t, true, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "403":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "<Error><Code>AccessDenied</Code><Key>"+secretPath+"</Key></Error>")
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "redirect":
			http.Redirect(w, r, "http://127.0.0.1:1"+secretPath+"?"+secretQuery, http.StatusFound)
		case "cut":
			cutAfter(w, 10)
		case "garbled":
			w.Header().Set("Location", "http://[bad host/elsewhere-SECRETLOC?"+secretQuery)
			w.WriteHeader(http.StatusFound)
		}
	})
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	c := mediaClient(t, m.Server, WithLogger(logger))

	urls := []string{closedURL + secretPath + "?" + secretQuery}
	for _, tc := range []string{"403", "503", "redirect", "cut", "garbled"} {
		urls = append(urls, m.URL+secretPath+"?case="+tc+"&"+secretQuery)
	}
	for _, u := range urls {
		_, err := c.DownloadMedia(context.Background(), u, io.Discard)
		require.Error(t, err, u)
		host := strings.TrimPrefix(strings.TrimPrefix(u[:strings.Index(u, secretPath)], "https://"), "http://")
		assert.Contains(t, err.Error(), host, "the error names the host")
		for _, secret := range []string{"SECRETPATH", "SECRETSIG", "SECRETCRED", "SECRETLOC", "selfies", "case="} {
			assert.NotContains(t, err.Error(), secret, u)
		}
	}
	// A transport of the caller's that quotes the request's URL in its
	// error (as some proxies' do) is scrubbed too.
	quoting := mediaClient(t, m.Server, WithLogger(logger), WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("proxy refused %s (path %s, query %s)", r.URL, r.URL.Path, r.URL.RawQuery)
	})}))
	_, err := quoting.DownloadMedia(context.Background(), "https://cdn.heliumid.io"+secretPath+"?"+secretQuery, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "proxy refused https://cdn.heliumid.io/…")
	for _, secret := range []string{"SECRETPATH", "SECRETSIG", "SECRETCRED", "selfies"} {
		assert.NotContains(t, err.Error(), secret)
	}

	require.NotEmpty(t, logs.String())
	assert.Contains(t, logs.String(), `"host":"https://127.0.0.1:`)
	for _, secret := range []string{"SECRETPATH", "SECRETSIG", "SECRETCRED", "SECRETLOC", "selfies", "case=", testKey} {
		assert.NotContains(t, logs.String(), secret)
	}
}

// FuzzMediaURL: any URL a response may carry is checked without a panic,
// and a refusal never quotes its query or path.
func FuzzMediaURL(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := parseMediaURL(raw)
		if err == nil {
			if refusedMediaURL(u) != "" || (u.Scheme != "https" && !isLoopback(u.Hostname())) {
				t.Fatalf("%q accepted", raw)
			}
			return
		}
		if !errors.Is(err, ErrInvalidRequest) {
			t.Fatalf("%q: %v does not match ErrInvalidRequest", raw, err)
		}
		parsed, perr := url.Parse(raw)
		if perr != nil {
			if len(raw) > 8 && strings.Contains(err.Error(), raw) {
				t.Fatalf("the error quotes the URL %q: %v", raw, err)
			}
			return
		}
		o := origin(parsed)
		for _, part := range []string{parsed.RawQuery, parsed.Path} {
			if len(part) > 3 && !strings.Contains(o, part) && strings.Contains(err.Error(), part) {
				t.Fatalf("the error quotes %q of %q: %v", part, raw, err)
			}
		}
	})
}
