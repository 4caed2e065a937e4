package heliumid

import (
	"fmt"
	"log/slog"
	"strings"
)

// webhookTimeLayout prints the signing time to the millisecond, the
// precision of Webhook-Timestamp.
const webhookTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// describe is ev without personal data: Data is printed through
// Verification's redaction, and Raw, the whole body, is replaced by a marker.
// It is what every fmt verb prints (see Format).
func (ev WebhookEvent) describe() string {
	var b strings.Builder
	b.WriteString("WebhookEvent{Event: ")
	b.WriteString(ev.Event)
	if !ev.Timestamp.IsZero() {
		b.WriteString(", Timestamp: ")
		b.WriteString(ev.Timestamp.Format(webhookTimeLayout))
	}
	b.WriteString(", Data: ")
	if ev.Data == nil {
		b.WriteString("<nil>")
	} else {
		b.WriteString(ev.Data.describe())
	}
	if len(ev.Raw) > 0 {
		b.WriteString(", Raw: " + redacted)
	}
	b.WriteByte('}')
	return b.String()
}

// LogValue makes slog log ev without personal data: the event name, the
// signing time and the session's redacted LogValue; never Raw.
func (ev WebhookEvent) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 3)
	attrs = append(attrs, slog.String("event", ev.Event))
	if !ev.Timestamp.IsZero() {
		attrs = append(attrs, slog.Time("timestamp", ev.Timestamp))
	}
	if ev.Data != nil {
		attrs = append(attrs, slog.Attr{Key: "verification", Value: ev.Data.LogValue()})
	}
	return slog.GroupValue(attrs...)
}

// Format prints ev without personal data, whatever the verb: Data through
// Verification's redaction, and a marker instead of Raw, the whole body.
func (ev WebhookEvent) Format(f fmt.State, verb rune) { printRedacted(f, verb, ev) }
