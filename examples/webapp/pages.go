package main

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
)

// refreshSeconds is how often the status page reloads itself while a
// decision may still come.
const refreshSeconds = 2

//go:embed templates/*.html
var templateFiles embed.FS

// pages are the HTML pages. html/template escapes every value by its
// context (text, attribute, URL), so a user's name is shown as text
// whatever it holds.
var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"statusPath": statusPath,
	"page":       func(title string, refresh int) headView { return headView{title, refresh} },
}).ParseFS(templateFiles, "templates/*.html"))

// headView is what every page's head needs.
type headView struct {
	Title   string
	Refresh int // seconds until the page reloads itself; 0: it does not
}

// indexView is the index page.
type indexView struct {
	Users []userStatus
}

// problemView is a page that says what went wrong.
type problemView struct {
	Problem string
}

// statusView is a user's status page.
type statusView struct {
	Name    string
	Session *session
	Note    string // what the status means, in the user's words
	Refresh int    // seconds until the page reloads itself; 0: it does not
	Verify  string // the label of the Verify button; "": no button
	Updated string // when Helium ID last changed the session, if it said
}

// verifyAction is what /verify does for a user, and what their Verify
// button says.
type verifyAction int

const (
	verifyNew      verifyAction = iota // no session yet: create one
	verifyContinue                     // still open: back to it, rather than paying for a second one
	verifyAgain                        // over without success: create a new one
	verifyNothing                      // submitted, review, successful, or a status this SDK does not know yet
)

// nextVerify is what /verify does for the user now.
func (us userStatus) nextVerify() verifyAction {
	if us.Session == nil {
		return verifyNew
	}
	switch us.Session.Status {
	case heliumid.StatusNotStarted, heliumid.StatusStarted:
		return verifyContinue
	case heliumid.StatusFailed, heliumid.StatusExpired, heliumid.StatusAbandoned:
		return verifyAgain
	}
	return verifyNothing
}

// VerifyLabel is the label of the user's Verify button, or "" when there is
// nothing for them to do (being checked, or verified).
func (us userStatus) VerifyLabel() string {
	return [...]string{
		verifyNew:      "Verify my identity",
		verifyContinue: "Continue my verification",
		verifyAgain:    "Try again",
		verifyNothing:  "",
	}[us.nextVerify()]
}

func newStatusView(us userStatus) statusView {
	v := statusView{Name: us.Name, Session: us.Session, Verify: us.VerifyLabel()}
	if us.Session == nil {
		v.Note = "You have not verified your identity yet."
		return v
	}
	st := us.Session.Status
	v.Note = statusNotes[st]
	if v.Note == "" {
		v.Note = "Helium ID reports a status this service does not know yet."
	}
	if !st.IsTerminal() {
		v.Refresh = refreshSeconds
	}
	if t := us.Session.UpdatedAt; !t.IsZero() {
		v.Updated = t.Format(time.RFC3339)
	}
	return v
}

// statusNotes say what a status means to the user.
var statusNotes = map[heliumid.Status]string{
	heliumid.StatusNotStarted: "Your verification is ready: open it to start.",
	heliumid.StatusStarted:    "You started your verification: finish it to continue.",
	heliumid.StatusSubmitted:  "Your document and selfie are being checked. This page shows the decision as soon as it arrives.",
	heliumid.StatusReview:     "A person is reviewing your verification. This page shows the decision as soon as it arrives.",
	heliumid.StatusSuccessful: "You are verified.",
	heliumid.StatusFailed:     "Your verification did not succeed.",
	heliumid.StatusExpired:    "Your verification was never started and has expired.",
	heliumid.StatusAbandoned:  "Your verification was not finished in time.",
}

// render writes the page name with v and code. The pages run no script and
// may not be framed (a framed page could be clicked through from another
// site). The policy sets no form-action: the Verify form's answer
// redirects to Helium ID's page, which form-action would have to name.
func (a *app) render(w http.ResponseWriter, code int, name string, v any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, v); err != nil {
		a.log.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "Something went wrong on our side; try again.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}
