package redisrate_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a real redis-server process on a free loopback port, for
// one test. It is stopped when the test ends.
type redisServer struct {
	addr  string
	dir   string
	extra []string // more redis-server arguments (a Cluster node's)
	cmd   *exec.Cmd
	done  chan struct{} // closed when the process has exited
	once  sync.Once
}

// startRedis starts redis-server without persistence on a free loopback
// port. Without redis-server in PATH the test is skipped, or fails when CI is
// set: CI must run these tests.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	bin := redisBinary(t)
	dir := t.TempDir()
	// The free port is found by listening and closing, so another process
	// may take it before redis-server binds: try a few ports.
	for range 3 {
		s := &redisServer{addr: freeAddr(t), dir: dir}
		if err := s.start(bin); err != nil {
			t.Logf("redis-server on %s: %v", s.addr, err)
			continue
		}
		t.Cleanup(s.kill)
		return s
	}
	t.Fatalf("could not start redis-server; log:\n%s", readLog(dir))
	return nil
}

// noRedis says why the tests cannot run without redis-server.
const noRedis = "redis-server not found in PATH; install it (apt-get install -y redis-server, brew install redis) to run the redisrate tests"

// redisBinary returns redis-server's path. Without it in PATH the test is
// skipped, or fails when CI is set: CI must run these tests.
func redisBinary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(noRedis)
		}
		t.Skip(noRedis)
	}
	return bin
}

// start runs the server on s.addr and waits until it answers PING.
func (s *redisServer) start(bin string) error {
	_, port, _ := net.SplitHostPort(s.addr)
	args := append([]string{
		"--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log"),
	}, s.extra...)
	s.cmd = exec.Command(bin, args...)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	s.once = sync.Once{}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return os.ErrProcessDone
		default:
		}
		if ping(s.addr) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.kill()
	return context.DeadlineExceeded
}

// kill stops the server abruptly (SIGKILL), as a crash would, and waits for
// the process to be gone.
func (s *redisServer) kill() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
}

// freeze stops the server's process (SIGSTOP) without closing anything: a
// Redis that hangs, so clients find out only through their timeouts. thaw
// lets it go on, with its data.
func (s *redisServer) freeze(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("freezing redis-server: %v", err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }) // a failed test leaves no process stopped
}

func (s *redisServer) thaw(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("thawing redis-server: %v", err)
	}
}

// where is the server's address, as the Limiter's messages name it.
func (s *redisServer) where() string { return s.addr }

// client returns a client of this server with the tests' short timeouts
// (see newClient).
func (s *redisServer) client(t testing.TB) redis.UniversalClient { return newClient(t, s.addr) }

// clientWith returns a client of this server with cfg's timeouts.
func (s *redisServer) clientWith(t testing.TB, cfg clientConfig) redis.UniversalClient {
	t.Helper()
	o := &redis.Options{Addr: s.addr}
	cfg.apply(&o.DialTimeout, &o.DialerRetries, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries)
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// restart starts a stopped server again on the same port, empty.
func (s *redisServer) restart(t *testing.T) {
	t.Helper()
	bin, _ := exec.LookPath("redis-server")
	if err := s.start(bin); err != nil {
		t.Fatalf("restarting redis-server on %s: %v; log:\n%s", s.addr, err, readLog(s.dir))
	}
}

// ping reports whether a Redis server answers on addr, without a go-redis
// pool (whose goroutines would outlive the check).
func ping(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func readLog(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
	return string(b)
}

// newClient returns a go-redis client with its own connection pool, closed
// when the test ends, with testTimeouts.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	return (&redisServer{addr: addr}).clientWith(t, testTimeouts).(*redis.Client)
}

// clientConfig is the go-redis settings that decide how long a call to a
// Redis that is down takes to fail; zero fields keep go-redis's defaults.
type clientConfig struct {
	dial, read, write         time.Duration
	dialerRetries, maxRetries int
}

var (
	// testTimeouts are the tests' usual settings: short, so that a dead
	// server is noticed within a fraction of a second (one dial attempt
	// of at most 200 ms, no command retries).
	testTimeouts = clientConfig{dial: 200 * time.Millisecond, read: 500 * time.Millisecond, write: 500 * time.Millisecond, dialerRetries: 1, maxRetries: -1}

	// readmeTimeouts are what the README advises for a limiter.
	readmeTimeouts = clientConfig{dial: 500 * time.Millisecond, read: 500 * time.Millisecond, write: 500 * time.Millisecond, dialerRetries: 1, maxRetries: 1}

	// goRedisDefaults are go-redis's own: 5 s to dial, 5 s to read, three
	// retries.
	goRedisDefaults = clientConfig{}
)

// apply sets the fields of a redis.Options or redis.ClusterOptions.
func (c clientConfig) apply(dial *time.Duration, dialerRetries *int, read, write *time.Duration, maxRetries *int) {
	*dial, *dialerRetries, *read, *write, *maxRetries = c.dial, c.dialerRetries, c.read, c.write, c.maxRetries
}
