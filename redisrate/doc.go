// Package redisrate shares one Helium ID session-creation cap among every
// process of a backend, through Redis.
//
// heliumid.WithRateLimiter with a *rate.Limiter keeps one process under the
// cap; a backend on several machines needs one cap they all count against. A
// Limiter does that with the GCRA limiter of github.com/go-redis/redis_rate
// (Redis's clock decides, so clock skew between machines does not matter),
// and spreads the server's 429 cool-down to every process:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	limiter := redisrate.New(rdb, "my-integration", redisrate.PerSecond(10))
//	client, err := heliumid.NewClient(apiKey, heliumid.WithRateLimiter(limiter))
//
// # Redis keys
//
// For key k, the Limiter uses "rate:heliumid:k" (the GCRA state, a timestamp
// kept by redis_rate), "heliumid:cooldown:k" (set only during a shared 429
// cool-down, for at most an hour; one found with more left, whoever wrote
// it, counts as an hour and is shortened to it) and "heliumid:adaptive:k"
// (the rate the fleet learned, see below). All expire on their own. Every
// command and script touches a single key, so none needs hash tags on Redis
// Cluster; the tests run against a three-master Cluster too.
//
// # A Limit above the real cap
//
// Helium ID does not publish its caps. The Limiter implements
// heliumid.RateFeedback: the Client tells it every create's outcome, and
// after the first 429 the whole fleet paces at one rate learned in Redis
// (the Client's own control law, see heliumid.WithAdaptiveRate), never above
// the configured Limit. Feedback does no I/O; outcomes travel with the next
// Wait's round trip.
//
// # When Redis is down
//
// By default Wait fails with an error matching ErrRedisUnavailable and no
// session is created (fail-closed): the cap is a contract with the server,
// and exceeding it from many processes at once only buys 429s.
// WithLocalFallback instead paces each process on its own at the same Limit
// until Redis answers again: N processes then create at most N times the cap
// in any one period, the periods in which Redis fails and comes back
// included.
//
// Redis is down when a call fails or does not answer within the probe
// timeout (500 ms, see WithProbeTimeout), so a Redis that hangs is noticed
// as quickly as one that refuses connections, whatever the go-redis
// client's timeouts; callers then do not ask it until a probe, at most once
// a second, finds it answering. go-redis's DialTimeout, ReadTimeout,
// MaxRetries and DialerRetries still bound the call left running: keep them
// short for a limiter.
package redisrate
