package redisrate

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/heliumid/heliumid-go"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

const (
	// defaultMaxCooldown matches the Client's default Retry-After cap.
	defaultMaxCooldown = 30 * time.Second

	// maxSharedCooldown is the longest cool-down ShareCooldown stores. A
	// server that asks for more (a Retry-After of years, by mistake or
	// malice) would otherwise stop every process of the fleet for as long;
	// after an hour, the next create finds out whether the window is still
	// closed, and a new 429 shares a new cool-down.
	maxSharedCooldown = time.Hour

	// maxStoredCooldown is maxSharedCooldown in the milliseconds Redis
	// keeps, plus the one ShareCooldown adds for Redis's clock: no
	// cool-down key lives longer, whoever wrote it (see readCooldown).
	maxStoredCooldown = maxSharedCooldown + time.Millisecond
)

var (
	_ heliumid.RateLimiter    = (*Limiter)(nil)
	_ heliumid.CooldownSharer = (*Limiter)(nil)
	_ heliumid.RateFeedback   = (*Limiter)(nil)
)

// Limiter is a session-creation cap shared, through Redis, by every process
// that uses the same key and Limit. It satisfies heliumid.RateLimiter (pass it
// to heliumid.WithRateLimiter) and heliumid.CooldownSharer (a 429 seen by one
// process pauses them all). A Limiter is safe for concurrent use; it does not
// own the Redis client, which the caller closes.
type Limiter struct {
	rdb      redis.UniversalClient
	gcra     *redis_rate.Limiter
	limit    Limit
	key      string // the caller's key, for messages
	gcraKey  string // given to redis_rate, which prefixes "rate:"
	coolKey  string
	adaptKey string // the fleet's learned rate (see adaptive.go)
	addr     string // where rdb points, for messages
	invalid  error  // set by New or an Option; every call returns it

	maxCooldown  time.Duration
	probeTimeout time.Duration // how long a caller waits for Redis (see probe.go)
	fallback     *rate.Limiter // nil: fail closed
	logger       *slog.Logger

	mu         sync.Mutex
	localUntil time.Time   // the latest cool-down shared through l, honoured even while Redis is down
	down       bool        // Redis failed or did not answer in time when last asked
	downErr    error       // why
	nextProbe  time.Time   // while down: when to ask Redis again
	probing    bool        // while down: a probe is running
	lastLocal  time.Time   // with fallback: the latest slot the local pace alone granted (see guarded)
	report     adaptReport // outcomes not yet told to Redis
	inFlight   slotRing    // rates of the slots granted and not yet reported on
	learned    float64     // the fleet's rate (sessions/s) as of the last round trip; 0: none yet
	learnedAt  time.Time   // when

	clock *func() time.Time // tests: the adaptive law's clock instead of Redis's (a pointer: a Limiter stays comparable)
}

// New returns a Limiter that lets sessions through at limit, counted in Redis
// under key by every process that uses the same key. The Redis keys are
// "rate:heliumid:<key>" (the GCRA state, kept by redis_rate) and
// "heliumid:cooldown:<key>" (the shared 429 cool-down) and
// "heliumid:adaptive:<key>" (the rate the fleet learned from the server's
// 429s, see Feedback); use one key per integration (API key), not per
// process.
//
// When Redis cannot be reached, Wait fails with an error matching
// ErrRedisUnavailable (fail-closed) unless WithLocalFallback is given. New
// does no I/O and cannot fail: a nil rdb, an empty key, an invalid limit or
// an invalid option make every Wait return an error matching
// ErrInvalidConfig.
func New(rdb redis.UniversalClient, key string, limit Limit, opts ...Option) *Limiter {
	l := &Limiter{
		rdb:          rdb,
		limit:        limit,
		key:          key,
		gcraKey:      "heliumid:" + key,
		coolKey:      "heliumid:cooldown:" + key,
		adaptKey:     "heliumid:adaptive:" + key,
		addr:         describe(rdb),
		maxCooldown:  defaultMaxCooldown,
		probeTimeout: defaultProbeTimeout,
	}
	switch {
	case isNil(rdb):
		l.fail(fmt.Errorf("%w: New(nil, %q, ...): pass a go-redis client (redis.NewClient, redis.NewClusterClient, ...)", ErrInvalidConfig, key))
	case key == "":
		l.fail(fmt.Errorf("%w: New with an empty key: name the cap shared by your processes, e.g. your integration's name", ErrInvalidConfig))
	default:
		l.fail(limit.validate())
		l.gcra = redis_rate.NewLimiter(rdb)
	}
	for _, opt := range opts {
		if opt != nil {
			opt(l)
		}
	}
	return l
}

// fail records the first configuration error.
func (l *Limiter) fail(err error) {
	if l.invalid == nil {
		l.invalid = err
	}
}

// Wait blocks until one more session may be created under the shared cap, and
// takes that slot. It asks Redis's GCRA limiter for a slot and, when Redis
// says not yet, sleeps exactly as long as Redis answers before asking again
// (another process may take the slot meanwhile). It then sits out any shared
// cool-down (see ShareCooldown) and starts over.
//
// Wait returns:
//   - nil when the slot is taken;
//   - ctx's error when ctx ends during a wait;
//   - at once, an error matching heliumid.ErrRateLimited when the wait Redis
//     (or, with WithLocalFallback, the local pace) asks for would outlast
//     ctx's deadline, or a shared cool-down is longer than WithMaxCooldown;
//   - an error matching ErrRedisUnavailable when Redis cannot be asked, unless
//     WithLocalFallback is given, in which case the local pace grants the
//     slot;
//   - an error matching ErrInvalidConfig when New got invalid arguments.
//
// Redis cannot be asked when it fails (a refused connection, an error
// reply) or does not answer within the probe timeout (500 ms unless
// WithProbeTimeout says otherwise), whatever go-redis's own timeouts. It
// then counts as down for every caller of the Limiter: they go to the local
// pace (or fail) at once, and one of them asks Redis again at most once a
// second, until it answers.
func (l *Limiter) Wait(ctx context.Context) error {
	if l.invalid != nil {
		return l.invalid
	}
	if ctx == nil {
		return fmt.Errorf("%w: redisrate: Wait(nil context); pass context.Background() or a request's context", heliumid.ErrInvalidRequest)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if left := l.localCooldown(); left > 0 {
			if err := l.sleep(ctx, left, true); err != nil {
				return err
			}
			continue
		}
		skip, probe := l.skipRedis()
		if skip {
			if l.fallback == nil {
				return l.unavailable("checking the shared cap", l.whyDown(), failClosed)
			}
			return l.waitLocal(ctx)
		}
		// A probe asks Redis at once, even if its slot then goes unused:
		// waiting for the local pace first would let the callers pacing
		// locally take every local slot, and Redis would never be asked.
		if d := l.untilLocalSlot(); d > 0 && !probe {
			if err := l.sleepLocal(ctx, d); err != nil {
				return err
			}
			continue
		}
		var a answer
		err := l.call(ctx, probe, func(ctx context.Context) (err error) {
			a, err = l.ask(ctx)
			return err
		})
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			l.markDown(ctx, err)
			if l.fallback == nil {
				return l.unavailable("checking the shared cap", err, failClosed)
			}
			return l.waitLocal(ctx)
		}
		l.markUp(ctx)
		if !a.granted {
			if err := l.sleep(ctx, a.wait, a.cooling); err != nil {
				return err
			}
			continue
		}
		if l.chargeLocal() {
			l.granted(a.sentAt)
			return nil
		}
		// Just back from the fallback, another caller of this process took
		// the local slot since untilLocalSlot looked: Redis's slot goes
		// unused (the cap still holds), and this caller waits for the next.
	}
}

// failClosed is what an ErrRedisUnavailable from Wait means for the caller.
const failClosed = "sessions are not created while the shared cap cannot be checked (fail-closed; see WithLocalFallback)"

// answer is what one consultation of Redis said (see ask).
type answer struct {
	granted bool
	wait    time.Duration // not granted: how long to wait before asking again
	cooling bool          // the wait is a shared cool-down
	sentAt  float64       // granted: the rate the slot goes out at (sessions/s)
}

// ask consults Redis once. It asks the GCRA limiter for a slot, at the rate
// the fleet learned (never above the Limit); when Redis says not yet, it
// returns how long Redis says to wait. With a slot, it returns granted,
// unless a shared cool-down is in force: then it returns cooling and the
// time left, and the slot is left unused. The cool-down is read in one round
// trip with this process's Feedback, applied to the learned rate; that round
// trip also comes first when this process's copy of the rate is stale, and
// a slot asked at a rate the fleet has cut since is left unused too.
//
// The cool-down is read after taking the slot, not before, so that no round
// trip delays the attempt when a slot frees: with a burst of 1, GCRA counts
// every moment an attempt comes late as capacity lost. A slot wasted during a
// cool-down costs nothing (the server refuses sessions then anyway) and the
// cap still holds, since the slot is never used.
func (l *Limiter) ask(ctx context.Context) (answer, error) {
	asked, fresh := l.learnedRate()
	if !fresh {
		left, _, err := l.checkCooldownAndLearn(ctx, false)
		if err != nil {
			return answer{}, err
		}
		if left > 0 {
			return answer{wait: left, cooling: true}, nil
		}
		asked, _ = l.learnedRate()
	}
	res, err := l.gcra.Allow(ctx, l.gcraKey, l.limit.paced(asked))
	if err != nil {
		return answer{}, err
	}
	if res.Allowed == 0 {
		return answer{wait: res.RetryAfter}, nil
	}
	left, sentAt, err := l.checkCooldownAndLearn(ctx, true)
	if err != nil {
		return answer{}, err
	}
	if left > 0 {
		return answer{wait: left, cooling: true}, nil
	}
	if now, _ := l.learnedRate(); l.limit.slower(now, asked) {
		return answer{}, nil // leave the slot unused and ask again at the new rate
	}
	if sentAt <= 0 {
		sentAt = l.limit.effective(asked)
	}
	return answer{granted: true, sentAt: sentAt}, nil
}

// sleep waits d, or fails at once with an error matching
// heliumid.ErrRateLimited when the wait cannot succeed: it would outlast ctx's
// deadline, or it is a cool-down longer than the configured cap.
func (l *Limiter) sleep(ctx context.Context, d time.Duration, cooling bool) error {
	what := "the shared cap"
	if cooling {
		what = "the shared 429 cool-down"
		if d > l.maxCooldown {
			return fmt.Errorf("%w: redisrate: %s for key %q has %s left, longer than the %s WithMaxCooldown allows",
				heliumid.ErrRateLimited, what, l.key, human(d), human(l.maxCooldown))
		}
	}
	if outlastsDeadline(ctx, d) {
		return fmt.Errorf("%w: redisrate: %s for key %q asks to wait %s, past the context's deadline",
			heliumid.ErrRateLimited, what, l.key, human(d))
	}
	return sleep(ctx, d)
}

// unavailable wraps a go-redis error with where Redis is, what failed and
// what it means for the caller.
func (l *Limiter) unavailable(op string, err error, consequence string) error {
	return fmt.Errorf("%w at %s: %s for key %q: %w; %s", ErrRedisUnavailable, l.addr, op, l.key, err, consequence)
}

// isNil reports whether rdb is nil, or a nil pointer in the interface (a
// *redis.Client variable never assigned), which would make every call panic.
func isNil(rdb redis.UniversalClient) bool {
	if rdb == nil {
		return true
	}
	v := reflect.ValueOf(rdb)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// describe names where rdb points, for error messages.
func describe(rdb redis.UniversalClient) string {
	if isNil(rdb) {
		return "<nil>"
	}
	switch c := rdb.(type) {
	case *redis.Client:
		if addr := c.Options().Addr; addr != "FailoverClient" { // what NewFailoverClient puts there
			return addr
		}
		return "the Sentinel-managed master"
	case *redis.ClusterClient:
		return strings.Join(c.Options().Addrs, ",")
	case *redis.Ring:
		return strings.Join(slices.Sorted(maps.Values(c.Options().Addrs)), ",")
	}
	return fmt.Sprintf("%T", rdb)
}
