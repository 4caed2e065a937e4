package heliumidtest

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// pageParam is the query parameter of a session's link that carries its
// id, as in the real link ("https://verify.heliumid.io/?processId=<id>").
const pageParam = "processId"

// maxPageForm bounds the body of a press on the page: one status.
const maxPageForm = 4 << 10

// link returns the link of session id: the hosted page on the Server's
// page origin.
func (s *Server) link(id string) string {
	return s.pageBase + "/?" + pageParam + "=" + url.QueryEscape(id)
}

// isPageRequest reports whether r is for the hosted page: the path "/"
// with a processId parameter, as a session's link has it. Every other
// request is the API's.
func isPageRequest(r *http.Request) bool {
	return r.URL.Path == "/" && r.URL.Query().Has(pageParam)
}

// pageHandler returns the hosted page, behind the cross-origin protection
// of net/http: a press (a POST) that a browser says comes from another site
// is refused with 403, so a web page the developer visits cannot move a
// session. GETs, and clients that send neither Sec-Fetch-Site nor Origin
// (curl, a test's http.Client), are unaffected.
func (s *Server) pageHandler() http.Handler {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writePage(w, http.StatusForbidden, pageView{
			Title:   "Refused",
			Problem: "This press came from another web site, so the fake refused it: only the page itself can move a session. Open the session's link and press the button there.",
		})
	}))
	return csrf.Handler(http.HandlerFunc(s.servePage))
}

// servePage serves the hosted page: GET shows the session, POST presses a
// button and answers 303 to the page (POST-redirect-GET).
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get(pageParam)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.showPage(w, id, http.StatusOK, "")
	case http.MethodPost:
		s.press(w, r, id)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writePage(w, http.StatusMethodNotAllowed, pageView{Title: "Method not allowed", Problem: "This page answers GET, and POST from its own buttons."})
	}
}

// press moves session id to the status its button names, as SetStatus
// does, if the page offers that step now.
func (s *Server) press(w http.ResponseWriter, r *http.Request, id string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPageForm)
	if err := r.ParseForm(); err != nil {
		s.showPage(w, id, http.StatusBadRequest, "The form could not be read; press one of the buttons below.")
		return
	}
	raw := r.PostForm.Get("status")
	st := heliumid.ParseStatus(raw)
	if !st.IsKnown() {
		s.showPage(w, id, http.StatusBadRequest, fmt.Sprintf("%q is not a status; press one of the buttons below.", cut(raw, maxEcho)))
		return
	}
	err := s.pageStep(id, st)
	switch {
	case errors.Is(err, heliumid.ErrNotFound):
		s.showPage(w, id, http.StatusNotFound, "")
	case errors.Is(err, ErrInvalidTransition):
		s.showPage(w, id, http.StatusConflict, "That step is not possible now: "+strings.TrimPrefix(err.Error(), ErrInvalidTransition.Error()+": "))
	case err != nil:
		writePage(w, http.StatusServiceUnavailable, pageView{Title: "Closed", Problem: "The fake server is shutting down."})
	default:
		http.Redirect(w, r, "/?"+pageParam+"="+url.QueryEscape(id), http.StatusSeeOther)
	}
}

// pageStep moves session id to st as SetStatus does, when st is among the
// page's buttons: every next step of the lifecycle but expired and
// abandoned, which only time brings.
func (s *Server) pageStep(id string, st heliumid.Status) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, now, err := s.lookupLocked("page", id, st)
	if err != nil {
		return err
	}
	if err := s.checkStep(sess, st, now); err != nil {
		return err
	}
	if !isPageStep(st) {
		return fmt.Errorf("%w: the page does not offer %q: time brings it (Server.Advance, or POST /admin/advance in heliumid fake)", ErrInvalidTransition, st)
	}
	s.change(sess, st, now)
	return nil
}

func isPageStep(st heliumid.Status) bool {
	return st != heliumid.StatusExpired && st != heliumid.StatusAbandoned
}

// pageView is what the page shows. It holds no API key and no personal
// data: the fake's invented document and selfie stay in the API.
type pageView struct {
	Title      string
	Problem    string // why the last press was refused, or what is wrong
	Found      bool   // the session exists: the fields below are set
	ID         string
	Status     heliumid.Status
	Note       string // what the status means for the end-user
	VendorData string
	Reason     string
	Created    string
	Updated    string
	User       []pageButton // the end-user's steps
	Decision   []pageButton // Helium ID's
}

// pageButton is one submit button: it moves the session to Status.
type pageButton struct {
	Status heliumid.Status
	Label  string
}

// showPage answers the page of session id with code, and problem above it
// when not "". An unknown id is a 404 page, whatever code says.
func (s *Server) showPage(w http.ResponseWriter, id string, code int, problem string) {
	v, ok := s.pageView(id)
	if !ok {
		writePage(w, http.StatusNotFound, pageView{
			Title:   "No such session",
			ID:      id,
			Problem: "The fake has no session with this id. It keeps sessions in memory: a restart or a reset forgets them. Create a session and open its link.",
		})
		return
	}
	v.Problem = problem
	writePage(w, code, v)
}

// pageView reads session id for the page.
func (s *Server) pageView(id string) (pageView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.tick()
	sess, ok := s.sessions[id]
	if !ok {
		return pageView{}, false
	}
	v := pageView{
		Title:      "Verify your identity",
		Found:      true,
		ID:         sess.id,
		Status:     sess.status,
		Note:       statusNotes[sess.status],
		VendorData: sess.vendorData,
		Reason:     sess.reason,
		Created:    sess.createdAt.Format(time.RFC3339),
		Updated:    sess.updatedAt.Format(time.RFC3339Nano),
	}
	for _, st := range s.nextSteps(sess, now) {
		switch st {
		case heliumid.StatusStarted:
			label := "Start the verification"
			if sess.status == heliumid.StatusFailed {
				label = "Try again (the one resubmission)"
			}
			v.User = append(v.User, pageButton{st, label})
		case heliumid.StatusSubmitted:
			v.User = append(v.User, pageButton{st, "Submit the document and selfie"})
		case heliumid.StatusSuccessful:
			v.Decision = append(v.Decision, pageButton{st, "Approve"})
		case heliumid.StatusFailed:
			v.Decision = append(v.Decision, pageButton{st, "Decline"})
		case heliumid.StatusReview:
			v.Decision = append(v.Decision, pageButton{st, "Send to review"})
		}
	}
	return v, true
}

// statusNotes say what a status means, in the end-user's words.
var statusNotes = map[heliumid.Status]string{
	heliumid.StatusNotStarted: "Nobody has opened this session yet. Start it as the end-user would.",
	heliumid.StatusStarted:    "The end-user is taking a photo of their document and a selfie.",
	heliumid.StatusSubmitted:  "Submitted: Helium ID is checking the document and the selfie. Decide as it would.",
	heliumid.StatusReview:     "The automated checks were inconclusive: a person on the integration's side decides.",
	heliumid.StatusSuccessful: "Verified. This is a final decision.",
	heliumid.StatusFailed:     "Not verified.",
	heliumid.StatusExpired:    "Nobody started this session within 7 days. Create a new one.",
	heliumid.StatusAbandoned:  "The end-user started but did not finish within 7 days. Create a new one.",
}

// writePage renders v with code. The page runs no script and may not be
// framed (a framed page could be clicked through from another site).
func writePage(w http.ResponseWriter, code int, v pageView) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		// Only the Server's own values are rendered; this is a bug.
		http.Error(w, "heliumidtest: rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// pageTemplate is the page. Its selectors are a documented contract (see
// the package documentation): data-session-status on the element whose
// text is the status, data-status on each submit button.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Helium ID fake</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 38rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
.fake { background: #fff4ce; border: 1px solid #e0c35c; padding: .5rem .75rem; border-radius: 4px; }
.problem { background: #fde2e1; border: 1px solid #d9534f; padding: .5rem .75rem; border-radius: 4px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { color: #555; } dd { margin: 0; overflow-wrap: anywhere; }
.status { font-weight: bold; }
form { margin: 1rem 0; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
button { font: inherit; padding: .4rem .9rem; margin: 0 .5rem .5rem 0; cursor: pointer; }
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="fake">This is the Helium ID fake: you play the end-user, and Helium ID's decision too. Nothing here is real and nothing is asked of you: no camera, no document. Each button moves the session one step, as the real service would, and sends the webhook of that step.</p>
{{with .Problem}}<p class="problem" role="alert">{{.}}</p>{{end}}
{{- if .Found}}
<dl>
<dt>Status</dt><dd class="status" data-session-status="{{.Status}}">{{.Status}}</dd>
<dt>Session</dt><dd><code>{{.ID}}</code></dd>
{{- with .VendorData}}
<dt>Vendor data</dt><dd><code>{{.}}</code></dd>
{{- end}}
{{- with .Reason}}
<dt>Reason</dt><dd>{{.}}</dd>
{{- end}}
<dt>Created</dt><dd>{{.Created}}</dd>
<dt>Updated</dt><dd>{{.Updated}}</dd>
</dl>
<p>{{.Note}}</p>
{{- if .User}}
<h2>You, the end-user</h2>
<form method="post" action="?processId={{.ID}}">
{{- range .User}}
<button type="submit" name="status" value="{{.Status}}" data-status="{{.Status}}">{{.Label}}</button>
{{- end}}
</form>
{{- end}}
{{- if .Decision}}
<h2>Helium ID's decision</h2>
<form method="post" action="?processId={{.ID}}">
{{- range .Decision}}
<button type="submit" name="status" value="{{.Status}}" data-status="{{.Status}}">{{.Label}} ({{.Status}})</button>
{{- end}}
</form>
{{- end}}
{{- if not (or .User .Decision)}}
<p>Nothing more can happen to this session here.</p>
{{- end}}
{{- else if .ID}}
<p>Session id: <code>{{.ID}}</code></p>
{{- end}}
</main>
</body>
</html>
`))
