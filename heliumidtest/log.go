package heliumidtest

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Request is one HTTP request the Server received, as [Server.Requests]
// reports it. It never holds the API key: KeyValid says whether the right
// one came.
type Request struct {
	ID       string      // the X-Request-Id the Server answered with, such as "req_1"
	Received time.Time   // wall-clock arrival time (to check a client's backoff)
	Method   string      // HTTP method
	Path     string      // path as received, with the "/api" prefix of URL
	Query    url.Values  // the parsed query string (what parses of a malformed one)
	Header   http.Header // request headers, without x-api-key
	Body     []byte      // the body, at most its first 1 MiB
	KeyValid bool        // the x-api-key header held the Server's key
	Status   int         // HTTP status answered; 0 while in progress, or when the connection was dropped or abandoned
}

// Requests returns a copy of every request the Server has received so far,
// in arrival order, including rejected ones (401, 404, …) and those met by
// an injected failure. Use it to assert on what your code sent: headers,
// bodies, how many retries.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.log))
	for i, r := range s.log {
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
	query, _ := url.ParseQuery(r.URL.RawQuery)
	if query == nil {
		query = url.Values{}
	}
	header := r.Header.Clone()
	header.Del("X-Api-Key")
	entry := &Request{
		Received: time.Now(),
		Method:   r.Method,
		Path:     r.URL.Path,
		Query:    query,
		Header:   header,
		Body:     bytes.Clone(body),
		KeyValid: keyValid,
	}
	s.mu.Lock()
	s.nextReq++
	entry.ID = "req_" + strconv.Itoa(s.nextReq)
	s.log = append(s.log, entry)
	s.mu.Unlock()
	return entry
}

// finish records the status a request was answered with.
func (s *Server) finish(entry *Request, status int) {
	s.mu.Lock()
	entry.Status = status
	s.mu.Unlock()
}
