package pace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/law.json is the control law's one truth: its constants and its
// cases, which the Client's law (here) and the fleet's (redisrate's Lua, in
// redisrate/law_test.go, which reads this file) must both pass. The schema
// is lawTable's; redisrate's test has its own copy of it.

// lawTable is testdata/law.json.
type lawTable struct {
	About                      string             `json:"about"`
	Step                       string             `json:"step"`
	Units                      string             `json:"units"`
	DifferencesOutsideTheCases map[string]string  `json:"differencesOutsideTheCases"`
	Constants                  map[string]float64 `json:"constants"`
	FleetConstants             map[string]float64 `json:"fleetConstants"`
	Differences                map[string]string  `json:"differences"`
	Cases                      []lawCase          `json:"cases"`
}

type lawCase struct {
	Name  string    `json:"name"`
	Steps []lawStep `json:"steps"`
}

// lawStep is what happens at At (ms since the case began), and what the
// law must say then: OK successes and, if Throttled, then a 429, of
// creates sent at Rate (0: not known), the 429's create sent at Sent (ms;
// At when absent) with a pause of Pause ms (0: none). A step with neither
// only looks at the law.
type lawStep struct {
	At        int64    `json:"at"`
	OK        int      `json:"ok"`
	Throttled bool     `json:"throttled"`
	Rate      float64  `json:"rate"`
	Sent      *int64   `json:"sent"`
	Pause     int64    `json:"pause"`
	Want      lawWant  `json:"want"`
	Fleet     *lawWant `json:"fleet"` // where the fleet's law must differ: Differs names how, the fields set say what it says instead
	Why       string   `json:"why"`
}

// lawWant is what the law must say after a step; absent fields are not
// checked. Rates in creates per second, times in ms since the case began.
type lawWant struct {
	Differs string   `json:"differs"`
	Rate    *float64 `json:"rate"` // the law's rate at the step's time
	Hold    *float64 `json:"hold"`
	Ceiling *float64 `json:"ceiling"`
	Epoch   *float64 `json:"epoch"`
	Probe   *float64 `json:"probe"`
	OKRate  *float64 `json:"okRate"`
	AtHold  *bool    `json:"atHold"`
	On      *bool    `json:"on"`
}

func readLawTable(t *testing.T) lawTable {
	t.Helper()
	b, err := os.ReadFile("testdata/law.json")
	require.NoError(t, err)
	var table lawTable
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&table), "testdata/law.json")
	return table
}

// TestLawConstantsAreTheTables: the Go law's constants are the table's.
// A constant changed here and not there (where the fleet's law reads it
// too) fails.
func TestLawConstantsAreTheTables(t *testing.T) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	assert.Equal(t, readLawTable(t).Constants, map[string]float64{
		"backoff":      backoff,
		"jitterMs":     ms(jitter),
		"cutHolding":   cutHolding,
		"sameCeiling":  sameCeiling,
		"firstEpochMs": ms(firstEpoch),
		"maxEpochMs":   ms(maxEpoch),
		"approachMs":   ms(approach),
		"doublingMs":   ms(doubling),
		"minRate":      minRate,
		"maxRate":      maxRate,
	})
}

// TestLawTableIsWellFormed: every step's time follows the last, says what
// to check, and names a declared difference wherever the fleet's answer
// differs (and only there); every difference declared is some case's.
func TestLawTableIsWellFormed(t *testing.T) {
	table := readLawTable(t)
	require.NotEmpty(t, table.Cases)
	used := map[string]bool{}
	names := map[string]bool{}
	for _, c := range table.Cases {
		assert.False(t, names[c.Name], "two cases named %q", c.Name)
		names[c.Name] = true
		var last int64
		for i, s := range c.Steps {
			assert.GreaterOrEqual(t, s.At, last, "%s, step %d: time goes back", c.Name, i)
			last = s.At
			assert.NotEqual(t, lawWant{}, s.Want, "%s, step %d: nothing to check", c.Name, i)
			assert.Empty(t, s.Want.Differs, "%s, step %d: differs belongs in fleet", c.Name, i)
			if s.Sent != nil {
				assert.True(t, s.Throttled && *s.Sent <= s.At, "%s, step %d: sent is a 429's, before it was seen", c.Name, i)
			}
			if s.Fleet == nil {
				continue
			}
			_, declared := table.Differences[s.Fleet.Differs]
			assert.True(t, declared, "%s, step %d: the fleet differs by %q, which differences does not declare", c.Name, i, s.Fleet.Differs)
			used[s.Fleet.Differs] = true
			fleet := s.Want.merge(*s.Fleet)
			fleet.Differs = ""
			assert.NotEqual(t, s.Want, fleet, "%s, step %d: the fleet's answer is the Client's: drop its fleet field", c.Name, i)
		}
	}
	for name := range table.Differences {
		assert.True(t, used[name], "difference %q is no case's", name)
	}
}

// TestTheLawPassesItsCases runs every case of testdata/law.json against
// the Client's law: law.step, from the zero law.
func TestTheLawPassesItsCases(t *testing.T) {
	for _, c := range readLawTable(t).Cases {
		t.Run(c.Name, func(t *testing.T) {
			start := time.UnixMilli(1_700_000_000_000)
			at := func(ms int64) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
			var l law
			for i, s := range c.Steps {
				now := at(s.At)
				for range s.OK {
					l = l.step(outcome{rate: s.Rate, sentAt: now}, now)
				}
				if s.Throttled {
					o := outcome{throttled: true, rate: s.Rate, sentAt: now}
					if s.Sent != nil {
						o.sentAt = at(*s.Sent)
					}
					if s.Pause > 0 {
						o.pausedUntil = now.Add(time.Duration(s.Pause) * time.Millisecond)
					}
					l = l.step(o, now)
				}
				got := lawSays{
					rate: l.rateAt(now), hold: l.hold, ceiling: l.ceiling,
					epoch: float64(l.epoch) / float64(time.Millisecond),
					probe: float64(l.probeAt.Sub(start)) / float64(time.Millisecond),
					ok:    l.okRate, atHold: l.atHold, on: l.on,
				}
				got.check(t, s.Want, "step %d (at %d ms; %s)", i, s.At, s.Why)
			}
		})
	}
}

// lawSays is what a law says after a step, in the table's units.
type lawSays struct {
	rate, hold, ceiling, epoch, probe, ok float64
	atHold, on                            bool
}

func (got lawSays) check(t *testing.T, want lawWant, msg string, args ...any) {
	t.Helper()
	near := func(name string, w *float64, g float64) {
		if w != nil && math.Abs(g-*w) > 1e-8*max(1, math.Abs(*w)) {
			t.Errorf("%s: %s %v, want %v", fmt.Sprintf(msg, args...), name, g, *w)
		}
	}
	near("rate", want.Rate, got.rate)
	near("hold", want.Hold, got.hold)
	near("ceiling", want.Ceiling, got.ceiling)
	near("epoch", want.Epoch, got.epoch)
	near("probe", want.Probe, got.probe)
	near("okRate", want.OKRate, got.ok)
	if want.AtHold != nil && *want.AtHold != got.atHold {
		t.Errorf("%s: atHold %v, want %v", fmt.Sprintf(msg, args...), got.atHold, *want.AtHold)
	}
	if want.On != nil && *want.On != got.on {
		t.Errorf("%s: on %v, want %v", fmt.Sprintf(msg, args...), got.on, *want.On)
	}
}

// merge returns w with the fields that o sets taken from o.
func (w lawWant) merge(o lawWant) lawWant {
	w.Differs = o.Differs
	for _, f := range []struct{ dst, src **float64 }{
		{&w.Rate, &o.Rate}, {&w.Hold, &o.Hold}, {&w.Ceiling, &o.Ceiling},
		{&w.Epoch, &o.Epoch}, {&w.Probe, &o.Probe}, {&w.OKRate, &o.OKRate},
	} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	if o.AtHold != nil {
		w.AtHold = o.AtHold
	}
	if o.On != nil {
		w.On = o.On
	}
	return w
}
