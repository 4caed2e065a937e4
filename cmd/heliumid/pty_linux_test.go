package main

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// openPTY opens a pseudo-terminal cols columns wide and returns its
// controller side, which reads what a program writes to the terminal, and
// the terminal itself, to give the program. Both are closed when the test
// ends.
func openPTY(t *testing.T, cols int) (controller, terminal *os.File) {
	t.Helper()
	controller, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { controller.Close() })
	var unlock int32
	require.NoError(t, ioctl(controller, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)), "unlockpt")
	var n uint32
	require.NoError(t, ioctl(controller, syscall.TIOCGPTN, unsafe.Pointer(&n)), "ptsname")
	terminal, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { terminal.Close() })
	ws := struct{ rows, cols, xpixel, ypixel uint16 }{rows: 24, cols: uint16(cols)}
	require.NoError(t, ioctl(terminal, syscall.TIOCSWINSZ, unsafe.Pointer(&ws)), "set the window size")
	return controller, terminal
}

func ioctl(f *os.File, req uint, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(req), uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}
