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

// String describes v without personal data: the document, selfie, document
// info, VendorData, Meta and Extra are replaced by one marker. It is what
// %v and %+v print.
func (v Verification) String() string {
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

// GoString is what %#v prints: the same redacted description.
func (v Verification) GoString() string { return "heliumid." + v.String() }

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

// String hides the image key and URL: they lead to a person's photo.
func (Media) String() string { return "Media{" + redacted + "}" }

// GoString hides the image key and URL.
func (m Media) GoString() string { return "heliumid." + m.String() }

// LogValue makes slog log a marker instead of the image key and URL.
func (Media) LogValue() slog.Value { return slog.StringValue(redacted) }

// String hides the document's details.
func (Document) String() string { return "Document{" + redacted + "}" }

// GoString hides the document's details.
func (d Document) GoString() string { return "heliumid." + d.String() }

// LogValue makes slog log a marker instead of the document's details.
func (Document) LogValue() slog.Value { return slog.StringValue(redacted) }

// String hides what was read off the document.
func (DocumentInfo) String() string { return "DocumentInfo{" + redacted + "}" }

// GoString hides what was read off the document.
func (d DocumentInfo) GoString() string { return "heliumid." + d.String() }

// LogValue makes slog log a marker instead of what was read off the document.
func (DocumentInfo) LogValue() slog.Value { return slog.StringValue(redacted) }

// printRedacted is the Format method of every type that holds personal
// data: fmt's fallback for a verb other than %v and %s (%d, %x, %q, ...)
// prints a struct's fields one by one, so without it "%x" of a Verification
// would print the document number in hex. Every verb prints the redacted
// String; %#v prints GoString.
func printRedacted(f fmt.State, verb rune, s interface {
	String() string
	GoString() string
}) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, s.String())
}

// Format prints v without personal data, whatever the verb (see String).
func (v Verification) Format(f fmt.State, verb rune) { printRedacted(f, verb, v) }

// Format prints a marker instead of the image key and URL, whatever the verb.
func (m Media) Format(f fmt.State, verb rune) { printRedacted(f, verb, m) }

// Format prints a marker instead of the document's details, whatever the verb.
func (d Document) Format(f fmt.State, verb rune) { printRedacted(f, verb, d) }

// String hides the image keys or URLs of a document's sides.
func (DocumentSides) String() string { return "DocumentSides{" + redacted + "}" }

// GoString hides the image keys or URLs of a document's sides.
func (s DocumentSides) GoString() string { return "heliumid." + s.String() }

// Format prints a marker instead of the image keys or URLs, whatever the verb.
func (s DocumentSides) Format(f fmt.State, verb rune) { printRedacted(f, verb, s) }

// LogValue makes slog log a marker instead of the image keys or URLs.
func (DocumentSides) LogValue() slog.Value { return slog.StringValue(redacted) }

// Format prints a marker instead of what was read off the document, whatever
// the verb.
func (d DocumentInfo) Format(f fmt.State, verb rune) { printRedacted(f, verb, d) }
