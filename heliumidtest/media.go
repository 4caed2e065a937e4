package heliumidtest

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// mediaPrefix is where the Server serves the images of its sessions, like
// a storage service beside the API: no key needed, as none is for a
// presigned URL.
const mediaPrefix = "/media/"

// mediaNowhere is the origin of the media URLs of a session no Server
// holds ([WebhookBody]'s): a reserved name (RFC 2606) that never
// resolves, so nothing is fetched from anyone.
const mediaNowhere = "https://heliumidtest.invalid"

// mediaFiles are the images of a submitted session, by file name: a
// selfie and both sides of the specimen passport.
var mediaFiles = [...]string{"selfie.jpg", "doc-front.jpg", "doc-back.jpg"}

// mediaURL is the URL of a session's image, on origin (scheme://host).
func mediaURL(origin, id, file string) string {
	if origin == "" {
		origin = mediaNowhere
	}
	return origin + mediaPrefix + id + "/" + file
}

// requestOrigin is the scheme and host r reached the Server through: a
// session created through it gets its media URLs there, so they work on
// the address the client used ("heliumid fake"'s --addr included). A Host
// that could not stand in a URL falls back to the Server's own listener.
func (s *Server) requestOrigin(r *http.Request) string {
	host := r.Host
	if host == "" || strings.ContainsAny(host, "/?#@\\ \t\r\n") {
		return strings.TrimSuffix(s.URL, apiPrefix)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + host
}

// serveMedia serves GET or HEAD /media/{id}/{file}: the image file of
// session id, once the session holds personal data (from submitted on),
// as image/jpeg. Anything else is a plain-text 404 (405 for another
// method), as a storage service answers: these are not API responses.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rawID, file, ok := strings.Cut(rest, "/")
	id, err := url.PathUnescape(rawID)
	img := fakeImage(file)
	if !ok || err != nil || img == nil || !s.hasMedia(id) {
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(img)))
	h.Set("Cache-Control", "private, no-store") // personal data, if it were real
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodGet {
		_, _ = w.Write(img)
	}
}

// hasMedia reports whether session id exists and holds personal data.
func (s *Server) hasMedia(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick() // expiry first, as every read does
	sess, ok := s.sessions[id]
	return ok && sess.submitted
}

// fakeImage returns the bytes of the image named file, or nil when there
// is no such file.
func fakeImage(file string) []byte {
	imagesOnce.Do(drawImages)
	return images[file]
}

var (
	imagesOnce sync.Once
	images     map[string][]byte
)

// drawImages draws the fake images once: small JPEGs, a face on a grey
// background and the two sides of a card with the diagonal band of a
// specimen. They decode as images (for code that checks or resizes what
// it archives) and are the same for every session.
func drawImages() {
	images = make(map[string][]byte, len(mediaFiles))
	for _, file := range mediaFiles {
		img := image.NewRGBA(image.Rect(0, 0, 96, 64))
		for y := range 64 {
			for x := range 96 {
				img.Set(x, y, pixel(file, x, y))
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
			panic("heliumidtest: encoding a fake image: " + err.Error()) // in-memory: cannot fail
		}
		images[file] = buf.Bytes()
	}
}

// pixel is the colour at (x, y) of the image named file.
func pixel(file string, x, y int) color.Color {
	switch file {
	case "selfie.jpg":
		if dx, dy := x-48, y-32; dx*dx+dy*dy < 22*22 {
			return color.RGBA{224, 172, 105, 255} // the face
		}
		return color.RGBA{190, 190, 190, 255}
	case "doc-front.jpg":
		switch {
		case x > 8 && x < 36 && y > 14 && y < 50:
			return color.RGBA{150, 150, 150, 255} // the photo
		case (x+y)%24 < 4:
			return color.RGBA{200, 40, 40, 255} // the specimen band
		}
		return color.RGBA{200, 220, 240, 255}
	}
	if y > 44 && y < 56 {
		return color.RGBA{30, 30, 30, 255} // the machine-readable zone
	}
	return color.RGBA{200, 220, 240, 255}
}
