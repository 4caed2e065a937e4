package heliumidtest

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests if any goroutine outlives them: a Server's
// listener, handlers, webhook worker and transports must all end with Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
