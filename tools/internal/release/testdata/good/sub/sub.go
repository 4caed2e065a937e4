// Package sub is a fixture: a submodule released with the core.
package sub

import "example.com/fix"

// Greeting greets loudly.
func Greeting() string { return fix.Hello() + "!" }
