package heliumid

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// redacted stands in for personal data in every printed or logged form.
const redacted = "[REDACTED]"

// describe is v without personal data: the document, selfie, document
// info, VendorData, Meta and Extra are replaced by one marker. It is what
// every fmt verb prints (see Format).
func (v Verification) describe() string {
	var b strings.Builder
	b.WriteString("Verification{ID: ")
	b.WriteString(v.ID)
	b.WriteString(", Status: ")
	b.WriteString(string(v.Status))
	if v.StatusCode != 0 {
		fmt.Fprintf(&b, " (%d)", v.StatusCode)
	}
	if v.Method != "" {
		b.WriteString(", Method: ")
		b.WriteString(string(v.Method))
	}
	if !v.CreatedAt.IsZero() {
		b.WriteString(", CreatedAt: ")
		b.WriteString(v.CreatedAt.Format(time.RFC3339))
	}
	if !v.UpdatedAt.IsZero() {
		b.WriteString(", UpdatedAt: ")
		b.WriteString(v.UpdatedAt.Format(time.RFC3339))
	}
	if v.Reason != "" {
		b.WriteString(", Reason: ")
		b.WriteString(v.Reason)
	}
	if v.hasPersonalData() {
		b.WriteString(", personal data: " + redacted)
	}
	b.WriteByte('}')
	return b.String()
}

// LogValue makes slog log v without personal data.
func (v Verification) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("id", v.ID), slog.String("status", string(v.Status)))
	if v.StatusCode != 0 {
		attrs = append(attrs, slog.Int("status_code", v.StatusCode))
	}
	if v.Method != "" {
		attrs = append(attrs, slog.String("method", string(v.Method)))
	}
	if !v.CreatedAt.IsZero() {
		attrs = append(attrs, slog.Time("created_at", v.CreatedAt))
	}
	if !v.UpdatedAt.IsZero() {
		attrs = append(attrs, slog.Time("updated_at", v.UpdatedAt))
	}
	if v.Reason != "" {
		attrs = append(attrs, slog.String("reason", v.Reason))
	}
	if v.hasPersonalData() {
		attrs = append(attrs, slog.String("personal_data", redacted))
	}
	return slog.GroupValue(attrs...)
}

func (v Verification) hasPersonalData() bool {
	return v.Selfie != nil || v.Document != nil || v.DocumentInfo != nil || v.VendorData != "" || len(v.Meta) > 0 || len(v.Extra) > 0
}

// describe hides the image key and URL: they lead to a person's photo.
func (Media) describe() string { return "Media{" + redacted + "}" }

// LogValue makes slog log a marker instead of the image key and URL.
func (Media) LogValue() slog.Value { return slog.StringValue(redacted) }

// describe hides the document's details.
func (Document) describe() string { return "Document{" + redacted + "}" }

// LogValue makes slog log a marker instead of the document's details.
func (Document) LogValue() slog.Value { return slog.StringValue(redacted) }

// describe hides what was read off the document.
func (DocumentInfo) describe() string { return "DocumentInfo{" + redacted + "}" }

// LogValue makes slog log a marker instead of what was read off the document.
func (DocumentInfo) LogValue() slog.Value { return slog.StringValue(redacted) }

// printRedacted is the Format method of every type that holds personal
// data. fmt calls Format for every verb, so Format alone decides what is
// printed: without it, fmt's fallback for a verb other than %v and %s (%d,
// %x, %q, ...) would print a struct's fields one by one, "%x" of a
// Verification the document number in hex. Every verb prints the redacted
// description; %#v prefixes it with the package name, as Go syntax would.
func printRedacted(f fmt.State, verb rune, s interface{ describe() string }) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, "heliumid.")
	}
	io.WriteString(f, s.describe())
}

// Format prints v without personal data, whatever the verb: its ID,
// status, method, times and reason, and one marker for all its personal
// data (the document, selfie, document info, VendorData, Meta and Extra).
func (v Verification) Format(f fmt.State, verb rune) { printRedacted(f, verb, v) }

// Format prints a marker instead of the image key and URL, whatever the verb.
func (m Media) Format(f fmt.State, verb rune) { printRedacted(f, verb, m) }

// Format prints a marker instead of the document's details, whatever the verb.
func (d Document) Format(f fmt.State, verb rune) { printRedacted(f, verb, d) }

// describe hides the image keys or URLs of a document's sides.
func (DocumentSides) describe() string { return "DocumentSides{" + redacted + "}" }

// Format prints a marker instead of the image keys or URLs, whatever the verb.
func (s DocumentSides) Format(f fmt.State, verb rune) { printRedacted(f, verb, s) }

// LogValue makes slog log a marker instead of the image keys or URLs.
func (DocumentSides) LogValue() slog.Value { return slog.StringValue(redacted) }

// Format prints a marker instead of what was read off the document, whatever
// the verb.
func (d DocumentInfo) Format(f fmt.State, verb rune) { printRedacted(f, verb, d) }
