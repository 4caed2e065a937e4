package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
)

// maxAdminBody bounds an admin request's body: they are a few bytes.
const maxAdminBody = 64 << 10

// routeAdmin mounts the admin endpoints. They are not under /api, so the
// API's paths stay exactly the real ones, and they need no key: the fake is
// a local test tool.
func (f *fakeFront) routeAdmin() {
	f.mux.HandleFunc("GET /admin/{$}", f.adminIndex)
	f.mux.HandleFunc("GET /admin", f.adminIndex)
	f.mux.HandleFunc("POST /admin/sessions/{id}/status", f.adminSetStatus)
	f.mux.HandleFunc("POST /admin/advance", f.adminAdvance)
	f.mux.HandleFunc("POST /admin/fail", f.adminFail)
	f.mux.HandleFunc("GET /admin/requests", f.adminRequests)
	f.mux.HandleFunc("GET /admin/webhooks", f.adminWebhooks)
	f.mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, fmt.Sprintf("no admin endpoint %s %s; GET /admin/ lists them", r.Method, r.URL.Path))
	})
}

func (f *fakeFront) adminIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, `heliumid fake: admin endpoints (the API is under /api)

POST /admin/sessions/{id}/status  {"status": "started"}   move a session one lifecycle step
POST /admin/advance               {"duration": "168h"}    move the fake's clock (7 days expire sessions)
POST /admin/fail                  {"status": 503, "count": 1, "retryAfter": "1s", "message": "", "body": "",
                                   "delay": "0s", "drop": false, "handled": false}   fail the next API requests
GET  /admin/requests              the API requests received
GET  /admin/webhooks              the webhooks sent
`)
}

// adminSetStatus serves POST /admin/sessions/{id}/status: Server.SetStatus.
// It answers the session as the API now serves it.
func (f *fakeFront) adminSetStatus(w http.ResponseWriter, r *http.Request) {
	in, ok := readAdminInput(w, r)
	if !ok {
		return
	}
	raw := in["status"]
	st := heliumid.ParseStatus(raw)
	if !st.IsKnown() {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("status %q: want one of %s", raw, strings.Join(statusNames(), ", ")))
		return
	}
	id := r.PathValue("id")
	err := f.srv.SetStatus(id, st)
	switch {
	case errors.Is(err, heliumid.ErrNotFound):
		adminError(w, http.StatusNotFound, fmt.Sprintf("no session %q", id))
		return
	case errors.Is(err, heliumidtest.ErrInvalidTransition):
		adminError(w, http.StatusConflict, strings.TrimPrefix(err.Error(), "heliumidtest: "))
		return
	case err != nil:
		adminError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	f.webhooksQueued()
	v, _ := f.srv.Verification(id)
	adminJSON(w, http.StatusOK, v)
}

// adminAdvance serves POST /admin/advance: Server.Advance. It answers the
// fake's clock after the move.
func (f *fakeFront) adminAdvance(w http.ResponseWriter, r *http.Request) {
	in, ok := readAdminInput(w, r)
	if !ok {
		return
	}
	d, err := time.ParseDuration(in["duration"])
	if err != nil || d <= 0 {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("duration %q: want a positive Go duration such as \"168h\" or \"90m\"", in["duration"]))
		return
	}
	f.srv.Advance(d)
	f.webhooksQueued()
	adminJSON(w, http.StatusOK, map[string]time.Time{"now": f.srv.Now()})
}

// adminFail serves POST /admin/fail: Server.FailNext.
func (f *fakeFront) adminFail(w http.ResponseWriter, r *http.Request) {
	in, ok := readAdminInput(w, r)
	if !ok {
		return
	}
	failure, count, msg := parseFailure(in)
	if msg != "" {
		adminError(w, http.StatusBadRequest, msg)
		return
	}
	f.srv.FailNext(count, failure)
	adminJSON(w, http.StatusOK, map[string]int{"queued": count})
}

// parseFailure reads the fields of POST /admin/fail; msg says what is wrong.
func parseFailure(in map[string]string) (f heliumidtest.Failure, count int, msg string) {
	count = 1
	ints := []struct {
		name string
		dst  *int
	}{{"count", &count}, {"status", &f.Status}}
	for _, p := range ints {
		if v := in[p.name]; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return f, 0, fmt.Sprintf("%s %q: want an integer", p.name, v)
			}
			*p.dst = n
		}
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{{"retryAfter", &f.RetryAfter}, {"delay", &f.Delay}}
	for _, p := range durations {
		if v := in[p.name]; v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return f, 0, fmt.Sprintf("%s %q: want a Go duration such as \"2s\"", p.name, v)
			}
			*p.dst = d
		}
	}
	bools := []struct {
		name string
		dst  *bool
	}{{"drop", &f.Drop}, {"handled", &f.Handled}}
	for _, p := range bools {
		if v := in[p.name]; v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return f, 0, fmt.Sprintf("%s %q: want true or false", p.name, v)
			}
			*p.dst = b
		}
	}
	f.Message, f.Body = in["message"], in["body"]
	switch {
	case count < 1:
		return f, 0, fmt.Sprintf("count %d: want at least 1", count)
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return f, 0, fmt.Sprintf("status %d: want an HTTP status from 200 to 599", f.Status)
	case f.Status == 0 && !f.Drop && f.Delay == 0:
		return f, 0, "say how to fail: a status, drop or a delay"
	case f.Body != "" && f.Status == 0:
		return f, 0, "body needs a status"
	}
	return f, count, ""
}

// adminRequest is one entry of GET /admin/requests.
type adminRequest struct {
	ID       string              `json:"id"`
	Received time.Time           `json:"received"`
	Method   string              `json:"method"`
	Path     string              `json:"path"`
	Query    map[string][]string `json:"query,omitempty"`
	Header   map[string][]string `json:"header"`
	Body     string              `json:"body,omitempty"`
	KeyValid bool                `json:"keyValid"`
	Status   int                 `json:"status"`
}

// adminRequests serves GET /admin/requests: Server.Requests.
func (f *fakeFront) adminRequests(w http.ResponseWriter, _ *http.Request) {
	out := []adminRequest{}
	for _, r := range f.srv.Requests() {
		out = append(out, adminRequest{
			ID: r.ID, Received: r.Received, Method: r.Method, Path: r.Path, Query: r.Query,
			Header: r.Header, Body: string(r.Body), KeyValid: r.KeyValid, Status: r.Status,
		})
	}
	adminJSON(w, http.StatusOK, out)
}

// adminDelivery is one entry of GET /admin/webhooks.
type adminDelivery struct {
	Event          string          `json:"event"`
	VerificationID string          `json:"verificationId"`
	Status         heliumid.Status `json:"status"`
	Attempts       int             `json:"attempts"`
	StatusCode     int             `json:"statusCode,omitempty"`
	Error          string          `json:"error,omitempty"`
	Body           json.RawMessage `json:"body"`
}

// adminWebhooks serves GET /admin/webhooks: Server.Deliveries.
func (f *fakeFront) adminWebhooks(w http.ResponseWriter, _ *http.Request) {
	out := []adminDelivery{}
	for _, d := range f.srv.Deliveries() {
		ad := adminDelivery{Event: d.Event, VerificationID: d.VerificationID, Status: d.Status,
			Attempts: d.Attempts, StatusCode: d.StatusCode, Body: d.Body}
		if d.Err != nil {
			ad.Error = d.Err.Error()
		}
		if !json.Valid(ad.Body) {
			ad.Body = json.RawMessage("null")
		}
		out = append(out, ad)
	}
	adminJSON(w, http.StatusOK, out)
}

// readAdminInput reads an admin request's parameters: a JSON object of
// strings, numbers and booleans (each kept as its text), or form values,
// with the query string's values added. It answers 400 itself and returns
// false when the body does not parse.
func readAdminInput(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil || len(body) > maxAdminBody {
		adminError(w, http.StatusBadRequest, "could not read the body, or it is over 64 KiB")
		return nil, false
	}
	in := map[string]string{}
	for k, vs := range r.URL.Query() {
		in[k] = vs[0]
	}
	trimmed := strings.TrimSpace(string(body))
	switch {
	case trimmed == "":
	case strings.HasPrefix(trimmed, "{"):
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			adminError(w, http.StatusBadRequest, "the body is not a JSON object: "+err.Error())
			return nil, false
		}
		for k, raw := range fields {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				s = string(raw) // a number or boolean, as written
			}
			in[k] = s
		}
	default:
		form, err := url.ParseQuery(trimmed)
		if err != nil {
			adminError(w, http.StatusBadRequest, "the body is neither a JSON object nor form values")
			return nil, false
		}
		for k, vs := range form {
			in[k] = vs[0]
		}
	}
	return in, true
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = writeJSON(w, v)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	adminJSON(w, status, map[string]string{"error": msg})
}
