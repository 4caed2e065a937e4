package heliumidtest

import (
	"bytes"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Bounds of the request log: it keeps the most recent requests only, each
// cut to a few KiB, so a client (or a loop of curl) sending many large
// requests cannot grow the Server's memory. A few hundred KiB of headers
// and bodies per hundred requests at most.
const (
	// MaxLoggedRequests is how many requests [Server.Requests] keeps: the
	// most recent ones.
	MaxLoggedRequests = 1000
	// MaxLoggedBody is how much of each request's body the log keeps.
	MaxLoggedBody = 4 << 10
	maxLoggedHead = 8 << 10 // bytes of header names and values kept per request
	maxLoggedURL  = 4 << 10 // bytes of the path, and of the query string, kept per request
)

// Request is one HTTP request the Server received, as [Server.Requests]
// reports it. It never holds the API key: KeyValid says whether the right
// one came.
type Request struct {
	ID       string      // the X-Request-Id the Server answered with, such as "req_1"
	Received time.Time   // wall-clock arrival time (to check a client's backoff)
	Method   string      // HTTP method
	Path     string      // path as received, with the "/api" prefix of URL (its first 4 KiB)
	Query    url.Values  // the parsed query string (what parses of its first 4 KiB)
	Header   http.Header // request headers, without x-api-key: in name order, those that fit in 8 KiB
	Body     []byte      // the body's first MaxLoggedBody (4 KiB) bytes
	BodySize int         // the body's length as received; more than len(Body) when it was cut (a body over 1 MiB is read to 1 MiB + 1)
	KeyValid bool        // the x-api-key header held the Server's key
	Status   int         // HTTP status answered; 0 while in progress, or when the connection was dropped or abandoned
}

// requestLog is a ring of the most recent requests.
type requestLog struct {
	entries []*Request // at most MaxLoggedRequests
	next    int        // where the next entry goes once entries is full
}

func (l *requestLog) add(r *Request) {
	if len(l.entries) < MaxLoggedRequests {
		l.entries = append(l.entries, r)
		return
	}
	l.entries[l.next] = r
	l.next = (l.next + 1) % MaxLoggedRequests
}

// inOrder returns the entries, oldest first.
func (l *requestLog) inOrder() []*Request {
	return append(slices.Clone(l.entries[l.next:]), l.entries[:l.next]...)
}

// Requests returns a copy of the most recent requests the Server received,
// at most [MaxLoggedRequests] (1000) of them, in arrival order, including
// rejected ones (401, 404, …) and those met by an injected failure. Use it to
// assert on what your code sent: headers, bodies, how many retries. Each is
// cut to a few KiB (see [Request]); the IDs keep counting, so a gap between
// the first ID and "req_1" tells how many were dropped.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries := s.log.inOrder()
	out := make([]Request, len(entries))
	for i, r := range entries {
		out[i] = r.clone()
	}
	return out
}

func (r *Request) clone() Request {
	c := *r
	c.Query = cloneValues(r.Query)
	c.Header = r.Header.Clone()
	c.Body = bytes.Clone(r.Body)
	return c
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// record logs an arriving request and returns its entry, whose Status is
// filled in by finish.
func (s *Server) record(r *http.Request, body []byte, keyValid bool) *Request {
	query, _ := url.ParseQuery(cut(r.URL.RawQuery, maxLoggedURL))
	if query == nil {
		query = url.Values{}
	}
	entry := &Request{
		Received: time.Now(),
		Method:   cut(r.Method, maxEcho),
		Path:     cut(r.URL.Path, maxLoggedURL),
		Query:    query,
		Header:   boundedHeader(r.Header, maxLoggedHead),
		Body:     bytes.Clone(body[:min(len(body), MaxLoggedBody)]),
		BodySize: len(body),
		KeyValid: keyValid,
	}
	s.mu.Lock()
	s.nextReq++
	entry.ID = "req_" + strconv.Itoa(s.nextReq)
	s.log.add(entry)
	s.mu.Unlock()
	return entry
}

// boundedHeader copies h without x-api-key, in name order, keeping each
// whole value that still fits in limit bytes (names included).
func boundedHeader(h http.Header, limit int) http.Header {
	out := make(http.Header, len(h))
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if http.CanonicalHeaderKey(name) == "X-Api-Key" {
			continue
		}
		for _, v := range h[name] {
			if len(name)+len(v) > limit {
				continue // too large for what is left; smaller ones may fit
			}
			limit -= len(name) + len(v)
			out[name] = append(out[name], v)
		}
	}
	return out
}

// cut returns s's first n bytes.
func cut(s string, n int) string { return s[:min(len(s), n)] }

// finish records the status a request was answered with.
func (s *Server) finish(entry *Request, status int) {
	s.mu.Lock()
	entry.Status = status
	s.mu.Unlock()
}
