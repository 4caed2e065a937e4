package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/internal/safetext"
)

// personalDataNote tells where the hidden personal data went.
const personalDataNote = "personal data (docInfo, doc, selfie) hidden: pass --show-personal-data to show it"

// withoutPersonalData returns a copy of v without the end-user's personal
// data (selfie, doc, docInfo) unless show is set, and whether it removed
// any. VendorData and Meta stay: they are what the integration itself sent.
func withoutPersonalData(v *heliumid.Verification, show bool) (out *heliumid.Verification, hidden bool) {
	cp := *v
	if show {
		return &cp, false
	}
	hidden = cp.Selfie != nil || cp.Document != nil || cp.DocumentInfo != nil
	cp.Selfie, cp.Document, cp.DocumentInfo = nil, nil, nil
	return &cp, hidden
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// clean makes text from the server safe to print on a terminal, as the SDK
// makes it safe for an error message: no control characters (escape
// sequences, newlines, tabs that would break a table), whitespace collapsed.
func clean(s string) string {
	return safetext.Clean([]byte(s))
}

// orDash is s, cleaned, or "-" when empty, for a table cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return clean(s)
}

// formatTime prints t in UTC to the second, or "-" when unknown.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// formatStatus prints a status with its numeric code, "successful (2010)".
func formatStatus(v *heliumid.Verification) string {
	s := orDash(string(v.Status))
	code := v.StatusCode
	if code == 0 {
		code, _ = v.Status.Code()
	}
	if code != 0 {
		s += " (" + strconv.Itoa(code) + ")"
	}
	return s
}

// formatMeta prints meta as sorted key=value pairs; values that are not
// strings are printed as JSON.
func formatMeta(meta map[string]any) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		val, ok := meta[k].(string)
		if !ok {
			b, _ := json.Marshal(meta[k])
			val = string(b)
		}
		pairs[i] = clean(k) + "=" + clean(val)
	}
	return strings.Join(pairs, " ")
}

// writeSession prints one session, as get and decide do: its details, or
// JSON, without personal data unless show (saying so on standard error).
func (c *cli) writeSession(v *heliumid.Verification, asJSON, show bool) error {
	v, hidden := withoutPersonalData(v, show)
	if !asJSON {
		return writeDetails(c.stdout, v, hidden)
	}
	err := writeJSON(c.stdout, v)
	if err == nil && hidden {
		fmt.Fprintln(c.stderr, personalDataNote)
	}
	return err
}

// writeDetails prints one session as a two-column list: what "heliumid
// get" shows. Personal data is printed only when v still carries it (see
// withoutPersonalData); hidden adds a line saying it was left out.
func writeDetails(w io.Writer, v *heliumid.Verification, hidden bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, val string) { fmt.Fprintf(tw, "%s\t%s\n", k, val) }
	row("ID", orDash(v.ID))
	row("Status", formatStatus(v))
	row("Method", orDash(string(v.Method)))
	row("Vendor data", orDash(v.VendorData))
	if len(v.Meta) > 0 {
		row("Meta", formatMeta(v.Meta))
	}
	row("Created", formatTime(v.CreatedAt))
	row("Updated", formatTime(v.UpdatedAt))
	if !v.Status.IsDecided() && !v.CreatedAt.IsZero() {
		row("Expires", formatTime(v.ExpiresAt()))
	}
	if v.Reason != "" {
		row("Reason", clean(v.Reason))
	}
	for _, f := range personalFields(v) {
		row(f[0], orDash(f[1]))
	}
	if hidden {
		row("Personal data", "hidden: pass --show-personal-data to show it")
	}
	return tw.Flush()
}

// personalFields lists the personal data v carries, by JSON name, leaving
// out empty values.
func personalFields(v *heliumid.Verification) [][2]string {
	var out [][2]string
	add := func(k, val string) {
		if val != "" {
			out = append(out, [2]string{k, val})
		}
	}
	if d := v.DocumentInfo; d != nil {
		add("docInfo.docType", d.DocType)
		add("docInfo.docNumber", d.DocNumber)
		add("docInfo.issuingState", d.IssuingState)
		add("docInfo.issueDate", d.IssueDate)
		add("docInfo.expiryDate", d.ExpiryDate)
		add("docInfo.firstName", d.FirstName)
		add("docInfo.middleName", d.MiddleName)
		add("docInfo.lastName", d.LastName)
		add("docInfo.dob", d.DOB)
		add("docInfo.sex", d.Sex)
	}
	if d := v.Document; d != nil {
		add("doc.type", d.Type)
		add("doc.name", d.Name)
		add("doc.issuingState", d.IssuingState)
		add("doc.key.front", d.Key.Front)
		add("doc.key.back", d.Key.Back)
		add("doc.url.front", d.URL.Front)
		add("doc.url.back", d.URL.Back)
	}
	if s := v.Selfie; s != nil {
		add("selfie.key", s.Key)
		add("selfie.url", s.URL)
	}
	return out
}

// Widths, in characters, beyond which a table cell is cut with "…": one
// long value (a 100 KB vendor data) must not make every row that wide, as
// the table pads each column to its widest cell. "heliumid get" and --json
// show values whole.
const (
	maxIDCell     = 40 // a UUID is 36
	maxShortCell  = 20 // status, method, date of birth
	maxTextCell   = 32 // vendor data, name, document
	maxReasonCell = 60
)

// cell is s for a table cell: cleaned, "-" when empty, cut to max
// characters with "…" when longer.
func cell(s string, max int) string {
	s = orDash(s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// writeTable prints sessions as a table, one per line: what "heliumid list"
// shows. Long cells are cut (see cell). With personal set, it adds the name, date of birth and document of
// each session that carries them.
func writeTable(w io.Writer, vs []*heliumid.Verification, personal bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "ID\tSTATUS\tCODE\tMETHOD\tVENDOR DATA\tCREATED\tUPDATED\tREASON"
	if personal {
		header += "\tNAME\tDOB\tDOCUMENT"
	}
	fmt.Fprintln(tw, header)
	for _, v := range vs {
		code := "-"
		if v.StatusCode != 0 {
			code = strconv.Itoa(v.StatusCode)
		}
		line := strings.Join([]string{cell(v.ID, maxIDCell), cell(string(v.Status), maxShortCell), code, cell(string(v.Method), maxShortCell),
			cell(v.VendorData, maxTextCell), formatTime(v.CreatedAt), formatTime(v.UpdatedAt), cell(v.Reason, maxReasonCell)}, "\t")
		if personal {
			name, dob, doc := "", "", ""
			if d := v.DocumentInfo; d != nil {
				name = joinNonEmpty(d.FirstName, d.MiddleName, d.LastName)
				dob = d.DOB
				doc = joinNonEmpty(d.DocType, d.DocNumber, d.IssuingState)
			}
			line += "\t" + strings.Join([]string{cell(name, maxTextCell), cell(dob, maxShortCell), cell(doc, maxTextCell)}, "\t")
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}
