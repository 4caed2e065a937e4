package heliumid

import (
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// BenchmarkRateLimiterFidelity measures, over real loopback HTTP, the rate a
// Client paced at 50/s achieves against a server capped at 50/s, and how
// many of its requests the server refuses: reported as creations/s and
// 429s, not asserted (wall-clock rates on a busy machine are for reading,
// see docs/PERFORMANCE.md). Each iteration is one creation: at 50/s,
// -benchtime=100x takes two seconds.
func BenchmarkRateLimiterFidelity(b *testing.B) {
	const perSecond = 50
	api := newCappedAPI(perSecond, perSecond/5)
	c, _ := api.serve(b, "HTTP/1.1", WithRateLimiter(rate.NewLimiter(perSecond, 1)), WithMaxRetries(0))
	defer c.CloseIdleConnections()
	b.ResetTimer()
	for range createConcurrently(c, b.N, 4) {
	}
	b.StopTimer()
	arrivals := api.admitted()
	_, refused := api.created(0, time.Hour)
	if len(arrivals) > 2 {
		b.ReportMetric(1/slope(arrivals).Seconds(), "creations/s")
	}
	b.ReportMetric(float64(refused), "429s")
}
