package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	heliumid "github.com/heliumid/heliumid-go"
)

// fail reports err, which ended command cmd, on stderr with a hint where one
// helps, and returns the exit code for it.
func (c *cli) fail(cmd string, err error) int {
	return c.report(cmd, err, c.hint(err))
}

// report is fail with a hint of the caller's choosing ("" for none).
func (c *cli) report(cmd string, err error, hint string) int {
	fmt.Fprintf(c.stderr, "heliumid %s: %s\n", cmd, strings.TrimPrefix(err.Error(), "heliumid: "))
	if hint != "" {
		fmt.Fprintf(c.stderr, "hint: %s\n", hint)
	}
	return exitCode(err)
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

// hint says what to check for the errors a user can fix, where the SDK's
// own message (written for code calling NewClient) does not say it.
func (c *cli) hint(err error) string {
	var cfg *configError
	var netErr net.Error
	switch {
	case errors.As(err, &cfg), errors.Is(err, context.Canceled), errors.Is(err, heliumid.ErrInvalidRequest):
		return "" // the message says it all
	case errors.Is(err, heliumid.ErrUnauthorized):
		return "check " + envAPIKey + " or --api-key-file: test and live keys belong to different integrations (\"heliumid fake\" accepts heliumidtest_key unless started with your key)"
	case errors.Is(err, context.DeadlineExceeded):
		return "the server at " + c.baseURL() + " did not answer in time"
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "could not reach " + c.baseURL() + ": check " + envBaseURL + " and that the server is up"
	}
	return ""
}
