//go:build !(linux || darwin)

package main

import "os"

// fileTerminal reports whether f is a character device, as a terminal is;
// the width is unknown here (COLUMNS or the default then).
func fileTerminal(f *os.File) (tty bool, width int) {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0, 0
}
