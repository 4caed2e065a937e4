package redisrate_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: waits,
// go-redis pools and the redis-server watchers must all be gone.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
