package redisrate_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heliumid/heliumid-go/redisrate"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testRedis is a Redis the tests run against: one redis-server, or a
// Redis Cluster of three masters. The Limiter's commands must work on both.
type testRedis interface {
	// client returns a client with the tests' short timeouts
	// (testTimeouts), and its own connections, as another process would
	// have; clientWith, with cfg's timeouts. Both are closed when t ends.
	client(t testing.TB) redis.UniversalClient
	clientWith(t testing.TB, cfg clientConfig) redis.UniversalClient
	// where is where the Limiter's messages say Redis is.
	where() string
	// freeze stops every server process (SIGSTOP): a Redis that hangs.
	// thaw lets them go on, with their data.
	freeze(t *testing.T)
	thaw(t *testing.T)
}

// eachRedis runs test against a redis-server of its own and against the
// Redis Cluster the test binary shares (emptied first).
func eachRedis(t *testing.T, test func(t *testing.T, r testRedis)) {
	t.Run("single", func(t *testing.T) { test(t, startRedis(t)) })
	t.Run("cluster", func(t *testing.T) { test(t, sharedCluster(t)) })
}

// redisCluster is three redis-server processes with --cluster-enabled, the
// 16384 slots spread over them as masters (no replicas).
type redisCluster struct {
	nodes []*redisServer
	dir   string
}

var cluster struct {
	once sync.Once
	c    *redisCluster
	err  error
}

// sharedCluster returns the test binary's Redis Cluster, started on first
// use and stopped by TestMain, with every key deleted. Without redis-server
// in PATH the test is skipped (it fails when CI is set); any other failure
// to start the cluster fails it.
func sharedCluster(t *testing.T) *redisCluster {
	t.Helper()
	bin := redisBinary(t)
	cluster.once.Do(func() { cluster.c, cluster.err = startCluster(bin) })
	if cluster.err != nil {
		t.Fatalf("starting a Redis Cluster: %v", cluster.err)
	}
	c := cluster.c
	for _, n := range c.nodes {
		if err := command(n.addr, "FLUSHALL", "+OK"); err != nil {
			t.Fatalf("emptying cluster node %s: %v", n.addr, err)
		}
	}
	return c
}

// stopCluster stops the shared cluster, if it was started.
func stopCluster() {
	if c := cluster.c; c != nil {
		c.stop()
	}
}

// stop kills the nodes and removes their files.
func (c *redisCluster) stop() {
	for _, n := range c.nodes {
		n.kill()
	}
	_ = os.RemoveAll(c.dir)
}

// startCluster starts three nodes, each in a directory of its own (its
// cluster-config-file there), on loopback ports whose cluster bus port
// (+10000) is free too, joins them with redis-cli --cluster create, and
// waits until every node reports the cluster ok.
func startCluster(bin string) (c *redisCluster, err error) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, errors.New("redis-cli not found in PATH; it comes with redis-server (Debian's redis-tools package)")
	}
	dir, err := os.MkdirTemp("", "redisrate-cluster-")
	if err != nil {
		return nil, err
	}
	c = &redisCluster{dir: dir}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w; logs:\n%s", err, c.logs())
			c.stop()
		}
	}()
	for i := range 3 {
		n, err := startNode(bin, filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			return c, err
		}
		c.nodes = append(c.nodes, n)
	}
	args := []string{"--cluster", "create"}
	for _, n := range c.nodes {
		args = append(args, n.addr)
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		return c, fmt.Errorf("redis-cli %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range c.nodes {
		for !strings.Contains(info(n.addr), "cluster_state:ok") {
			if time.Now().After(deadline) {
				return c, fmt.Errorf("cluster node %s never reported cluster_state:ok: %s", n.addr, info(n.addr))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return c, nil
}

// startNode starts one cluster node in dir. Its port and the cluster bus's
// (port+10000) are found by listening and closing, so another process may
// take either before redis-server binds: try a few.
func startNode(bin, dir string) (*redisServer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var last error
	for range 5 {
		port, err := freeClusterPort()
		if err != nil {
			return nil, err
		}
		n := &redisServer{
			addr: "127.0.0.1:" + strconv.Itoa(port),
			dir:  dir,
			extra: []string{
				"--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
				// Longer than any freeze in the tests, so that no node
				// is ever voted failed.
				"--cluster-node-timeout", "15000",
			},
		}
		if last = n.start(bin); last == nil {
			return n, nil
		}
		_ = os.Remove(filepath.Join(dir, "nodes.conf"))
	}
	return nil, fmt.Errorf("starting a cluster node in %s: %w", dir, last)
}

// freeClusterPort returns a loopback port that is free, and whose cluster
// bus port (+10000) is free too.
func freeClusterPort() (int, error) {
	for range 100 {
		port := 20000 + rand.IntN(25000)
		a, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		b, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		_ = a.Close()
		if err != nil {
			continue
		}
		_ = b.Close()
		return port, nil
	}
	return 0, errors.New("no free pair of loopback ports (port, port+10000) found")
}

func (c *redisCluster) logs() string {
	var b strings.Builder
	for _, n := range c.nodes {
		fmt.Fprintf(&b, "== %s\n%s", n.addr, readLog(n.dir))
	}
	return b.String()
}

func (c *redisCluster) addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.addr
	}
	return addrs
}

func (c *redisCluster) where() string { return strings.Join(c.addrs(), ",") }

func (c *redisCluster) client(t testing.TB) redis.UniversalClient {
	return c.clientWith(t, testTimeouts)
}

func (c *redisCluster) clientWith(t testing.TB, cfg clientConfig) redis.UniversalClient {
	t.Helper()
	o := &redis.ClusterOptions{Addrs: c.addrs()}
	cfg.apply(&o.DialTimeout, &o.DialerRetries, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries)
	rdb := redis.NewClusterClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func (c *redisCluster) freeze(t *testing.T) {
	t.Helper()
	for _, n := range c.nodes {
		n.freeze(t)
	}
}

func (c *redisCluster) thaw(t *testing.T) {
	t.Helper()
	for _, n := range c.nodes {
		n.thaw(t)
	}
}

// command sends one inline command to addr and checks the first line of
// the reply, without a go-redis pool (whose goroutines would outlive it).
func command(addr, cmd, want string) error {
	line, err := roundTrip(addr, cmd, func(r *bufio.Reader) (string, error) { return r.ReadString('\n') })
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, want) {
		return fmt.Errorf("%s answered %q", cmd, strings.TrimSpace(line))
	}
	return nil
}

// info returns CLUSTER INFO's text from addr, or the error's.
func info(addr string) string {
	text, err := roundTrip(addr, "CLUSTER INFO", func(r *bufio.Reader) (string, error) {
		head, err := r.ReadString('\n') // $<length>
		if err != nil {
			return "", err
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
		if err != nil {
			return head, nil // an error reply
		}
		body := make([]byte, n)
		_, err = io.ReadFull(r, body)
		return string(body), err
	})
	if err != nil {
		return err.Error()
	}
	return text
}

func roundTrip(addr, cmd string, read func(*bufio.Reader) (string, error)) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	return read(bufio.NewReader(conn))
}

// On Redis Cluster a command or script may touch keys of one hash slot
// only, and the Limiter's three keys ("rate:heliumid:k",
// "heliumid:cooldown:k", "heliumid:adaptive:k") hash to different slots:
// every script must declare exactly one key and touch no other, and no
// command may name two. A hook checks what the Limiter sends, through
// every path (a slot, Feedback's report, a shared cool-down, a slot refused
// during it, a 429 learned), on a single node and on a Cluster, where a
// second key fails (CROSSSLOT for two declared keys; for a key a script
// touches undeclared, "Script attempted to access a non local key").
func TestEveryCommandTouchesOneKey(t *testing.T) {
	eachRedis(t, func(t *testing.T, srv testRedis) {
		rdb := srv.client(t)
		seen := &keysSeen{}
		rdb.AddHook(seen)
		lim := redisrate.New(rdb, "one-key", redisrate.PerSecond(100), redisrate.WithMaxCooldown(time.Minute))
		require.NoError(t, lim.Wait(t.Context()))
		lim.Feedback(false)
		require.NoError(t, lim.Wait(t.Context()))
		lim.Feedback(true)
		require.NoError(t, lim.ShareCooldown(t.Context(), time.Now().Add(50*time.Millisecond)))
		other := redisrate.New(srv.client(t), "one-key", redisrate.PerSecond(100))
		require.NoError(t, other.ShareCooldown(t.Context(), time.Now().Add(100*time.Millisecond)))
		require.NoError(t, lim.Wait(t.Context()))

		seen.mu.Lock()
		defer seen.mu.Unlock()
		require.NotEmpty(t, seen.cmds)
		want := []string{"rate:heliumid:one-key", "heliumid:cooldown:one-key", "heliumid:adaptive:one-key"}
		used := map[string]bool{}
		for _, args := range seen.cmds {
			name := strings.ToLower(fmt.Sprint(args[0]))
			require.Contains(t, []string{"evalsha", "eval"}, name, "the Limiter sends scripts only: %v", args)
			require.GreaterOrEqual(t, len(args), 4, "%v", args)
			assert.Equal(t, "1", fmt.Sprint(args[2]), "a script declares exactly one key: %v", args)
			assert.Contains(t, want, fmt.Sprint(args[3]), "the keys' names do not change: %v", args)
			used[fmt.Sprint(args[3])] = true
		}
		assert.Len(t, used, len(want), "every key was used")
	})
}

// keysSeen records the arguments of every command sent, in pipelines too,
// but not go-redis's own connection set-up.
type keysSeen struct {
	mu   sync.Mutex
	cmds [][]any
}

func (k *keysSeen) add(cmd redis.Cmder) {
	switch cmd.Name() {
	case "hello", "client", "auth", "select", "ping", "cluster", "command":
		return
	}
	k.mu.Lock()
	k.cmds = append(k.cmds, cmd.Args())
	k.mu.Unlock()
}

func (k *keysSeen) DialHook(next redis.DialHook) redis.DialHook { return next }

func (k *keysSeen) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		k.add(cmd)
		return next(ctx, cmd)
	}
}

func (k *keysSeen) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			k.add(cmd)
		}
		return next(ctx, cmds)
	}
}
