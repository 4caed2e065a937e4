// Package fix is a fixture: a core module for the release check's tests.
package fix

import "example.com/fix/internal/wait"

// Version is the release version, which the release check reads.
const Version = "0.3.0"

// Hello greets.
func Hello() string {
	if wait.Ready() {
		return "hello"
	}
	return ""
}

// Farewell is there to be removed by a test.
func Farewell() string { return "bye" }
