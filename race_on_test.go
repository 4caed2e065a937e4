//go:build race

package heliumid

// raceEnabled reports a build with the race detector, under which
// sync.Pool drops some of what is put back, at random: a count of
// allocations that goes through a pool (read buffers, JSON decoders) then
// varies by a few between two runs.
const raceEnabled = true
