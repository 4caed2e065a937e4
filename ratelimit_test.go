package heliumid

import (
	"golang.org/x/time/rate"
)

// The documented way to pace creation must keep compiling.
var _ RateLimiter = (*rate.Limiter)(nil)
