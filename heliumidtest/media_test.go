package heliumidtest

import (
	"bytes"
	"context"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// submitted creates a session through client and walks it to submitted,
// when it gets its personal data and images.
func submitted(t *testing.T, srv *Server, client *heliumid.Client) *heliumid.Verification {
	t.Helper()
	ctx := context.Background()
	s, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)
	walk(t, srv, s.ID, heliumid.StatusStarted, heliumid.StatusSubmitted)
	v, err := client.GetVerification(ctx, s.ID)
	require.NoError(t, err)
	return v
}

// mediaURLs are a session's three image URLs.
func mediaURLs(v *heliumid.Verification) []string {
	return []string{v.Selfie.URL, v.Document.URL.Front, v.Document.URL.Back}
}

func TestMediaIsServedWithoutAKey(t *testing.T) {
	srv := newTestServer(t)
	v := submitted(t, srv, srv.Client())
	origin := strings.TrimSuffix(srv.URL, "/api")
	assert.Equal(t, origin+"/media/"+v.ID+"/selfie.jpg", v.Selfie.URL, "on the Server's own address")

	for _, u := range mediaURLs(v) {
		resp, err := http.Get(u) // no key, as a presigned URL needs none
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, u)
		assert.Equal(t, "image/jpeg", resp.Header.Get("Content-Type"))
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(body))
		require.NoError(t, err, "a real image")
		assert.Equal(t, 96, cfg.Width)
		assert.Equal(t, 64, cfg.Height)
	}
	assert.NotEqual(t, fakeImage("selfie.jpg"), fakeImage("doc-front.jpg"), "each image its own")

	log := srv.Requests()
	last := log[len(log)-1]
	assert.Equal(t, "/media/"+v.ID+"/doc-back.jpg", last.Path, "media requests are in the request log")
	assert.False(t, last.KeyValid)
	assert.Equal(t, http.StatusOK, last.Status)
}

func TestMediaAnswersWhatAStorageServiceWould(t *testing.T) {
	srv := newTestServer(t)
	client := srv.Client()
	v := submitted(t, srv, client)
	fresh, err := client.CreateVerification(context.Background(), &heliumid.CreateVerificationRequest{})
	require.NoError(t, err)
	origin := strings.TrimSuffix(srv.URL, "/api")

	for path, want := range map[string]int{
		"/media/" + v.ID + "/selfie.jpg":     http.StatusOK,
		"/media/" + fresh.ID + "/selfie.jpg": http.StatusNotFound, // nothing submitted yet
		"/media/unknown/selfie.jpg":          http.StatusNotFound,
		"/media/" + v.ID + "/passport.jpg":   http.StatusNotFound,
		"/media/" + v.ID:                     http.StatusNotFound,
		"/media/" + v.ID + "/selfie.jpg/x":   http.StatusNotFound,
	} {
		resp, err := http.Get(origin + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, path)
	}

	resp, err := http.Head(v.Selfie.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.EqualValues(t, len(fakeImage("selfie.jpg")), resp.ContentLength)

	resp, err = http.Post(v.Selfie.URL, "image/jpeg", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	srv.Reset()
	resp, err = http.Get(v.Selfie.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "gone with its session")
}

// TestDownloadMediaEndToEnd: the SDK's DownloadMedia fetches every image
// of a session from the fake, sends it no key and no header of its own,
// and retries a 503 as a GET's is.
func TestDownloadMediaEndToEnd(t *testing.T) {
	srv := newTestServer(t)
	client := srv.Client(heliumid.WithHeader("X-Tenant", "acme"))
	v := submitted(t, srv, client)
	ctx := context.Background()

	for _, u := range mediaURLs(v) {
		var buf bytes.Buffer
		n, err := client.DownloadMedia(ctx, u, &buf)
		require.NoError(t, err)
		assert.Equal(t, int64(buf.Len()), n)
		file := u[strings.LastIndex(u, "/")+1:]
		assert.Equal(t, fakeImage(file), buf.Bytes(), file)
	}

	require.NoError(t, srv.FailNext(1, Failure{Status: http.StatusServiceUnavailable}))
	var buf bytes.Buffer
	_, err := client.DownloadMedia(ctx, v.Selfie.URL, &buf)
	require.NoError(t, err)
	assert.Equal(t, fakeImage("selfie.jpg"), buf.Bytes())

	var media []Request
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/media/") {
			media = append(media, r)
		}
	}
	require.Len(t, media, 5, "three files, then a 503 and its retry")
	assert.Equal(t, http.StatusServiceUnavailable, media[3].Status)
	for _, r := range media {
		assert.False(t, r.KeyValid, "no API key goes with a media request")
		assert.Empty(t, r.Header.Get("X-Tenant"), "nor a header of WithHeader")
		assert.Empty(t, r.Header.Get("User-Agent"), "nor the SDK's User-Agent")
	}
}

// TestMediaURLsFollowTheAddressUsed: served from a listener of one's own
// (as "heliumid fake" serves Handler on --addr), a session's media URLs
// point at that listener, and work there.
func TestMediaURLsFollowTheAddressUsed(t *testing.T) {
	srv := newTestServer(t)
	own := httptest.NewServer(srv.Handler())
	defer own.Close()
	client, err := heliumid.NewClient(srv.APIKey(), heliumid.WithBaseURL(own.URL+"/api"), heliumid.WithHTTPClient(own.Client()))
	require.NoError(t, err)
	defer client.CloseIdleConnections()

	v := submitted(t, srv, client)
	assert.True(t, strings.HasPrefix(v.Selfie.URL, own.URL+"/media/"), v.Selfie.URL)
	n, err := client.DownloadMedia(context.Background(), v.Document.URL.Front, io.Discard)
	require.NoError(t, err)
	assert.EqualValues(t, len(fakeImage("doc-front.jpg")), n)

	got, ok := srv.Verification(v.ID)
	require.True(t, ok)
	assert.Equal(t, v.Selfie.URL, got.Selfie.URL, "the session keeps the address it was created through")
}
