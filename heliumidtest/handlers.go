package heliumidtest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	heliumid "github.com/heliumid/heliumid-go"

	"github.com/heliumid/heliumid-go/internal/statuswriter"
)

// Request limits. The API documents none; these are what a careful server
// would do, and they catch a client that sends far more than it should.
const (
	maxBody      = 1 << 20 // a larger body is answered 413
	defaultLimit = 20      // list page size without a limit parameter
	maxLimit     = 100     // a larger limit is answered 400
	maxEcho      = 100     // bytes of a path or id quoted back in a message
)

// serveHTTP is the Server's whole HTTP side: log the request, apply an
// injected failure if one is queued, then route.
//
// The hosted verification page is not part of the API: its requests are
// neither logged nor met by injected failures.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if isPageRequest(r) {
		s.page.ServeHTTP(w, r)
		return
	}
	body, tooLarge, readErr := readBody(r)
	entry := s.record(r, body, s.validKey(r.Header.Get("X-Api-Key")))
	sw := &statuswriter.Writer{ResponseWriter: w}
	defer func() { s.finish(entry, sw.Status) }()
	sw.Header().Set("X-Request-Id", entry.ID)

	handle := func(w http.ResponseWriter) {
		if readErr != nil {
			writeError(w, http.StatusBadRequest, "could not read the request body: "+readErr.Error())
			return
		}
		s.route(w, r, body, tooLarge)
	}
	if f, ok := s.nextFailure(); ok {
		s.inject(sw, r, f, handle)
		return
	}
	handle(sw)
}

// readBody reads at most maxBody bytes of r's body; tooLarge reports that
// there was more.
func readBody(r *http.Request) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if len(body) > maxBody {
		return body[:maxBody], true, nil
	}
	return body, false, err
}

// route dispatches to the endpoint; a path outside the API is a 404, a
// method the endpoint does not serve a 405 with Allow.
func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte, tooLarge bool) {
	if file, ok := strings.CutPrefix(r.URL.EscapedPath(), mediaPrefix); ok {
		s.serveMedia(w, r, file) // beside the API, as a storage service is: no key
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), apiPrefix)
	if !ok || (rest != "" && rest[0] != '/') {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s; the API is served under %s: use a base URL ending in %s, such as %s", echo(r.URL.Path), apiPrefix, apiPrefix, echo(baseURL(r))))
		return
	}
	const collection = "/v1/verifications"
	switch {
	case rest == collection:
		switch r.Method {
		case http.MethodGet:
			s.authorized(s.list)(w, r, body, tooLarge)
		case http.MethodPost:
			s.authorized(s.create)(w, r, body, tooLarge)
		default:
			methodNotAllowed(w, r, "GET, POST")
		}
	case strings.HasPrefix(rest, collection+"/"):
		seg := rest[len(collection)+1:]
		id, err := url.PathUnescape(seg)
		if seg == "" || strings.Contains(seg, "/") || err != nil {
			writeError(w, http.StatusNotFound, "no such endpoint: "+echo(r.URL.Path))
			return
		}
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, "GET")
			return
		}
		s.authorized(func(w http.ResponseWriter, r *http.Request, _ []byte, _ bool) { s.get(w, id) })(w, r, body, tooLarge)
	default:
		writeError(w, http.StatusNotFound, "no such endpoint: "+echo(r.URL.Path))
	}
}

type endpoint func(w http.ResponseWriter, r *http.Request, body []byte, tooLarge bool)

// authorized wraps an endpoint with the API key check: 401 for a missing
// or wrong x-api-key.
func (s *Server) authorized(next endpoint) endpoint {
	return func(w http.ResponseWriter, r *http.Request, body []byte, tooLarge bool) {
		key := r.Header.Get("X-Api-Key")
		switch {
		case key == "":
			writeError(w, http.StatusUnauthorized, "missing API key: send it in the x-api-key header")
		case !s.validKey(key):
			writeError(w, http.StatusUnauthorized, "invalid API key")
		default:
			next(w, r, body, tooLarge)
		}
	}
}

// validKey compares in constant time, as a real server must, so a test
// server never models a timing leak as acceptable.
func (s *Server) validKey(key string) bool {
	return subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.apiKey)) == 1
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed here; allowed: %s", echo(r.Method), allow))
}

// baseURL is the API's base URL as r reached the Server, for a message.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + apiPrefix
}

// echo bounds text from the request before it is quoted in a message.
func echo(s string) string {
	if len(s) > maxEcho {
		s = s[:maxEcho] + "…"
	}
	return strconv.Quote(s)
}

// createRequest is a validated POST /v1/verifications body.
type createRequest struct {
	vendorData string
	meta       json.RawMessage
	method     heliumid.Method
}

// create serves POST /v1/verifications.
func (s *Server) create(w http.ResponseWriter, r *http.Request, body []byte, tooLarge bool) {
	if tooLarge {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", maxBody))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type must be application/json, got %s", echo(r.Header.Get("Content-Type"))))
		return
	}
	req, msg := parseCreate(body)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}

	s.mu.Lock()
	now := s.tick()
	if s.creations != nil {
		if wait, ok := s.creations.take(now); !ok {
			limit := s.creations.String()
			s.mu.Unlock()
			secs := retryAfterSeconds(wait)
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf("session creation rate limit exceeded: %s; retry in %d s", limit, secs))
			return
		}
	}
	s.nextID++
	sess := &session{
		id:         newID(s.nextID),
		status:     heliumid.StatusNotStarted,
		method:     req.method,
		vendorData: req.vendorData,
		meta:       req.meta,
		createdAt:  now,
		updatedAt:  now,
		origin:     s.requestOrigin(r),
	}
	s.sessions[sess.id] = sess
	s.order = append(s.order, sess)
	s.mu.Unlock()

	writeEnvelope(w, http.StatusOK, true, "Created verification", struct {
		Link           string `json:"link"`
		VerificationID string `json:"verificationId"`
	}{s.link(sess.id), sess.id})
}

// parseCreate validates a create body; msg says what is wrong, or is "".
// Unknown fields are ignored, as the API may add fields.
func parseCreate(body []byte) (req createRequest, msg string) {
	req.method = heliumid.MethodAuto
	if len(bytes.TrimSpace(body)) == 0 {
		return req, `the request body is empty: send a JSON object such as {"vendorData": "user-42"}`
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return req, "the request body must be a JSON object, got a JSON " + typ.Value
		}
		return req, "the request body is not valid JSON: " + err.Error()
	}
	if fields == nil {
		return req, "the request body must be a JSON object, got null"
	}
	if raw, ok := fields["vendorData"]; ok && !isNull(raw) {
		if json.Unmarshal(raw, &req.vendorData) != nil {
			return req, "vendorData must be a string"
		}
	}
	if raw, ok := fields["meta"]; ok && !isNull(raw) {
		var compact bytes.Buffer
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' || json.Compact(&compact, t) != nil {
			return req, "meta must be a JSON object"
		}
		req.meta = compact.Bytes()
	}
	if raw, ok := fields["method"]; ok && !isNull(raw) {
		var m string
		if json.Unmarshal(raw, &m) != nil {
			return req, `method must be a string, "auto" or "manual"`
		}
		switch heliumid.Method(m) {
		case "", heliumid.MethodAuto:
		case heliumid.MethodManual:
			req.method = heliumid.MethodManual
		default:
			return req, fmt.Sprintf(`method %s is not "auto" or "manual"`, echo(m))
		}
	}
	return req, ""
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// get serves GET /v1/verifications/{id}.
func (s *Server) get(w http.ResponseWriter, id string) {
	data, ok := s.snapshot(id)
	if !ok {
		writeError(w, http.StatusNotFound, "verification "+echo(id)+" not found")
		return
	}
	writeEnvelope(w, http.StatusOK, true, "Verification fetched", data)
}

// listData is the data of GET /v1/verifications: one page of sessions in
// creation order, with the pagination numbers the SDK reads.
type listData struct {
	Verifications []wireSession `json:"verifications"`
	Page          int           `json:"page"`
	Limit         int           `json:"limit"`
	Total         int           `json:"total"`
	TotalPages    int           `json:"totalPages"`
	HasNextPage   bool          `json:"hasNextPage"`
}

// list serves GET /v1/verifications?page=&limit=&status=&vendorData=.
// Unknown parameters are ignored.
func (s *Server) list(w http.ResponseWriter, r *http.Request, _ []byte, _ bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed query string: "+err.Error())
		return
	}
	page, msg := intParam(q, "page", 1, 1, 0)
	if msg == "" {
		var limit int
		limit, msg = intParam(q, "limit", defaultLimit, 1, maxLimit)
		if msg == "" {
			s.listPage(w, q, page, limit)
			return
		}
	}
	writeError(w, http.StatusBadRequest, msg)
}

func (s *Server) listPage(w http.ResponseWriter, q url.Values, page, limit int) {
	var status heliumid.Status
	if raw := q.Get("status"); raw != "" {
		status = heliumid.ParseStatus(raw)
		if !status.IsKnown() {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("status %s is not a verification status", echo(raw)))
			return
		}
	}
	vendorData := q.Get("vendorData")

	data := listData{Verifications: []wireSession{}, Page: page, Limit: limit}
	first := math.MaxInt // a page so far out that (page-1)*limit overflows is empty
	if page-1 <= math.MaxInt/limit {
		first = (page - 1) * limit
	}
	s.mu.Lock()
	s.tick()
	for _, sess := range s.order {
		if (status != "" && sess.status != status) || (vendorData != "" && sess.vendorData != vendorData) {
			continue
		}
		if data.Total >= first && len(data.Verifications) < limit {
			data.Verifications = append(data.Verifications, sess.wire())
		}
		data.Total++
	}
	s.mu.Unlock()
	data.TotalPages = (data.Total + limit - 1) / limit
	data.HasNextPage = page < data.TotalPages
	writeEnvelope(w, http.StatusOK, true, "Verifications fetched", data)
}

// intParam reads an integer query parameter within [lo, hi] (hi 0: no
// upper bound), def when absent or empty; msg explains a bad value.
func intParam(q url.Values, name string, def, lo, hi int) (n int, msg string) {
	raw := q.Get(name)
	if raw == "" {
		return def, ""
	}
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		return 0, fmt.Sprintf("%s must be an integer, got %s", name, echo(raw))
	case n < lo:
		return 0, fmt.Sprintf("%s must be at least %d, got %d", name, lo, n)
	case hi > 0 && n > hi:
		return 0, fmt.Sprintf("%s must be at most %d, got %d", name, hi, n)
	}
	return n, ""
}
