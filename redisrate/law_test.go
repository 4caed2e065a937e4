package redisrate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go/redisrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The control law's one truth is the core's table, lawTablePath: its
// constants and its cases, which the Client's law (internal/pace) passes in
// the core's tests and the fleet's (adaptScript, on a real redis-server)
// here. The table is read as a file of the repository, not imported: the
// modules are released apart, and no module imports another's internal
// packages. Its schema is internal/pace/law_test.go's; this is a copy.
var lawTablePath = filepath.Join("..", "internal", "pace", "testdata", "law.json")

type lawTable struct {
	About                      string             `json:"about"`
	Step                       string             `json:"step"`
	Units                      string             `json:"units"`
	Constants                  map[string]float64 `json:"constants"`
	FleetConstants             map[string]float64 `json:"fleetConstants"`
	Differences                map[string]string  `json:"differences"`
	DifferencesOutsideTheCases map[string]string  `json:"differencesOutsideTheCases"`
	Cases                      []struct {
		Name  string    `json:"name"`
		Steps []lawStep `json:"steps"`
	} `json:"cases"`
}

// lawStep: see internal/pace/law_test.go. The fleet does not know when a
// create was sent, so it ignores Sent.
type lawStep struct {
	At        int64    `json:"at"`
	OK        int64    `json:"ok"`
	Throttled bool     `json:"throttled"`
	Rate      float64  `json:"rate"`
	Sent      *int64   `json:"sent"`
	Pause     int64    `json:"pause"`
	Want      lawWant  `json:"want"`
	Fleet     *lawWant `json:"fleet"`
	Why       string   `json:"why"`
}

type lawWant struct {
	Differs string   `json:"differs"`
	Rate    *float64 `json:"rate"`
	Hold    *float64 `json:"hold"`
	Ceiling *float64 `json:"ceiling"`
	Epoch   *float64 `json:"epoch"`
	Probe   *float64 `json:"probe"`
	OKRate  *float64 `json:"okRate"`
	AtHold  *bool    `json:"atHold"`
	On      *bool    `json:"on"`
}

// fleet is what the fleet's law must say: Want, with what Fleet sets
// (where the fleet differs, by the name it gives) instead.
func (s lawStep) fleet() lawWant {
	w := s.Want
	if f := s.Fleet; f != nil {
		w.Differs = f.Differs
		for _, p := range []struct{ dst, src **float64 }{
			{&w.Rate, &f.Rate}, {&w.Hold, &f.Hold}, {&w.Ceiling, &f.Ceiling},
			{&w.Epoch, &f.Epoch}, {&w.Probe, &f.Probe}, {&w.OKRate, &f.OKRate},
		} {
			if *p.src != nil {
				*p.dst = *p.src
			}
		}
		if f.AtHold != nil {
			w.AtHold = f.AtHold
		}
		if f.On != nil {
			w.On = f.On
		}
	}
	return w
}

// readLawTable reads the core's law table. Outside the repository (this
// module's tests run from the module cache) there is none: the test is
// skipped, or fails when CI is set.
func readLawTable(t *testing.T) lawTable {
	t.Helper()
	b, err := os.ReadFile(lawTablePath)
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("CI") != "true" {
		t.Skipf("the core's law table %s is not here (outside the repository?): %v", lawTablePath, err)
	}
	require.NoError(t, err)
	var table lawTable
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&table), lawTablePath)
	require.NotEmpty(t, table.Cases)
	return table
}

// TestTheFleetsLawHasTheTablesConstants: the constants the fleet's script
// is given are the table's (all but maxRate, whose place the configured
// Limit takes), and the fleet's own. A constant changed in one runtime and
// not in the table fails here or in the core.
func TestTheFleetsLawHasTheTablesConstants(t *testing.T) {
	table := readLawTable(t)
	want := maps.Clone(table.Constants)
	require.Contains(t, want, "maxRate")
	delete(want, "maxRate")
	maps.Copy(want, table.FleetConstants)
	assert.Equal(t, want, redisrate.LawConstants())
}

// TestTheFleetsLawPassesTheLawCases runs every case of the core's law
// table against the fleet's law, adaptScript on a real redis-server, on
// the case's clock, with a configured Limit of maxRate; where the table
// says the fleet differs, it checks the fleet's own answer.
func TestTheFleetsLawPassesTheLawCases(t *testing.T) {
	table := readLawTable(t)
	rdb := startRedis(t).client(t)
	start := time.UnixMilli(1_700_000_000_000)
	for n, c := range table.Cases {
		t.Run(c.Name, func(t *testing.T) {
			key := "heliumid:adaptive:law-case-" + strconv.Itoa(n)
			for i, s := range c.Steps {
				now := start.Add(time.Duration(s.At) * time.Millisecond)
				rate, err := redisrate.StepLaw(t.Context(), rdb, key, redisrate.LawReport{
					Now: now, OK: s.OK, Throttled: s.Throttled, Rate: s.Rate,
					Pause: time.Duration(s.Pause) * time.Millisecond, Limit: table.Constants["maxRate"],
				})
				require.NoError(t, err)
				state, err := rdb.HGetAll(t.Context(), key).Result()
				require.NoError(t, err)
				num := func(field string) float64 {
					f, _ := strconv.ParseFloat(state[field], 64)
					return f
				}
				got := map[string]float64{
					"rate": rate, "hold": num("hold"), "ceiling": num("ceil"), "epoch": num("epoch"),
					"probe": num("probe") - float64(start.UnixMilli()), "okRate": num("ok"),
				}
				want := s.fleet()
				where := fmt.Sprintf("step %d (at %d ms; %s)", i, s.At, s.Why)
				if want.Differs != "" {
					where += "; the fleet differs: " + want.Differs
				}
				for name, w := range map[string]*float64{
					"rate": want.Rate, "hold": want.Hold, "ceiling": want.Ceiling,
					"epoch": want.Epoch, "probe": want.Probe, "okRate": want.OKRate,
				} {
					if w != nil && math.Abs(got[name]-*w) > 1e-8*max(1, math.Abs(*w)) {
						t.Errorf("%s: %s %v, want %v", where, name, got[name], *w)
					}
				}
				if want.AtHold != nil && *want.AtHold != (state["ath"] == "1") {
					t.Errorf("%s: atHold %q, want %v", where, state["ath"], *want.AtHold)
				}
				if want.On != nil && *want.On != (state["on"] == "1") {
					t.Errorf("%s: on %q, want %v", where, state["on"], *want.On)
				}
			}
		})
	}
}
