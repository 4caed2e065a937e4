package main

import (
	"context"
	"fmt"
	"strings"

	heliumid "github.com/heliumid/heliumid-go"
)

const listHelp = `Usage: heliumid list [--status S] [--vendor-data V] [--limit N] [--json] [--show-personal-data]

Lists sessions (GET /v1/verifications) as a table, in the server's order,
fetching as many pages as it takes to show up to --limit sessions.

--status takes a status: "not started" (or not_started), started, submitted,
successful, failed, expired, abandoned, review; the API's aliases and
numeric codes work too (completed, cancelled, 2010, ...).

Personal data is handled as by "heliumid get": left out unless you pass
--show-personal-data, which adds NAME, DOB and DOCUMENT columns. Long values
are cut with "…" in the table (vendor data after 32 characters, reasons after
60); "heliumid get" and --json show them whole. With --json the output is a
JSON array of sessions as the API returns them.

Examples:
  heliumid list
  heliumid list --status review --limit 100
  heliumid list --vendor-data user-42 --json
`

// maxListPage is the page size list asks for: the most the API serves.
const maxListPage = 100

// list serves "heliumid list".
func (c *cli) list(ctx context.Context, args []string) int {
	fs := c.newFlagSet("list")
	keyFile := keyFlag(fs)
	status := fs.String("status", "", "only sessions in this `status`")
	vendorData := fs.String("vendor-data", "", "only sessions created with this `vendor data`")
	limit := fs.Int("limit", 20, "show at most `N` sessions")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	showPII := fs.Bool("show-personal-data", false, "include the end-user's personal data (docInfo, doc, selfie)")
	pos, code, done := c.parse(fs, listHelp, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		return c.usageError("list", fmt.Sprintf("unexpected argument %q (list takes flags only)", pos[0]))
	}
	if *limit < 1 {
		return c.usageError("list", fmt.Sprintf("--limit %d: want at least 1", *limit))
	}
	opts := &heliumid.ListVerificationsOptions{VendorData: *vendorData, Limit: min(*limit, maxListPage)}
	if *status != "" {
		st, err := parseStatusFlag(*status)
		if err != nil {
			return c.usageError("list", "--status: "+err.Error())
		}
		opts.Status = st
	}

	client, err := c.client(*keyFile)
	if err != nil {
		return c.fail("list", err)
	}
	defer client.CloseIdleConnections()
	sessions := []*heliumid.Verification{} // [] rather than null in JSON
	anyHidden := false
	for v, err := range client.AllVerifications(ctx, opts) {
		if err != nil {
			return c.fail("list", err)
		}
		v, hidden := withoutPersonalData(v, *showPII)
		anyHidden = anyHidden || hidden
		sessions = append(sessions, v)
		if len(sessions) == *limit {
			break
		}
	}
	if *asJSON {
		err = writeJSON(c.stdout, sessions)
	} else {
		err = writeTable(c.stdout, sessions, *showPII)
	}
	if err != nil {
		return c.fail("list", err)
	}
	if anyHidden {
		fmt.Fprintln(c.stderr, personalDataNote)
	}
	return exitOK
}

// parseStatusFlag reads a status as a user types it: any spelling
// heliumid.ParseStatus knows, but only the canonical statuses.
func parseStatusFlag(s string) (heliumid.Status, error) {
	st := heliumid.ParseStatus(s)
	if !st.IsKnown() {
		return "", fmt.Errorf("unknown status %q; want one of %s", s, strings.Join(statusNames(), ", "))
	}
	return st, nil
}

// statusNames lists the canonical statuses, quoted where they hold a space.
func statusNames() []string {
	all := []heliumid.Status{
		heliumid.StatusNotStarted, heliumid.StatusStarted, heliumid.StatusSubmitted, heliumid.StatusSuccessful,
		heliumid.StatusFailed, heliumid.StatusExpired, heliumid.StatusAbandoned, heliumid.StatusReview,
	}
	names := make([]string, len(all))
	for i, st := range all {
		names[i] = string(st)
		if strings.Contains(names[i], " ") {
			names[i] = fmt.Sprintf("%q", st)
		}
	}
	return names
}
