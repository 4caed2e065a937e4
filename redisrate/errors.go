package redisrate

import "errors"

var (
	// ErrInvalidConfig reports a Limiter that cannot work: New got a nil
	// client, an empty key or an invalid Limit, or an Option got an invalid
	// value. New cannot return an error, so every Wait and ShareCooldown of
	// that Limiter returns one matching ErrInvalidConfig instead, before any
	// Redis I/O.
	ErrInvalidConfig = errors.New("redisrate: invalid configuration")

	// ErrRedisUnavailable reports that Redis could not be asked (connection
	// refused, a Redis error reply, no answer within the probe timeout, see
	// WithProbeTimeout), so the shared cap could not be checked. Without
	// WithLocalFallback, Wait returns it and the session is not created
	// (fail-closed). The error also wraps go-redis's own error, if any.
	ErrRedisUnavailable = errors.New("redisrate: Redis unreachable")
)
