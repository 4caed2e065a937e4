package redisrate

import "testing"

func TestSlotRingKeepsTheNewestInOrder(t *testing.T) {
	var r slotRing
	if got := r.pop(); got != 0 {
		t.Fatalf("empty ring popped %v", got)
	}
	for i := 1; i <= maxInFlight+2; i++ {
		r.push(float64(i))
	}
	// The two oldest were dropped.
	for want := 3; want <= maxInFlight+2; want++ {
		if got := r.pop(); got != float64(want) {
			t.Fatalf("popped %v, want %v", got, want)
		}
	}
	if got := r.pop(); got != 0 {
		t.Fatalf("drained ring popped %v", got)
	}
}
