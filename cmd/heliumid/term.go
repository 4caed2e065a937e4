package main

import (
	"io"
	"os"
	"strconv"
	"strings"
)

// defaultWidth is the terminal width assumed when neither the terminal nor
// COLUMNS says.
const defaultWidth = 80

// terminal reports whether w is a terminal, and its width in columns: from
// the terminal itself where the system says (ioctl TIOCGWINSZ on Linux and
// macOS), else from COLUMNS, else 80. A pipe, a file or /dev/null is not a
// terminal, so nothing meant for a terminal (\r, a status line rewritten in
// place) reaches a log.
func (c *cli) terminal(w io.Writer) (tty bool, width int) {
	f, ok := w.(*os.File)
	if !ok {
		return false, 0
	}
	tty, width = fileTerminal(f)
	if !tty {
		return false, 0
	}
	if width <= 0 {
		if v, ok := c.env("COLUMNS"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				width = n
			}
		}
	}
	if width <= 0 {
		width = defaultWidth
	}
	return true, width
}

// sameFile reports whether a and b write to the same file: the same
// terminal, pipe or file, as when standard error and output both go to a
// terminal, or "2>&1" joins them.
func sameFile(a, b io.Writer) bool {
	fa, ok := a.(*os.File)
	fb, ok2 := b.(*os.File)
	if !ok || !ok2 {
		return false
	}
	sa, err := fa.Stat()
	sb, err2 := fb.Stat()
	return err == nil && err2 == nil && os.SameFile(sa, sb)
}
