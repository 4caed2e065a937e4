package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/heliumid/heliumid-go/internal/safetext"
)

// maxAdminBody bounds an admin request's body: they are a few bytes.
const maxAdminBody = 64 << 10

// methods maps HTTP methods to the handler of one admin path.
type methods map[string]http.HandlerFunc

// ServeHTTP dispatches on the method, answering 405 with Allow for another.
func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	if r.Method == http.MethodHead && m[http.MethodGet] != nil {
		m[http.MethodGet](w, r)
		return
	}
	allow := slices.Sorted(maps.Keys(m))
	w.Header().Set("Allow", strings.Join(allow, ", "))
	adminError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: method not allowed; use %s", safetext.Truncate(clean(r.Method), 16), r.URL.Path, strings.Join(allow, " or ")))
}

// routeAdmin mounts the admin endpoints. They are not under /api, so the
// API's paths stay exactly the real ones, and they need no key: the fake is
// a local test tool. Each path is registered without a method, so a wrong
// method gets 405 with Allow rather than the catch-all's 404.
func (f *fakeFront) routeAdmin() {
	routes := map[string]methods{
		"/admin/{$}":                     {http.MethodGet: f.adminIndex},
		"/admin":                         {http.MethodGet: f.adminIndex},
		"/admin/sessions/{id}/status":    {http.MethodPost: f.adminSetStatus},
		"/admin/sessions/{id}/decide":    {http.MethodPost: f.adminDecide},
		"/admin/advance":                 {http.MethodPost: f.adminAdvance},
		"/admin/fail":                    {http.MethodPost: f.adminFail},
		"/admin/ratelimit":               {http.MethodPost: f.adminRateLimit},
		"/admin/reset":                   {http.MethodPost: f.adminReset},
		"/admin/requests":                {http.MethodGet: f.adminRequests},
		"/admin/webhooks":                {http.MethodGet: f.adminWebhooks},
		"/admin/webhooks/redeliver":      {http.MethodPost: f.adminRedeliverFailed},
		"/admin/webhooks/{id}/redeliver": {http.MethodPost: f.adminRedeliver},
	}
	for pattern, m := range routes {
		f.mux.Handle(pattern, m)
	}
	f.mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, fmt.Sprintf("no admin endpoint %s; GET /admin/ lists them", safetext.Truncate(clean(r.URL.Path), 200)))
	})
}

func (f *fakeFront) adminIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, `heliumid fake: admin endpoints (the API is under /api)

POST /admin/sessions/{id}/status  {"status": "started"}   move a session one lifecycle step
POST /admin/sessions/{id}/decide  {"status": "successful"}   walk a session through every step to a decision:
                                  successful, failed or review, one webhook per step
POST /admin/advance               {"duration": "168h"}    move the fake's clock forward (7 days expire sessions)
POST /admin/fail                  {"status": 503, "count": 1, "retryAfter": "1s", "message": "", "body": "",
                                   "delay": "0s", "drop": false, "handled": false}   fail the next count API requests
                                  {"count": 0}             clear the failures queued
POST /admin/ratelimit             {"tokenBucket": 40, "burst": 1} or {"rateLimit": "10/1m"}   change the creation cap
POST /admin/reset                 forget every session, request, failure and webhook
GET  /admin/requests              the last 1000 API requests received (bodies cut to 4 KiB)
GET  /admin/webhooks              the webhooks: delivered, pending (with their next attempt) and given up, in full (JSON)
GET  /admin/webhooks?view=compact one line each: id, session, status, state, attempts, next attempt (text)
POST /admin/webhooks/{id}/redeliver   send webhook {id} ("whk_1") again now
POST /admin/webhooks/redeliver        send every webhook not delivered again now

A session's link, /?processId={id}, is its hosted page: the end-user's side, one button per next step.
Form values work as well as JSON: curl -d status=successful .../admin/sessions/ID/decide
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
		adminError(w, http.StatusBadRequest, fmt.Sprintf("status %q: want one of %s", safetext.Truncate(raw, 100), strings.Join(statusNames(), ", ")))
		return
	}
	id := r.PathValue("id")
	f.answerChange(w, id, f.srv.SetStatus(id, st))
}

// adminDecide serves POST /admin/sessions/{id}/decide: Server.Decide. It
// answers the session as the API now serves it.
func (f *fakeFront) adminDecide(w http.ResponseWriter, r *http.Request) {
	in, ok := readAdminInput(w, r)
	if !ok {
		return
	}
	raw := in["status"]
	st := heliumid.ParseStatus(raw)
	if !isDecision(st) {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("status %q is not a decision: want successful, failed or review (POST /admin/sessions/{id}/status moves a session one step)", safetext.Truncate(raw, 100)))
		return
	}
	id := r.PathValue("id")
	f.answerChange(w, id, f.srv.Decide(id, st))
}

// answerChange answers a change of session id that ended with err: the
// session as the API now serves it, or why it did not change.
func (f *fakeFront) answerChange(w http.ResponseWriter, id string, err error) {
	switch {
	case errors.Is(err, heliumid.ErrNotFound):
		adminError(w, http.StatusNotFound, fmt.Sprintf("no session %q", safetext.Truncate(id, 100)))
		return
	case errors.Is(err, heliumidtest.ErrInvalidTransition):
		adminError(w, http.StatusConflict, strings.TrimPrefix(err.Error(), "heliumidtest: "))
		return
	case err != nil:
		adminError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	v, _ := f.srv.Verification(id)
	adminJSON(w, http.StatusOK, v)
}

// isDecision reports whether st is a status Decide walks to.
func isDecision(st heliumid.Status) bool {
	return st == heliumid.StatusSuccessful || st == heliumid.StatusFailed || st == heliumid.StatusReview
}

// adminAdvance serves POST /admin/advance: Server.Advance. It refuses a
// move past the year 9999, which the API's timestamps cannot write, and
// answers the fake's clock after the move.
func (f *fakeFront) adminAdvance(w http.ResponseWriter, r *http.Request) {
	in, ok := readAdminInput(w, r)
	if !ok {
		return
	}
	d, err := time.ParseDuration(in["duration"])
	if err != nil || d <= 0 {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("duration %q: want a positive Go duration such as \"168h\" or \"90m\" (the clock never goes back)", safetext.Truncate(in["duration"], 100)))
		return
	}
	now := f.srv.Now()
	if to := now.Add(d); to.Year() > 9999 {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("duration %q would move the clock from %s past the year 9999, which the API's timestamps cannot write", in["duration"], now.Format(time.RFC3339)))
		return
	}
	f.srv.Advance(d)
	adminJSON(w, http.StatusOK, map[string]time.Time{"now": f.srv.Now()})
}

// adminFail serves POST /admin/fail: Server.FailNext, or ClearFailures for
// a count of 0.
func (f *fakeFront) adminFail(w http.ResponseWriter, r *http.Request) {
	in, ok := readAdminInput(w, r)
	if !ok {
		return
	}
	if n, err := strconv.ParseInt(in["count"], 10, 64); err == nil && n == 0 {
		f.srv.ClearFailures()
		adminJSON(w, http.StatusOK, map[string]any{"queued": 0, "message": "the queued failures were cleared"})
		return
	}
	failure, count, msg := parseFailure(in)
	if msg != "" {
		adminError(w, http.StatusBadRequest, msg)
		return
	}
	if err := f.srv.FailNext(count, failure); err != nil {
		adminError(w, http.StatusConflict, strings.TrimPrefix(err.Error(), "heliumidtest: FailNext: ")+` (POST /admin/fail {"count": 0} clears them)`)
		return
	}
	adminJSON(w, http.StatusOK, map[string]int{"queued": f.srv.QueuedFailures()})
}

// parseFailure reads the fields of POST /admin/fail; msg says what is wrong.
func parseFailure(in map[string]string) (f heliumidtest.Failure, count int, msg string) {
	count = 1
	if v := in["count"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f, 0, fmt.Sprintf("count %q: want an integer from 0 (clear the queued failures) to %d (until cleared)", safetext.Truncate(v, 100), int64(math.MaxInt64))
		}
		count = int(min(n, int64(math.MaxInt)))
	}
	if v := in["status"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return f, 0, fmt.Sprintf("status %q: want an integer", safetext.Truncate(v, 100))
		}
		f.Status = n
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{{"retryAfter", &f.RetryAfter}, {"delay", &f.Delay}}
	for _, p := range durations {
		if v := in[p.name]; v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return f, 0, fmt.Sprintf("%s %q: want a Go duration such as \"2s\"", p.name, safetext.Truncate(v, 100))
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
				return f, 0, fmt.Sprintf("%s %q: want true or false", p.name, safetext.Truncate(v, 100))
			}
			*p.dst = b
		}
	}
	f.Message, f.Body = in["message"], in["body"]
	switch {
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return f, 0, fmt.Sprintf("status %d: want an HTTP status from 200 to 599", f.Status)
	case f.Status == 0 && !f.Drop && f.Delay == 0:
		return f, 0, "say how to fail: a status, drop or a delay"
	case f.Body != "" && f.Status == 0:
		return f, 0, "body needs a status"
	}
	return f, count, ""
}

// adminRateLimit serves POST /admin/ratelimit: Server.SetRateLimit or
// Server.SetTokenBucket.
func (f *fakeFront) adminRateLimit(w http.ResponseWriter, r *http.Request) {
	in, ok := readAdminInput(w, r)
	if !ok {
		return
	}
	var err error
	switch window, bucket := in["rateLimit"], in["tokenBucket"]; {
	case window != "" && bucket != "":
		adminError(w, http.StatusBadRequest, "give rateLimit (a window, \"10/1m\") or tokenBucket (a rate per second), not both")
		return
	case window != "":
		n, per, msg := parseWindow(window)
		if msg != "" {
			adminError(w, http.StatusBadRequest, "rateLimit "+msg)
			return
		}
		err = f.srv.SetRateLimit(n, per)
	case bucket != "":
		rate, perr := strconv.ParseFloat(bucket, 64)
		burst := 1
		if v := in["burst"]; v != "" {
			burst, err = strconv.Atoi(v)
		}
		if perr != nil || err != nil || rate > 1e9 {
			adminError(w, http.StatusBadRequest, fmt.Sprintf("tokenBucket %q, burst %q: want a rate per second (at most 1e9) and an integer burst", safetext.Truncate(bucket, 100), safetext.Truncate(in["burst"], 100)))
			return
		}
		err = f.srv.SetTokenBucket(rate, burst)
	default:
		adminError(w, http.StatusBadRequest, `say which cap: {"rateLimit": "10/1m"} or {"tokenBucket": 40, "burst": 1}`)
		return
	}
	if err != nil {
		adminError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "heliumidtest: "))
		return
	}
	adminJSON(w, http.StatusOK, map[string]string{"message": "the creation cap was changed"})
}

// adminReset serves POST /admin/reset: Server.Reset.
func (f *fakeFront) adminReset(w http.ResponseWriter, _ *http.Request) {
	f.srv.Reset()
	adminJSON(w, http.StatusOK, map[string]string{"message": "sessions, requests, queued failures and webhooks forgotten; the clock, the creation cap and the id counters stay"})
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
	BodySize int                 `json:"bodySize"`
	KeyValid bool                `json:"keyValid"`
	Status   int                 `json:"status"`
}

// adminRequests serves GET /admin/requests: Server.Requests.
func (f *fakeFront) adminRequests(w http.ResponseWriter, _ *http.Request) {
	out := []adminRequest{}
	for _, r := range f.srv.Requests() {
		out = append(out, adminRequest{
			ID: r.ID, Received: r.Received, Method: r.Method, Path: r.Path, Query: r.Query,
			Header: r.Header, Body: string(r.Body), BodySize: r.BodySize, KeyValid: r.KeyValid, Status: r.Status,
		})
	}
	adminJSON(w, http.StatusOK, out)
}

// adminDelivery is one entry of GET /admin/webhooks.
type adminDelivery struct {
	ID             string          `json:"id"`
	Event          string          `json:"event"`
	VerificationID string          `json:"verificationId"`
	Status         heliumid.Status `json:"status"`
	State          string          `json:"state"` // delivered, pending, failed
	Attempts       int             `json:"attempts"`
	StatusCode     int             `json:"statusCode,omitempty"`
	Error          string          `json:"error,omitempty"`
	NextAttempt    *time.Time      `json:"nextAttempt,omitempty"`
	Body           json.RawMessage `json:"body"`
}

// adminWebhooks serves GET /admin/webhooks: Server.Deliveries, in full
// (JSON), or one line each with ?view=compact (text).
func (f *fakeFront) adminWebhooks(w http.ResponseWriter, r *http.Request) {
	switch view := r.URL.Query().Get("view"); view {
	case "":
	case "compact":
		f.adminWebhooksCompact(w)
		return
	default:
		adminError(w, http.StatusBadRequest, fmt.Sprintf("view %q: want compact (one line per webhook), or no view for the full JSON", safetext.Truncate(view, 100)))
		return
	}
	out := []adminDelivery{}
	for _, d := range f.srv.Deliveries() {
		ad := adminDelivery{ID: d.ID, Event: d.Event, VerificationID: d.VerificationID, Status: d.Status,
			State: deliveryState(d), Attempts: d.Attempts, StatusCode: d.StatusCode, Body: d.Body}
		if next := d.NextAttempt; d.Pending && !next.IsZero() {
			ad.NextAttempt = &next
		}
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

// deliveryState names a delivery's state for the admin views: delivered,
// pending (queued, in flight, or waiting for its next attempt) or failed
// (given up).
func deliveryState(d heliumidtest.Delivery) string {
	switch {
	case d.Pending:
		return "pending"
	case d.Delivered():
		return "delivered"
	}
	return "failed"
}

// adminWebhooksCompact writes the webhooks as a table, one line each,
// without bodies (so without personal data): to find the one pending
// delivery among many at a glance.
func (f *fakeFront) adminWebhooksCompact(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSESSION\tSTATUS\tSTATE\tATTEMPTS\tNEXT ATTEMPT")
	for _, d := range f.srv.Deliveries() {
		next := "-"
		switch {
		case d.Pending && d.NextAttempt.IsZero():
			next = "in flight"
		case d.Pending:
			next = nextAttempt(d) + " (" + d.NextAttempt.UTC().Format(time.TimeOnly) + " UTC)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", cell(d.ID, maxShortCell), cell(d.VerificationID, maxIDCell),
			cell(string(d.Status), maxShortCell), deliveryState(d), d.Attempts, next)
	}
	_ = tw.Flush()
}

// adminRedeliver serves POST /admin/webhooks/{id}/redeliver: Server.Redeliver.
func (f *fakeFront) adminRedeliver(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := f.srv.Redeliver(id)
	switch {
	case errors.Is(err, heliumid.ErrNotFound):
		adminError(w, http.StatusNotFound, fmt.Sprintf("no webhook %q (GET /admin/webhooks lists them; without --webhook-url there are none)", safetext.Truncate(id, 100)))
	case err != nil:
		adminError(w, http.StatusServiceUnavailable, err.Error())
	default:
		adminJSON(w, http.StatusOK, map[string]string{"message": "webhook " + id + " is being sent again"})
	}
}

// adminRedeliverFailed serves POST /admin/webhooks/redeliver:
// Server.RedeliverFailed.
func (f *fakeFront) adminRedeliverFailed(w http.ResponseWriter, _ *http.Request) {
	adminJSON(w, http.StatusOK, map[string]int{"redelivering": f.srv.RedeliverFailed()})
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
