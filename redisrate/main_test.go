package redisrate_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain stops the Redis Cluster the tests share (see sharedCluster), and
// fails the package's tests if any goroutine outlives them: waits, go-redis
// pools and the redis-server watchers must all be gone.
func TestMain(m *testing.M) {
	code := m.Run()
	stopCluster()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: goroutines left after a successful run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
