package heliumid

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allStatuses = []Status{StatusNotStarted, StatusStarted, StatusSubmitted, StatusSuccessful,
	StatusFailed, StatusExpired, StatusAbandoned, StatusReview}

func TestParseStatus(t *testing.T) {
	tests := map[string]Status{
		"not started":  StatusNotStarted,
		"Not Started":  StatusNotStarted,
		" not started": StatusNotStarted,
		"not_started":  StatusNotStarted,
		"NOT_STARTED":  StatusNotStarted,
		"created":      StatusNotStarted,
		"started":      StatusStarted,
		"submitted":    StatusSubmitted,
		"completed":    StatusSubmitted,
		"Completed":    StatusSubmitted,
		"successful":   StatusSuccessful,
		"SUCCESSFUL":   StatusSuccessful,
		"failed":       StatusFailed,
		"expired":      StatusExpired,
		"cancelled":    StatusExpired,
		"canceled":     StatusExpired,
		"abandoned":    StatusAbandoned,
		"review":       StatusReview,
		"2010":         StatusSuccessful,
		"1001":         StatusNotStarted,
		// Unknown values are kept verbatim, never an error.
		"":                   "",
		"escalated":          "escalated",
		"  Escalated ":       "  Escalated ",
		"9999":               "9999",
		"successful-ish":     "successful-ish",
		"not\x00started":     "not\x00started",
		"ﬁnished (ligature)": "ﬁnished (ligature)",
	}
	for in, want := range tests {
		assert.Equal(t, want, ParseStatus(in), "ParseStatus(%q)", in)
	}
}

func TestStatusCodes(t *testing.T) {
	codes := map[int]Status{1001: StatusNotStarted, 2000: StatusStarted, 2001: StatusSubmitted,
		2010: StatusSuccessful, 3033: StatusAbandoned, 4100: StatusFailed, 5000: StatusExpired}
	for code, want := range codes {
		got, ok := StatusFromCode(code)
		assert.True(t, ok, code)
		assert.Equal(t, want, got, code)
		back, ok := want.Code()
		assert.True(t, ok)
		assert.Equal(t, code, back, "Code() must invert StatusFromCode for %s", want)
	}
	for _, code := range []int{0, -1, 1000, 2002, 9999} {
		_, ok := StatusFromCode(code)
		assert.False(t, ok, code)
	}
	_, ok := StatusReview.Code()
	assert.False(t, ok, "review has no documented code")
	_, ok = Status("escalated").Code()
	assert.False(t, ok)
}

func TestStatusPredicates(t *testing.T) {
	terminal := map[Status]bool{StatusSuccessful: true, StatusFailed: true, StatusExpired: true, StatusAbandoned: true}
	for _, s := range allStatuses {
		assert.True(t, s.IsKnown(), s)
		assert.Equal(t, terminal[s], s.IsTerminal(), s)
		assert.Equal(t, terminal[s] || s == StatusReview, s.IsDecided(), s)
	}
	for _, s := range []Status{"", "escalated", "Successful"} {
		assert.False(t, s.IsKnown(), s)
		assert.False(t, s.IsTerminal(), s)
		assert.False(t, s.IsDecided(), s)
	}
}

// TestTransitionMatrix checks every (from, to) pair of the lifecycle,
// including unknown statuses on either side.
func TestTransitionMatrix(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusNotStarted, StatusStarted}:   true,
		{StatusNotStarted, StatusExpired}:   true,
		{StatusStarted, StatusSubmitted}:    true,
		{StatusStarted, StatusAbandoned}:    true,
		{StatusSubmitted, StatusSuccessful}: true,
		{StatusSubmitted, StatusFailed}:     true,
		{StatusSubmitted, StatusReview}:     true,
		{StatusReview, StatusSuccessful}:    true,
		{StatusReview, StatusFailed}:        true,
	}
	everything := append(append([]Status{}, allStatuses...), "", "escalated")
	for _, from := range everything {
		for _, to := range everything {
			assert.Equal(t, allowed[[2]Status{from, to}], from.CanTransitionTo(to), "%q -> %q", from, to)
		}
	}
}

func TestOnExpiry(t *testing.T) {
	next, ok := StatusNotStarted.OnExpiry()
	assert.True(t, ok)
	assert.Equal(t, StatusExpired, next)
	next, ok = StatusStarted.OnExpiry()
	assert.True(t, ok)
	assert.Equal(t, StatusAbandoned, next)
	for _, s := range []Status{StatusSubmitted, StatusReview, StatusSuccessful, StatusFailed, StatusExpired, StatusAbandoned, "escalated"} {
		next, ok := s.OnExpiry()
		assert.False(t, ok, s)
		assert.Empty(t, next, s)
	}
}

func TestStatusJSON(t *testing.T) {
	tests := map[string]Status{
		`"successful"`:   StatusSuccessful,
		`"Completed"`:    StatusSubmitted,
		`"created"`:      StatusNotStarted,
		`"escalated"`:    "escalated",
		`"\u0073tarted"`: StatusStarted,
		`2010`:           StatusSuccessful,
		`4100`:           StatusFailed,
		`7777`:           "7777",
		`-1`:             "-1",
		`1e3`:            "1e3",
		`null`:           "",
		` "review" `:     StatusReview,
	}
	for in, want := range tests {
		var s Status
		require.NoError(t, json.Unmarshal([]byte(in), &s), in)
		assert.Equal(t, want, s, in)
	}
	for _, in := range []string{`true`, `{}`, `["successful"]`} {
		var s Status
		assert.Error(t, json.Unmarshal([]byte(in), &s), in)
	}
	// Marshalling writes the canonical text, so a round trip is stable.
	b, err := json.Marshal(StatusNotStarted)
	require.NoError(t, err)
	assert.JSONEq(t, `"not started"`, string(b))
}
