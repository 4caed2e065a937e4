package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/internal/safetext"
)

const decideHelp = `Usage: heliumid decide [--json] [--show-personal-data] ID STATUS

Walks a session of "heliumid fake" through every lifecycle step to a
decision: STATUS is successful, failed or review. Each step is what the
end-user and Helium ID would do, with its webhook: from not started, the
session is started, submitted, then decided; from review, it is decided at
once. It is what the buttons of the session's page do, in one command.

It calls the fake's POST /admin/sessions/{id}/decide at the address of
HELIUMID_BASE_URL (the URL "heliumid fake" prints, such as
http://127.0.0.1:8080/api), and sends no API key: the fake's admin
endpoints need none. It works only with the fake: the real Helium ID
decides by itself.

It prints the session as "heliumid get" does, without the end-user's
personal data unless you pass --show-personal-data. A session that cannot
reach STATUS from where it is (a final status, or STATUS already) is an
error (exit code 4), and nothing changes.

Examples:
  export HELIUMID_BASE_URL=http://127.0.0.1:8080/api
  heliumid decide 7e570000-0000-4000-8000-000000000001 successful
  heliumid decide --json ID review | jq -r .updatedAt
`

// decideTimeout bounds the one request decide makes: the fake answers in
// milliseconds.
const decideTimeout = 30 * time.Second

// maxAdminAnswer bounds what decide reads of the fake's answer: one
// session.
const maxAdminAnswer = 1 << 20

// decide serves "heliumid decide".
func (c *cli) decide(ctx context.Context, args []string) int {
	fs := c.newFlagSet("decide")
	asJSON := fs.Bool("json", false, "print the session as JSON")
	showPII := fs.Bool("show-personal-data", false, "include the end-user's personal data (docInfo, doc, selfie)")
	pos, code, done := c.parse(fs, decideHelp, args)
	if done {
		return code
	}
	switch {
	case len(pos) < 2:
		return c.usageError("decide", "want a session ID and a decision: heliumid decide ID successful|failed|review")
	case len(pos) > 2:
		return c.usageError("decide", fmt.Sprintf("want a session ID and a decision, got %d arguments", len(pos)))
	}
	id, st := pos[0], heliumid.ParseStatus(pos[1])
	if !isDecision(st) {
		return c.usageError("decide", fmt.Sprintf("STATUS %q is not a decision: want successful, failed or review", safetext.Truncate(clean(pos[1]), 100)))
	}
	if strings.TrimSpace(id) == "" {
		return c.usageError("decide", "the session ID is empty")
	}
	origin, err := c.fakeOrigin()
	if err != nil {
		return c.fail("decide", err)
	}

	path := "/admin/sessions/" + url.PathEscape(id) + "/decide"
	v, msg, hint := c.postDecide(ctx, origin, path, st)
	if ctx.Err() != nil {
		return c.fail("decide", ctx.Err())
	}
	if msg != "" {
		return c.print("decide", msg, hint, exitFailure)
	}
	if err := c.writeSession(v, *asJSON, *showPII); err != nil {
		return c.fail("decide", err)
	}
	return exitOK
}

// fakeOrigin returns where "heliumid fake" serves its admin endpoints: the
// scheme and host of HELIUMID_BASE_URL, which must be set (the default is
// Helium ID's API, which has none), http only on loopback as for every
// command.
func (c *cli) fakeOrigin() (string, error) {
	raw, ok := c.env(envBaseURL)
	raw = strings.TrimSpace(raw)
	if !ok || raw == "" {
		return "", &configError{errors.New(envBaseURL + " is not set: decide talks to \"heliumid fake\"; set it to the URL the fake printed, such as http://127.0.0.1:8080/api")}
	}
	// The SDK's own rules for a base URL (absolute, https except on
	// loopback), and its messages, as every other command has them; decide
	// sends no key, so any placeholder does.
	if _, err := heliumid.NewClient("decide", heliumid.WithBaseURL(raw)); err != nil {
		return "", newClientError(err, "")
	}
	u, _ := url.Parse(raw)
	if def, _ := url.Parse(heliumid.DefaultBaseURL); strings.EqualFold(u.Hostname(), def.Hostname()) {
		return "", &configError{errors.New(envBaseURL + " is Helium ID's API, which decides by itself: decide works only with \"heliumid fake\" (set " + envBaseURL + " to the URL it printed)")}
	}
	return u.Scheme + "://" + u.Host, nil
}

// postDecide asks the fake to decide and returns the session it answers,
// or what to print (msg, and a hint) when it did not.
func (c *cli) postDecide(ctx context.Context, origin, path string, st heliumid.Status) (v *heliumid.Verification, msg, hint string) {
	body, _ := json.Marshal(map[string]heliumid.Status{"status": st})
	ctx, cancel := context.WithTimeout(ctx, decideTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, origin+path, bytes.NewReader(body))
	if err != nil {
		return nil, err.Error(), ""
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "heliumid-cli/"+heliumid.Version)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	hc := &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	call := "POST " + safetext.Truncate(clean(path), 200)
	resp, err := hc.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its text repeats the URL
		}
		return nil, call + ": " + clean(err.Error()), "could not reach the fake at " + origin + ": is \"heliumid fake\" running, and " + envBaseURL + " the URL it printed?"
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminAnswer))
	if err != nil {
		return nil, call + ": reading the answer: " + clean(err.Error()), ""
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			return nil, call + ": " + status, "is " + envBaseURL + " (" + origin + ") a \"heliumid fake\"? decide works only with the fake"
		}
		return nil, call + ": " + status + ": " + safetext.Truncate(clean(e.Error), 500), decideHint(resp.StatusCode)
	}
	v = new(heliumid.Verification)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, call + ": the fake's answer is not a session: " + clean(err.Error()), ""
	}
	return v, "", ""
}

// decideHint says what to do after the fake refused a decide.
func decideHint(status int) string {
	switch status {
	case http.StatusNotFound:
		return "check the session id (\"heliumid list\" shows the fake's sessions; a restart of the fake forgets them)"
	case http.StatusConflict:
		return "\"heliumid get ID\" shows where the session is: a final status goes nowhere"
	}
	return ""
}
