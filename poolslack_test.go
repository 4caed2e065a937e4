package heliumid

// poolSlack is how far apart two counts of allocations per call may be
// that both go through the same pools: exact without the race detector,
// a few allocations with it.
func poolSlack(exact float64) float64 {
	if raceEnabled {
		return max(exact, 4)
	}
	return exact
}
