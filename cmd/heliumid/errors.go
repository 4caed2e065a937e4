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
		if strings.HasPrefix(call, http.MethodPost) {
			return "the server failed after receiving the request, so the session may exist: look for it with \"heliumid list --vendor-data V\" before creating another"
		}
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
	var netErr net.Error
	switch {
	case errors.As(err, &cfg), errors.Is(err, context.Canceled), errors.Is(err, heliumid.ErrInvalidRequest):
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
