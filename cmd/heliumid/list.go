package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	heliumid "github.com/heliumid/heliumid-go"
)

const listHelp = `Usage: heliumid list [--status S] [--vendor-data V] [--limit N] [--page P] [--json] [--show-personal-data]

Lists sessions (GET /v1/verifications) as a table, --limit at a time, in the
server's order: Helium ID does not document it ("heliumid fake" lists the
oldest first, so the newest sessions are on the last page). --page P shows
the P-th --limit sessions. When more sessions follow the ones shown, a note
on standard error says which they were, how many there are, and the command
for the next page; to know, list asks for the next page too.

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
  heliumid list --page 2
  heliumid list --status review --limit 100
  heliumid list --vendor-data user-42 --json
`

// maxListPage is the page size list asks for at most: the most the API
// serves.
const maxListPage = 100

// list serves "heliumid list".
func (c *cli) list(ctx context.Context, args []string) int {
	fs := c.newFlagSet("list")
	keyFile := keyFlag(fs)
	status := fs.String("status", "", "only sessions in this `status`")
	vendorData := fs.String("vendor-data", "", "only sessions created with this `vendor data`")
	limit := fs.Int("limit", 20, "show at most `N` sessions")
	pageNum := fs.Int("page", 1, "show the `P`-th --limit sessions")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	showPII := fs.Bool("show-personal-data", false, "include the end-user's personal data (docInfo, doc, selfie)")
	pos, code, done := c.parse(fs, listHelp, args)
	if done {
		return code
	}
	switch {
	case len(pos) > 0:
		return c.usageError("list", fmt.Sprintf("unexpected argument %q (list takes flags only)", pos[0]))
	case *limit < 1:
		return c.usageError("list", fmt.Sprintf("--limit %d: want at least 1", *limit))
	case *pageNum < 1:
		return c.usageError("list", fmt.Sprintf("--page %d: want at least 1", *pageNum))
	case *pageNum-1 > maxListOffset / *limit:
		return c.usageError("list", fmt.Sprintf("--page %d: past any list there is", *pageNum))
	}
	w := listWindow(*pageNum, *limit)
	opts := &heliumid.ListVerificationsOptions{VendorData: *vendorData, Page: w.apiPage, Limit: w.pageSize}
	if w.apiPage == 1 {
		opts.Page = 0 // the server's first page, without a page parameter
	}
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
	skip, more, ended := w.skip, 0, true
walk:
	for v, err := range client.AllVerifications(ctx, opts) {
		if err != nil {
			return c.fail("list", err)
		}
		switch {
		case skip > 0:
			skip--
			continue
		case len(sessions) == *limit:
			// Past the sessions shown: count those that follow, up to a
			// page, to say how many more there are.
			more++
			if more == w.pageSize {
				ended = false
				break walk
			}
			continue
		}
		v, hidden := withoutPersonalData(v, *showPII)
		anyHidden = anyHidden || hidden
		sessions = append(sessions, v)
	}
	if *asJSON {
		err = writeJSON(c.stdout, sessions)
	} else {
		err = writeTable(c.stdout, sessions, *showPII)
	}
	if err != nil {
		return c.fail("list", err)
	}
	if note := w.note(len(sessions), more, ended, nextPageCommand(fs, *pageNum+1)); note != "" {
		fmt.Fprintln(c.stderr, note)
	}
	if anyHidden {
		fmt.Fprintln(c.stderr, personalDataNote)
	}
	return exitOK
}

// maxListOffset bounds how far into the list --page reaches, so that the
// offset arithmetic cannot overflow.
const maxListOffset = 1 << 40

// window is where the sessions list shows lie in the server's list, and
// which pages of the API hold them: pages of --limit sessions when the API
// serves that many at once, else of maxListPage, starting mid-page then.
type window struct {
	first    int // the number, from 1, of the first session shown
	apiPage  int // the API page it is on, from 1
	pageSize int // the API's page size asked for
	skip     int // sessions of apiPage before it
}

func listWindow(page, limit int) window {
	size := min(limit, maxListPage)
	offset := (page - 1) * limit
	return window{first: offset + 1, apiPage: offset/size + 1, pageSize: size, skip: offset % size}
}

// note tells which sessions were shown and how many more follow, when
// that is not simply all of them: shown sessions were listed, more counted
// after them, and ended says whether the list ended there (else there may
// be more than counted). next is the command for the next page.
func (w window) note(shown, more int, ended bool, next string) string {
	last := w.first + shown - 1
	which := fmt.Sprintf("sessions %d–%d", w.first, last)
	if shown == 1 {
		which = fmt.Sprintf("session %d", last)
	}
	switch {
	case shown == 0 && w.first > 1:
		return fmt.Sprintf("no sessions from number %d on: the list ends before", w.first)
	case more == 0 && w.first == 1:
		return "" // all of them
	case more == 0:
		return fmt.Sprintf("%s of %d shown, in the server's order", which, last)
	case ended:
		return fmt.Sprintf("%s of %d shown, in the server's order; the next %d: %s", which, last+more, more, next)
	}
	return fmt.Sprintf("%s of at least %d shown, in the server's order; the next ones: %s", which, last+more, next)
}

// nextPageCommand is the command line that was run, with --page page: the
// flags given, in the order of their names, shell-quoted.
func nextPageCommand(fs *flag.FlagSet, page int) string {
	parts := []string{"heliumid list"}
	fs.Visit(func(f *flag.Flag) {
		b, isBool := f.Value.(interface{ IsBoolFlag() bool })
		switch {
		case f.Name == "page":
		case isBool && b.IsBoolFlag():
			if f.Value.String() == "true" {
				parts = append(parts, "--"+f.Name)
			}
		default:
			parts = append(parts, "--"+f.Name, shellQuote(f.Value.String()))
		}
	})
	return strings.Join(append(parts, "--page", strconv.Itoa(page)), " ")
}

// shellQuote returns s as one word for a POSIX shell: as is when it holds
// only characters no shell treats specially, else in single quotes. It is
// cleaned first: nothing printed reaches the terminal as a control
// character.
func shellQuote(s string) string {
	s = clean(s)
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,:/@%+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
