package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/internal/unprocessed"
)

// fail reports err, which ended command cmd, on stderr with a hint where one
// helps, and returns the exit code for it.
func (c *cli) fail(cmd string, err error) int {
	msg, hint := c.describe(err)
	return c.print(cmd, msg, hint, exitCode(err))
}

// report is fail with a hint of the caller's choosing ("" for none).
func (c *cli) report(cmd string, err error, hint string) int {
	msg, _ := c.describe(err)
	return c.print(cmd, msg, hint, exitCode(err))
}

func (c *cli) print(cmd, msg, hint string, code int) int {
	fmt.Fprintf(c.stderr, "heliumid %s: %s\n", cmd, msg)
	if hint != "" {
		fmt.Fprintf(c.stderr, "hint: %s\n", hint)
	}
	return code
}

// exitCode maps an error to the documented exit code.
func exitCode(err error) int {
	var cfg *configError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &cfg):
		return exitConfig
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, heliumid.ErrInvalidRequest):
		return exitUsage // the SDK refused an argument (an id with a slash, ...)
	}
	return exitFailure
}

// describe returns what to print for err, and a hint for the errors a user
// of the command line can fix. The SDK's own messages end in hints for code
// that calls NewClient ("check the API key given to NewClient"), so an
// APIError's message is composed here from its fields, and the hint names
// what the command line reads: HELIUMID_API_KEY, HELIUMID_BASE_URL, flags.
func (c *cli) describe(err error) (msg, hint string) {
	if errors.Is(err, context.Canceled) {
		// Only Ctrl-C or SIGTERM cancel a command's context: "context
		// canceled" would say it in Go's terms.
		return "interrupted", ""
	}
	var apiErr *heliumid.APIError
	if errors.As(err, &apiErr) {
		return apiMessage(err, apiErr), c.apiHint(err, apiErr)
	}
	return strings.TrimPrefix(err.Error(), "heliumid: "), c.hint(err)
}

// apiMessage is an APIError's text without the SDK's hint: what was called
// (when err says), the status, the server's message and request id.
func apiMessage(err error, e *heliumid.APIError) string {
	var b strings.Builder
	if call := calledOf(err); call != "" {
		b.WriteString(call + ": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" && e.Message != http.StatusText(e.StatusCode) {
		b.WriteString(": " + clean(e.Message))
	}
	if e.Code != 0 && e.Code != e.StatusCode {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + clean(e.RequestID) + ")")
	}
	return b.String()
}

// calledOf returns the "METHOD /path" the SDK's message starts with, or "".
func calledOf(err error) string {
	s := strings.TrimPrefix(err.Error(), "heliumid: ")
	method, rest, ok := strings.Cut(s, " ")
	if !ok || (method != http.MethodGet && method != http.MethodPost) || !strings.HasPrefix(rest, "/") {
		return ""
	}
	path, _, ok := strings.Cut(rest, ": ")
	if !ok || strings.Contains(path, " ") {
		return ""
	}
	return method + " " + path
}

// apiHint says what to check after an error response.
func (c *cli) apiHint(err error, e *heliumid.APIError) string {
	call := calledOf(err)
	switch {
	case errors.Is(err, heliumid.ErrUnauthorized):
		return "check " + envAPIKey + " or --api-key-file: test and live keys belong to different integrations (\"heliumid fake\" accepts heliumidtest_key unless started with your key)"
	case errors.Is(err, heliumid.ErrNotFound):
		if base := c.baseURL(); !hasAPIPath(base) {
			return envBaseURL + " is " + base + ", without the /api path: the API's base URL ends in /api, such as " + heliumid.DefaultBaseURL + " (or http://127.0.0.1:8080/api for \"heliumid fake\")"
		}
		if strings.HasPrefix(call, http.MethodGet+" /v1/verifications/") {
			return "check the session id (\"heliumid list\" shows yours): a session belongs to the integration whose key created it"
		}
		return "the API has no such endpoint at " + c.baseURL() + ": check " + envBaseURL
	case errors.Is(err, heliumid.ErrRateLimited):
		what := "too many requests"
		if strings.HasPrefix(call, http.MethodPost) {
			what = "the session-creation cap was hit"
		}
		if e.RetryAfter > 0 {
			return what + ": try again in " + roundWait(e.RetryAfter)
		}
		return what + ": try again in a while"
	case errors.Is(err, heliumid.ErrServer):
		return "Helium ID had a server error: try again later"
	case errors.Is(err, heliumid.ErrUnexpectedResponse):
		return "the answer is not what the API documents: is " + envBaseURL + " (" + c.baseURL() + ") the Helium ID API? If so, report it with the request id"
	}
	return ""
}

// hasAPIPath reports whether base has a path ending in /api, as the API's
// base URL does.
func hasAPIPath(base string) bool {
	u, err := url.Parse(base)
	return err == nil && strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api")
}

// roundWait prints a wait for a person: whole seconds, rounded up.
func roundWait(d time.Duration) string {
	if d > 48*time.Hour {
		return strconv.FormatInt(int64((d+24*time.Hour-1)/(24*time.Hour)), 10) + " days"
	}
	return ((d + time.Second - 1) / time.Second * time.Second).String()
}

// hint says what to check for the errors without a response that a user
// can fix, where the SDK's message does not say it.
func (c *cli) hint(err error) string {
	var cfg *configError
	var reworded *rewordedError
	var netErr net.Error
	switch {
	case errors.As(err, &reworded):
		return reworded.hint
	case errors.As(err, &cfg):
		return ""
	case errors.Is(err, context.Canceled), errors.Is(err, heliumid.ErrInvalidRequest):
		return "" // the message says it all
	case errors.Is(err, heliumid.ErrRateLimited): // a wait the client refused, without a response
		return "the session-creation cap was hit: try again later"
	case errors.Is(err, context.DeadlineExceeded):
		return "the server at " + c.baseURL() + " did not answer in time"
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "could not reach " + c.baseURL() + ": check " + envBaseURL + " and that the server is up"
	}
	return ""
}

// failCreate reports a failed create. One that may have reached Helium ID
// may have created the session, which the SDK therefore did not retry:
// the hint says how to look for it, since creating another would make a
// second, billed session.
func (c *cli) failCreate(err error, vendorData string) int {
	why := mayHaveCreated(err)
	if why == "" {
		return c.fail("create", err)
	}
	look := `"heliumid list --vendor-data ` + shellQuote(vendorData) + `"`
	if vendorData == "" {
		look = `"heliumid list" (a session created with --vendor-data V is found with "heliumid list --vendor-data V")`
	}
	return c.report("create", err, why+"the session may exist: look for it with "+look+" before creating another")
}

// mayHaveCreated says why the create that failed with err may have
// created its session anyway, as the start of a hint, or "" when it cannot
// have: Helium ID refused it, or it was never sent.
func mayHaveCreated(err error) string {
	var apiErr *heliumid.APIError
	var netErr net.Error
	switch {
	case errors.As(err, &apiErr):
		if errors.Is(err, heliumid.ErrServer) {
			return "Helium ID failed after receiving the request, so "
		}
		if errors.Is(err, heliumid.ErrUnexpectedResponse) && apiErr.StatusCode >= 200 && apiErr.StatusCode < 300 {
			return "Helium ID answered 2xx but not as documented, so "
		}
		return "" // refused: 4xx, a redirect
	case errors.Is(err, context.Canceled):
		return "if the request had reached Helium ID, "
	case errors.As(err, new(*configError)), errors.Is(err, heliumid.ErrInvalidRequest), errors.Is(err, heliumid.ErrRateLimited),
		errors.Is(err, heliumid.ErrUnexpectedResponse), unprocessed.Proven(err):
		return "" // not sent, or a redirect refused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "the server did not answer in time, so "
	}
	return "the connection failed after the request was sent, so "
}
