package heliumid

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logRecorder is a slog handler that keeps every record as a flat map.
type logRecorder struct {
	mu      sync.Mutex
	records []map[string]any
	buf     bytes.Buffer
}

func newLogRecorder() (*logRecorder, *slog.Logger) {
	r := &logRecorder{}
	return r, slog.New(r)
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]any{"level": rec.Level.String(), "msg": rec.Message}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.Resolve().Any()
		return true
	})
	r.records = append(r.records, m)
	fmt.Fprintf(&r.buf, "%v\n", m)
	return nil
}

func (r *logRecorder) all() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.records...)
}

func (r *logRecorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

func TestLoggingRecordsEveryAttemptWithoutSecrets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, logger := newLogRecorder()
		c, api := newFakeClient(t, WithLogger(logger))
		api.otherwise(sequence(
			respond(503, errEnvelope(503, "maintenance"), "X-Request-Id", "r-1"),
			respond(200, okEnvelope(fullVerification), "X-Request-Id", "r-2"),
		))
		v, err := c.GetVerification(context.Background(), "ver_123")
		require.NoError(t, err)
		slog.New(rec).Info("app logs the session", "verification", v) // users log what they get

		records := rec.all()
		require.Len(t, records, 4)
		assert.Equal(t, "DEBUG", records[0]["level"])
		assert.Equal(t, "GET", records[0]["method"])
		assert.Equal(t, "/v1/verifications/ver_123", records[0]["path"])
		assert.EqualValues(t, 503, records[0]["status"])
		assert.EqualValues(t, 1, records[0]["attempt"])
		assert.Equal(t, "r-1", records[0]["request_id"])
		assert.Contains(t, records[0], "duration")

		assert.Equal(t, "WARN", records[1]["level"])
		assert.Equal(t, "heliumid: retrying", records[1]["msg"])
		assert.Contains(t, records[1]["error"], "maintenance")
		assert.EqualValues(t, 503, records[1]["status"], "so callers can count what the SDK waited out")
		assert.Contains(t, records[1], "wait")

		assert.Equal(t, "DEBUG", records[2]["level"])
		assert.EqualValues(t, 2, records[2]["attempt"])
		assert.EqualValues(t, 200, records[2]["status"])

		all := rec.text()
		for _, secret := range []string{testKey, "JANE", "DOE", "X1234567", "1990-05-06", "cdn.heliumid.io", "user-42"} {
			assert.NotContains(t, all, secret)
		}
		assert.Contains(t, all, "ver_123")
		assert.Contains(t, all, "[REDACTED]")
	})
}

func TestLoggingWarnsWhenGivingUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, logger := newLogRecorder()
		c, api := newFakeClient(t, WithLogger(logger), WithMaxRetries(1))
		api.otherwise(respond(500, errEnvelope(500, "boom")))
		_, err := c.CreateVerification(context.Background(), &CreateVerificationRequest{VendorData: "user-42"})
		require.Error(t, err)
		_, err = c.GetVerification(context.Background(), "v")
		require.Error(t, err)
		var msgs []string
		for _, r := range rec.all() {
			if r["level"] == "WARN" {
				msgs = append(msgs, r["msg"].(string))
			}
		}
		assert.Equal(t, []string{"heliumid: retrying", "heliumid: giving up"}, msgs, "a create 500 is not retried, so nothing to warn about there")
		assert.NotContains(t, rec.text(), "user-42", "request bodies are never logged")
	})
}

// refusingHandler has every level disabled and fails the test if it is
// handed a record anyway.
type refusingHandler struct {
	t       *testing.T
	enabled atomic.Int32
}

func (h *refusingHandler) Enabled(context.Context, slog.Level) bool {
	h.enabled.Add(1)
	return false
}
func (h *refusingHandler) Handle(context.Context, slog.Record) error {
	h.t.Error("a disabled logger was handed a record")
	return nil
}
func (h *refusingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *refusingHandler) WithGroup(string) slog.Handler      { return h }

func TestADisabledLoggerCostsNothing(t *testing.T) {
	c, api := newFakeClient(t)
	api.otherwise(respond(200, okEnvelope(`{"id":"v","status":"started"}`)))
	allocs := testing.AllocsPerRun(50, func() {
		_, _ = c.GetVerification(context.Background(), "v")
	})

	h := &refusingHandler{t: t}
	c2, api2 := newFakeClient(t, WithLogger(slog.New(h)))
	api2.otherwise(respond(200, okEnvelope(`{"id":"v","status":"started"}`)))
	allocsDisabled := testing.AllocsPerRun(50, func() {
		_, _ = c2.GetVerification(context.Background(), "v")
	})
	assert.Positive(t, h.enabled.Load(), "the client asks before it builds a record")
	// sync.Pool may drop a buffer between runs, costing one allocation
	// either side (and a few under -race, which drops at random).
	assert.InDelta(t, allocs, allocsDisabled, poolSlack(1), "a logger with debug disabled costs nothing per request")
}

func TestVerificationPrintsWithoutPersonalData(t *testing.T) {
	var v Verification
	require.NoError(t, json.Unmarshal([]byte(fullVerification), &v))
	pii := []string{"JANE", "DOE", "X1234567", "1990-05-06", "cdn.heliumid.io", "selfies/", "docs/f.jpg", "user-42", "passport", "HIDDEN LANE", "ignored"}
	require.NotEmpty(t, v.Extra)
	onlyExtra := Verification{ID: "x", Extra: v.Extra}
	ev := &WebhookEvent{Event: EventVerificationStatus, Data: &onlyExtra}
	var buf, text bytes.Buffer
	jsonLogger := slog.New(slog.NewJSONHandler(&buf, nil))
	jsonLogger.Info("x", "v", v, "pv", &v, "doc", v.Document, "info", v.DocumentInfo, "selfie", v.Selfie, "info2", *v.DocumentInfo,
		"extra", onlyExtra, "event", ev)
	slog.New(slog.NewTextHandler(&text, nil)).Info("x", "v", &v, "extra", &onlyExtra, "event", *ev)
	outputs := map[string]string{"slog JSON": buf.String(), "slog text": text.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		outputs[verb] = fmt.Sprintf(verb, v) + fmt.Sprintf(verb, &v) + fmt.Sprintf(verb, v.DocumentInfo) +
			fmt.Sprintf(verb, *v.Document) + fmt.Sprintf(verb, v.Selfie) + fmt.Sprintf(verb, []*Verification{&v})
	}
	for name, out := range outputs {
		for _, secret := range pii {
			assert.NotContains(t, out, secret, name)
		}
		assert.Contains(t, out, "REDACTED", name)
	}
	assert.Equal(t, "Verification{ID: ver_123, Status: successful (2010), Method: auto, CreatedAt: 2026-11-01T10:00:00Z, UpdatedAt: 2026-11-01T10:05:30+01:00, personal data: [REDACTED]}", fmt.Sprint(v))
	assert.True(t, strings.HasPrefix(fmt.Sprintf("%#v", v), "heliumid.Verification{"))

	// JSON keeps everything: it is how users store what they received.
	b, err := json.Marshal(v)
	require.NoError(t, err)
	for _, secret := range []string{"JANE", "X1234567", "user-42"} {
		assert.Contains(t, string(b), secret)
	}
	var back Verification
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, v, back, "a Verification survives a JSON round trip")

	bare := Verification{ID: "v", Status: StatusFailed, Reason: "document expired"}
	assert.Equal(t, "Verification{ID: v, Status: failed, Reason: document expired}", fmt.Sprint(bare))
	var plain bytes.Buffer
	slog.New(slog.NewTextHandler(&plain, nil)).Info("x", "v", bare)
	assert.NotContains(t, plain.String(), "personal_data")
}
