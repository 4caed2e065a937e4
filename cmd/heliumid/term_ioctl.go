//go:build linux || darwin

package main

import (
	"os"
	"syscall"
	"unsafe"
)

// fileTerminal asks the terminal driver for f's window size: the call fails
// unless f is a terminal, which also tells a terminal from /dev/null (a
// character device too).
func fileTerminal(f *os.File) (tty bool, width int) {
	var ws struct{ rows, cols, xpixel, ypixel uint16 }
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(syscall.TIOCGWINSZ), uintptr(unsafe.Pointer(&ws)))
	if errno != 0 {
		return false, 0
	}
	return true, int(ws.cols)
}
