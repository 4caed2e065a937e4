package redisrate_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/redisrate"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A 429 seen by one process pauses every Limiter on the key, in other
// processes (own connections) and in ones that start later, and no other key.
func TestShareCooldownHoldsEveryClientSharingTheKey(t *testing.T) {
	eachRedis(t, shareCooldownHoldsEveryClientSharingTheKey)
}

func shareCooldownHoldsEveryClientSharingTheKey(t *testing.T, srv testRedis) {
	newLimiter := func(key string) *redisrate.Limiter {
		return redisrate.New(srv.client(t), key, redisrate.PerSecond(100).WithBurst(10))
	}
	sharer := newLimiter("cool")
	until := time.Now().Add(time.Second)
	require.NoError(t, sharer.ShareCooldown(t.Context(), until))

	start := time.Now()
	require.NoError(t, newLimiter("other").Wait(t.Context()))
	assert.Less(t, time.Since(start), 300*time.Millisecond, "another key is not paused")

	waiters := []*redisrate.Limiter{sharer, newLimiter("cool"), newLimiter("cool"), newLimiter("cool")}
	returned := make([]time.Time, len(waiters))
	var wg sync.WaitGroup
	for i, lim := range waiters {
		wg.Go(func() {
			assert.NoError(t, lim.Wait(t.Context()))
			returned[i] = time.Now()
		})
	}
	wg.Wait()
	for i, at := range returned {
		assert.False(t, at.Before(until), "waiter %d returned %v before the cool-down ended", i, until.Sub(at))
		assert.Less(t, at.Sub(until), 300*time.Millisecond, "waiter %d overslept", i)
	}
}

func TestShareCooldownOnlyExtends(t *testing.T) {
	eachRedis(t, shareCooldownOnlyExtends)
}

func shareCooldownOnlyExtends(t *testing.T, srv testRedis) {
	lim := redisrate.New(srv.client(t), "extend", redisrate.PerSecond(10))
	admin := srv.client(t)
	ttl := func() time.Duration { return admin.PTTL(t.Context(), "heliumid:cooldown:extend").Val() }

	require.NoError(t, lim.ShareCooldown(t.Context(), time.Now().Add(-time.Second)))
	assert.Equal(t, time.Duration(-2), ttl(), "a time already past stores nothing")

	require.NoError(t, lim.ShareCooldown(t.Context(), time.Now().Add(2*time.Second)))
	require.NoError(t, lim.ShareCooldown(t.Context(), time.Now().Add(200*time.Millisecond)))
	assert.Greater(t, ttl(), 1500*time.Millisecond, "a shorter pause must not cut the longer one")

	require.NoError(t, lim.ShareCooldown(t.Context(), time.Now().Add(3*time.Second)))
	assert.Greater(t, ttl(), 2500*time.Millisecond, "a longer pause extends it")
}

func TestWaitRefusesACooldownLongerThanItsCap(t *testing.T) {
	eachRedis(t, waitRefusesACooldownLongerThanItsCap)
}

func waitRefusesACooldownLongerThanItsCap(t *testing.T, srv testRedis) {
	sharer := redisrate.New(srv.client(t), "long", redisrate.PerSecond(10))
	require.NoError(t, sharer.ShareCooldown(t.Context(), time.Now().Add(45*time.Second)))

	start := time.Now()
	err := redisrate.New(srv.client(t), "long", redisrate.PerSecond(10)).Wait(t.Context())
	require.ErrorIs(t, err, heliumid.ErrRateLimited, "45 s is over the default 30 s cap")
	assert.Contains(t, err.Error(), "WithMaxCooldown")
	assert.Less(t, time.Since(start), 500*time.Millisecond)

	patient := redisrate.New(srv.client(t), "long", redisrate.PerSecond(10), redisrate.WithMaxCooldown(time.Minute))
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	require.ErrorIs(t, patient.Wait(ctx), context.Canceled, "with a one-minute cap it waits")
}

// End to end with the root package: two Clients, as in two processes, share
// one Redis limiter. The first gets a 429 with Retry-After: 1; the second
// must not send before that second is over.
func TestClientsSitOutAnotherProcesssRetryAfter(t *testing.T) {
	eachRedis(t, clientsSitOutAnotherProcesssRetryAfter)
}

func clientsSitOutAnotherProcesssRetryAfter(t *testing.T, srv testRedis) {

	type hit struct {
		at     time.Time
		agent  string
		status int
	}
	var (
		mu    sync.Mutex
		hits  []hit
		first atomic.Bool
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/verifications" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		status := http.StatusOK
		if first.CompareAndSwap(false, true) {
			status = http.StatusTooManyRequests
		}
		mu.Lock()
		hits = append(hits, hit{at: time.Now(), agent: r.UserAgent(), status: status})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"status":false,"message":"Too many verifications","code":429}`)
			return
		}
		_, _ = io.WriteString(w, `{"status":true,"message":"Created verification","code":200,`+
			`"data":{"link":"https://verify.heliumid.io/?processId=v1","verificationId":"v1"}}`)
	}))
	t.Cleanup(api.Close)

	newProcess := func(name string) *heliumid.Client {
		lim := redisrate.New(srv.client(t), "e2e", redisrate.PerSecond(50))
		c, err := heliumid.NewClient("test-key", heliumid.WithBaseURL(api.URL+"/api"),
			heliumid.WithRateLimiter(lim), heliumid.WithUserAgent(name))
		require.NoError(t, err)
		return c
	}
	a, b := newProcess("process-a"), newProcess("process-b")

	aDone := make(chan error, 1)
	go func() {
		_, err := a.CreateVerification(t.Context(), &heliumid.CreateVerificationRequest{VendorData: "a"})
		aDone <- err
	}()
	// B starts once A has shared the cool-down, which A does as soon as it
	// reads the 429.
	admin := srv.client(t)
	require.Eventually(t, func() bool { return admin.PTTL(t.Context(), "heliumid:cooldown:e2e").Val() > 0 },
		2*time.Second, 2*time.Millisecond, "process A should share the 429's cool-down through Redis")
	_, err := b.CreateVerification(t.Context(), &heliumid.CreateVerificationRequest{VendorData: "b"})
	require.NoError(t, err)
	require.NoError(t, <-aDone)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, hits, 3, "A's 429, A's retry, B's create")
	require.Equal(t, http.StatusTooManyRequests, hits[0].status)
	windowEnd := hits[0].at.Add(time.Second)
	for _, h := range hits[1:] {
		assert.False(t, h.at.Before(windowEnd), "%s sent %v before the Retry-After window ended",
			strings.Fields(h.agent)[0], windowEnd.Sub(h.at))
	}
}

// A Retry-After of years (a server's mistake, or malice) must neither stop
// the fleet for years nor be dropped: ShareCooldown stores one hour, says so,
// and no message prints an overflowed duration. Year 2318 and later is past
// what time.Duration holds from now (time.Until saturates there), which is
// where the unclamped arithmetic once overflowed and stored nothing.
func TestShareCooldownStoresAtMostAnHour(t *testing.T) {
	eachRedis(t, shareCooldownStoresAtMostAnHour)
}

func shareCooldownStoresAtMostAnHour(t *testing.T, srv testRedis) {
	admin := srv.client(t)
	for name, until := range map[string]time.Time{
		"two hours":            time.Now().Add(2 * time.Hour),
		"year 2318":            time.Date(2318, 1, 1, 0, 0, 0, 0, time.UTC),
		"year 9999":            time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		"the year 146 billion": time.Unix(1<<62, 0),
	} {
		t.Run(name, func(t *testing.T) {
			key := strings.ReplaceAll(name, " ", "-")
			var logs syncBuffer
			sharer := redisrate.New(srv.client(t), key, redisrate.PerSecond(10),
				redisrate.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			shared := time.Now()
			require.NoError(t, sharer.ShareCooldown(t.Context(), until))

			ttl := admin.PTTL(t.Context(), "heliumid:cooldown:"+key).Val()
			assert.LessOrEqual(t, ttl, time.Hour+2*time.Millisecond, "at most an hour (plus the 1 ms ShareCooldown adds for Redis's clock)")
			assert.Greater(t, ttl, time.Hour-time.Minute, "the clamped hour is stored, not dropped")
			end, err := admin.Get(t.Context(), "heliumid:cooldown:"+key).Int64()
			require.NoError(t, err)
			assert.WithinDuration(t, shared.Add(time.Hour), time.UnixMilli(end), time.Second, "the stored end is the clamped one")
			assert.Contains(t, logs.String(), "shared cool-down clamped to one hour")
			assert.Contains(t, logs.String(), "asked_until="+until.UTC().Format(time.RFC3339))

			// The sharer's own Wait and another process's both refuse the
			// hour (over the default 30 s WithMaxCooldown), in words.
			other := redisrate.New(srv.client(t), key, redisrate.PerSecond(10))
			for who, lim := range map[string]*redisrate.Limiter{"sharer": sharer, "other process": other} {
				err := lim.Wait(t.Context())
				require.ErrorIs(t, err, heliumid.ErrRateLimited, who)
				assert.Regexp(t, `has (59m59\.\d+s|1h0m0s) left, longer than the 30s WithMaxCooldown allows`, err.Error(), who)
			}
		})
	}

	lim := redisrate.New(srv.client(t), "past", redisrate.PerSecond(10))
	require.NoError(t, lim.ShareCooldown(t.Context(), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)), "a time long past is a no-op")
	assert.Equal(t, int64(0), admin.Exists(t.Context(), "heliumid:cooldown:past").Val())
}

// v01ExtendCooldown is the script redisrate 0.1 (41d5507) shared a
// cool-down with, verbatim: it stored whatever pause the server asked for,
// a Retry-After of a year included. Processes of 0.1 and of this version
// share the key during a rolling upgrade.
var v01ExtendCooldown = redis.NewScript(`
local want = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) >= want then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', want)
return 1
`)

// shareAsV01 writes the cool-down key for key as a 0.1 process's
// ShareCooldown(ctx, now+left) did.
func shareAsV01(t *testing.T, rdb redis.UniversalClient, key string, left time.Duration) {
	t.Helper()
	until := time.Now().Add(left)
	ms := int64((left+time.Millisecond-1)/time.Millisecond) + 1
	require.NoError(t, v01ExtendCooldown.Run(t.Context(), rdb, []string{"heliumid:cooldown:" + key}, ms, until.UnixMilli()).Err())
}

// A cool-down of a year in Redis (a 0.1 process during a rolling upgrade,
// or any other writer) is bounded when read, not only when written: the
// Limiter that finds it treats it as the hour ShareCooldown itself would
// store, and shortens the key to that hour, so that the fleet is not held
// for the year, by this Limiter or any other.
func TestAForeignCooldownIsBoundedToAnHourWhenRead(t *testing.T) {
	eachRedis(t, aForeignCooldownIsBoundedWhenRead)
}

func aForeignCooldownIsBoundedWhenRead(t *testing.T, srv testRedis) {
	const year = 365 * 24 * time.Hour
	admin := srv.client(t)
	ttl := func(key string) time.Duration { return admin.PTTL(t.Context(), "heliumid:cooldown:"+key).Val() }
	storedEnd := func(key string) time.Time {
		ms, err := admin.Get(t.Context(), "heliumid:cooldown:"+key).Int64()
		require.NoError(t, err)
		return time.UnixMilli(ms)
	}
	assertAnHour := func(t *testing.T, key, why string) {
		t.Helper()
		assert.LessOrEqual(t, ttl(key), time.Hour+time.Millisecond, why)
		assert.Greater(t, ttl(key), time.Hour-time.Minute, "%s: shortened to the hour, not dropped", why)
		assert.WithinDuration(t, time.Now().Add(time.Hour), storedEnd(key), 5*time.Second, "%s: the stored end says so", why)
	}

	t.Run("read by a patient Limiter", func(t *testing.T) {
		shareAsV01(t, admin, "year", year)
		require.Greater(t, ttl("year"), year-time.Minute, "the key as 0.1 wrote it")

		patient := redisrate.New(srv.client(t), "year", redisrate.PerSecond(10), redisrate.WithMaxCooldown(2*time.Hour))
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(200*time.Millisecond, cancel)
		require.ErrorIs(t, patient.Wait(ctx), context.Canceled,
			"with WithMaxCooldown(2h) the Limiter sits out the hour the year counts as, rather than refusing at once")
		assertAnHour(t, "year", "after one read")

		err := redisrate.New(srv.client(t), "year", redisrate.PerSecond(10)).Wait(t.Context())
		require.ErrorIs(t, err, heliumid.ErrRateLimited)
		assert.Regexp(t, `has (59m59\.\d+s|1h0m0s) left, longer than the 30s WithMaxCooldown allows`, err.Error(),
			"another process finds the hour, not the year")
	})

	t.Run("read by an impatient Limiter", func(t *testing.T) {
		shareAsV01(t, admin, "impatient", year)
		err := redisrate.New(srv.client(t), "impatient", redisrate.PerSecond(10)).Wait(t.Context())
		require.ErrorIs(t, err, heliumid.ErrRateLimited, "an hour is over the default 30 s WithMaxCooldown")
		assert.Regexp(t, `has (59m59\.\d+s|1h0m0s) left`, err.Error())
		assertAnHour(t, "impatient", "a Limiter that refuses the cool-down still shortens it")
	})

	t.Run("extended by ShareCooldown", func(t *testing.T) {
		shareAsV01(t, admin, "extended", year)
		lim := redisrate.New(srv.client(t), "extended", redisrate.PerSecond(10))
		require.NoError(t, lim.ShareCooldown(t.Context(), time.Now().Add(5*time.Second)))
		assertAnHour(t, "extended", "a shorter 429 meeting the year")
	})

	t.Run("an hour or less is kept as written", func(t *testing.T) {
		shareAsV01(t, admin, "short", 10*time.Minute)
		err := redisrate.New(srv.client(t), "short", redisrate.PerSecond(10)).Wait(t.Context())
		assert.Regexp(t, `has (9m59\.\d+s|10m0s) left`, err.Error(), "read within the millisecond it was written, all 10 minutes are left")
		assert.Greater(t, ttl("short"), 9*time.Minute)
		assert.Less(t, ttl("short"), 10*time.Minute+2*time.Millisecond)
	})
}
