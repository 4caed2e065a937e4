package heliumid

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// client, its iterators and its waits must not leak.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
