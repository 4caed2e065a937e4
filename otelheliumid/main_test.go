package otelheliumid_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests if any goroutine outlives them: the fake
// servers, their connections and the OpenTelemetry SDK's providers must all
// be shut down.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
