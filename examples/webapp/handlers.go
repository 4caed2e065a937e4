package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	heliumid "github.com/heliumid/heliumid-go"
)

// maxNameLen bounds a user's name, in bytes.
const maxNameLen = 100

// createTimeout bounds the call to Helium ID that creates a session (its
// retries included), well inside the server's WriteTimeout, so the user
// gets an answer rather than a dropped connection.
const createTimeout = 20 * time.Second

// signedInUser stands in for your authentication: the user's name, from the
// query (GET /verify?user=alice) or the form. A real service takes the user
// from its session cookie or token, never from the request's parameters.
func signedInUser(r *http.Request) (string, error) {
	name := strings.TrimSpace(r.FormValue("user"))
	switch {
	case name == "":
		return "", errors.New("give a name: ?user=alice stands in for your login")
	case len(name) > maxNameLen:
		return "", errors.New("that name is too long: at most " + strconv.Itoa(maxNameLen) + " bytes")
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return "", errors.New("a name is text: no control characters")
	}
	return name, nil
}

// statusPath is the address of name's status page.
func statusPath(name string) string {
	return "/status.html?user=" + url.QueryEscape(name)
}

// index shows the sign-up form and every user with their status.
func (a *app) index(w http.ResponseWriter, r *http.Request) {
	users, err := a.store.statuses(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	a.render(w, http.StatusOK, "index.html", indexView{Users: users})
}

// signUp creates the user named in the form (or finds them) and shows
// their status page.
func (a *app) signUp(w http.ResponseWriter, r *http.Request) {
	name, err := signedInUser(r)
	if err != nil {
		a.render(w, http.StatusBadRequest, "problem.html", problemView{Problem: err.Error()})
		return
	}
	if _, err := a.store.signUp(r.Context(), name); err != nil {
		a.fail(w, err)
		return
	}
	http.Redirect(w, r, statusPath(name), http.StatusSeeOther)
}

// verify sends the user to their verification session: their open one if
// they have it, else a new one. A first visit signs the user up. A user
// whose documents are being checked, or who is verified, is shown their
// status page instead.
//
// GET /verify?user=NAME serves the day's loop (curl, a link); the pages'
// button POSTs, which the cross-origin protection guards: a real service
// creates sessions (which Helium ID bills) only on a POST.
func (a *app) verify(w http.ResponseWriter, r *http.Request) {
	name, err := signedInUser(r)
	if err != nil {
		a.render(w, http.StatusBadRequest, "problem.html", problemView{Problem: err.Error()})
		return
	}
	u, err := a.store.signUp(r.Context(), name)
	if err != nil {
		a.fail(w, err)
		return
	}
	us, _, err := a.store.status(r.Context(), name)
	if err != nil {
		a.fail(w, err)
		return
	}
	switch us.nextVerify() {
	case verifyContinue:
		http.Redirect(w, r, us.Session.Link, http.StatusSeeOther)
		return
	case verifyNothing:
		http.Redirect(w, r, statusPath(name), http.StatusSeeOther)
		return
	}

	// Two concurrent requests of one user would create two sessions here; a
	// real service guards this with its database (a row claimed before the
	// call) rather than a lock in one process.
	ctx, cancel := context.WithTimeout(r.Context(), createTimeout)
	defer cancel()
	created, err := a.client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{
		// Your own id for the user, not their name: it finds the session
		// again in the dashboard and in ListVerifications.
		VendorData: "user-" + strconv.FormatInt(u.ID, 10),
	})
	if err != nil {
		a.log.Error("creating a verification session", "user_id", u.ID, "err", err)
		problem := "Verification is unavailable right now; try again in a minute."
		if errors.Is(err, heliumid.ErrRateLimited) {
			problem = "Too many verifications are starting right now; try again in a minute."
		}
		a.render(w, http.StatusServiceUnavailable, "problem.html", problemView{Problem: problem})
		return
	}
	if err := a.store.addSession(r.Context(), u, created); err != nil {
		a.fail(w, err)
		return
	}
	a.log.Info("created a verification session", "user_id", u.ID, "session", created.ID)
	http.Redirect(w, r, created.Link, http.StatusSeeOther)
}

// statusJSON is the user's status for machines: {"user", "session", "status"}.
func (a *app) statusJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	us, ok, err := a.store.status(r.Context(), r.URL.Query().Get("user"))
	if err != nil {
		a.log.Error("serving a request", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "the database failed; try again"})
		return
	}
	if !ok || us.Session == nil {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "no verification for this user: GET /verify?user=NAME first"})
		return
	}
	_ = json.NewEncoder(w).Encode(struct {
		User    string          `json:"user"`
		Session string          `json:"session"`
		Status  heliumid.Status `json:"status"`
	}{us.Name, us.Session.ID, us.Session.Status})
}

// statusPage is the user's status for people: it refreshes itself until
// a decision arrives.
func (a *app) statusPage(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("user")
	us, ok, err := a.store.status(r.Context(), name)
	if err != nil {
		a.fail(w, err)
		return
	}
	if !ok {
		a.render(w, http.StatusNotFound, "problem.html", problemView{Problem: "Nobody has signed up with that name."})
		return
	}
	a.render(w, http.StatusOK, "status.html", newStatusView(us))
}

// fail answers a failure of the database, logged here: the user sees no
// detail.
func (a *app) fail(w http.ResponseWriter, err error) {
	a.log.Error("serving a request", "err", err)
	a.render(w, http.StatusInternalServerError, "problem.html", problemView{Problem: "Something went wrong on our side; try again."})
}
