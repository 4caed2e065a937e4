package redisrate_test

import (
	"context"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go/redisrate"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewWithInvalidArgumentsRefusesEveryCallWithoutPanicking(t *testing.T) {
	// Never dialled: every case must fail before any Redis I/O.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = rdb.Close() })
	var nilClient *redis.Client

	cases := []struct {
		name string
		lim  *redisrate.Limiter
		want string
	}{
		{"nil client", redisrate.New(nil, "k", redisrate.PerSecond(1)), "pass a go-redis client"},
		{"typed nil client", redisrate.New(nilClient, "k", redisrate.PerSecond(1)), "pass a go-redis client"},
		{"empty key", redisrate.New(rdb, "", redisrate.PerSecond(1)), "empty key"},
		{"zero limit", redisrate.New(rdb, "k", redisrate.Limit{}), "count must be at least 1"},
		{"zero per second", redisrate.New(rdb, "k", redisrate.PerSecond(0)), "count must be at least 1"},
		{"negative per minute", redisrate.New(rdb, "k", redisrate.PerMinute(-3)), "count must be at least 1"},
		{"zero burst", redisrate.New(rdb, "k", redisrate.PerSecond(5).WithBurst(0)), "burst must be at least 1"},
		{"zero max cool-down", redisrate.New(rdb, "k", redisrate.PerSecond(5), redisrate.WithMaxCooldown(0)), "WithMaxCooldown(0s)"},
		{"negative probe timeout", redisrate.New(rdb, "k", redisrate.PerSecond(5), redisrate.WithProbeTimeout(-time.Second)), "WithProbeTimeout(-1s)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.lim.Wait(context.Background())
			require.ErrorIs(t, err, redisrate.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tc.want)
			err = tc.lim.ShareCooldown(context.Background(), time.Now().Add(time.Second))
			require.ErrorIs(t, err, redisrate.ErrInvalidConfig)
		})
	}
}

func TestLimitString(t *testing.T) {
	assert.Equal(t, "20 per second (burst 1)", redisrate.PerSecond(20).String())
	assert.Equal(t, "600 per minute (burst 10)", redisrate.PerMinute(600).WithBurst(10).String())
}
