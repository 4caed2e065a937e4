package heliumid

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks of "Bursts" in docs/PERFORMANCE.md: a burst of concurrent
// GETs, every one started at once, against a server in the benchmark that
// answers each after a latency and allows a number of HTTP/2 streams per
// connection (TLS + HTTP/2), or speaks HTTP/1.1 over TLS. The server counts
// the connections it accepted (conns) and the most requests it held at
// once (at-once).
//
// The client side of each burst runs in a child process (the test binary
// again, TestBurstChild), so that its peak RSS (peak-rss-MiB, the child's
// VmHWM) is that of the client alone: the SDK's default client, or the
// hand-written baseline of bench_test.go through the same http.Client and
// transport. wall-ms is the burst's duration in the child, from the first
// call to the last answer; failed counts the calls that returned an error.
//
// A burst runs once per run of the benchmark, whatever b.N (the testing
// package calls a benchmark first with b.N == 1, then with a larger b.N to
// reach -benchtime: the later calls report the same burst again). Without
// -burst.full (as in CI, which runs every benchmark with -benchtime=100x) a
// small burst proves the harness works in a second or two: 400 GETs at
// 20 ms against 100 streams per connection and 20,000, 100 over HTTP/1.1.
// (Callers waiting beyond the bound are tested, not benchmarked:
// TestABurstLargerThanConnectionsTimesStreamsCompletes.) With -burst.full,
// the bursts: 10,000 GETs at 200 ms against 250 streams per
// connection, against 100 (more callers than 64 connections carry: the
// others wait) and, in the same rounds, against 20,000 (the reference for
// the wall time); 3,000 over HTTP/1.1. -burst.compare adds other clients,
// for the "before" figures and the options measured: the client of v0.2
// (no bound, http.Client.Timeout), both sides; and, through the baseline,
// v0.2's transport with MaxConnsPerHost 64, with MaxConnsPerHost 4, and
// with HTTP2Config.StrictMaxConcurrentRequests. They are heavy (thousands
// of connections, up to a GiB; the strict one waits out its 60-s timeouts).
//
//	go test -run '^$' -bench 'BurstHTTP' -burst.full -rounds 5 -timeout 60m . | tee burst.txt
//	go test -run '^$' -bench 'BurstHTTP2////streams=250' -burst.full -burst.compare -rounds 2 -timeout 60m . | tee compare.txt
//	go test -run '^$' -bench 'BurstHTTP1' -burst.full -burst.compare -rounds 2 -timeout 60m . | tee compare1.txt
//	benchstat -col /impl -row /client,/streams -ignore /round burst.txt

var (
	burstFull    = flag.Bool("burst.full", false, "benchmarks: the full bursts of docs/PERFORMANCE.md, \"Bursts\" (10,000 GETs over HTTP/2, 3,000 over HTTP/1.1)")
	burstCompare = flag.Bool("burst.compare", false, "benchmarks: also burst through v0.2's client and the other options of docs/PERFORMANCE.md, \"Bursts\"")
)

// burstShape is one burst: n GETs, answered after latency.
type burstShape struct {
	n       int
	latency time.Duration
}

func burstShapes() (http2, http1 burstShape, streams []int) {
	if *burstFull {
		return burstShape{10_000, 200 * time.Millisecond}, burstShape{3_000, 200 * time.Millisecond}, []int{250, 100, 20_000}
	}
	return burstShape{400, 20 * time.Millisecond}, burstShape{100, 20 * time.Millisecond}, []int{100, 20_000}
}

// burstImpls are the sides of a burst and the client each goes through:
// the SDK and the hand-written baseline through the SDK's own client (and,
// with -burst.compare, the others).
func burstImpls() []string {
	impls := []string{"sdk/client=default", "baseline/client=default"}
	if *burstCompare {
		impls = append(impls, "sdk/client=v0.2", "baseline/client=v0.2",
			"baseline/client=v0.2+maxconns64", "baseline/client=v0.2+maxconns4", "baseline/client=v0.2+strict")
	}
	return impls
}

// BenchmarkBurstHTTP2: a burst of GETs over TLS + HTTP/2, against a server
// allowing few streams per connection and, in the same rounds, one
// allowing 20,000.
func BenchmarkBurstHTTP2(b *testing.B) {
	shape, _, streams := burstShapes()
	var impls []benchImpl
	for _, s := range streams {
		for _, impl := range burstImpls() {
			impls = append(impls, benchImpl{fmt.Sprintf("%s/streams=%d", impl, s), func(b *testing.B) {
				runBurst(b, burstServerConfig{tls: true, streams: s, latency: shape.latency}, impl, shape.n)
			}})
		}
	}
	runRounds(b, impls...)
}

// BenchmarkBurstHTTP1: a burst of GETs over TLS without HTTP/2.
func BenchmarkBurstHTTP1(b *testing.B) {
	_, shape, _ := burstShapes()
	var impls []benchImpl
	for _, impl := range burstImpls() {
		impls = append(impls, benchImpl{impl, func(b *testing.B) {
			runBurst(b, burstServerConfig{tls: true, latency: shape.latency}, impl, shape.n)
		}})
	}
	runRounds(b, impls...)
}

// burstResults keeps each run's burst for the later calls of the same
// benchmark (see the file's comment).
var burstResults sync.Map // benchmark name → burstReport

type burstReport struct {
	child  burstChildResult
	conns  int64
	atOnce int64
}

// runBurst runs one burst of n GETs by impl against a server of cfg, its
// client side in a child process, and reports it.
func runBurst(b *testing.B, cfg burstServerConfig, impl string, n int) {
	r, ok := burstResults.Load(b.Name())
	if b.N == 1 || !ok {
		srv := newBurstServer(b, cfg)
		child, err := runBurstChild(b, burstChildConfig{
			URL: srv.URL + "/api", Cert: certPEM(b, srv), Impl: impl, N: n,
		})
		switch {
		case err != nil && child.Wall == 0:
			b.Fatal(err)
		case err != nil:
			// The burst ran and reported; the child failed after, as when
			// calls still stuck in a stalled transport trip its leak check.
			b.Logf("the child process, after its burst: %v", err)
		}
		r = burstReport{child: child, conns: srv.conns.accepted.Load(), atOnce: srv.maxRun.Load()}
		burstResults.Store(b.Name(), r)
	}
	rep := r.(burstReport)
	b.ReportMetric(float64(rep.child.Wall.Nanoseconds()), "ns/op")
	b.ReportMetric(float64(rep.child.Wall.Milliseconds()), "wall-ms")
	b.ReportMetric(float64(rep.conns), "conns")
	b.ReportMetric(float64(rep.atOnce), "at-once")
	b.ReportMetric(float64(rep.child.Failed), "failed")
	if rep.child.PeakRSS > 0 {
		b.ReportMetric(float64(rep.child.PeakRSS)/(1<<20), "peak-rss-MiB")
	}
	if rep.child.Failed > 0 {
		b.Logf("%d calls failed; the first: %s", rep.child.Failed, rep.child.FirstError)
	}
}

// certPEM writes srv's certificate to a file for the child, and returns
// its path.
func certPEM(b *testing.B, srv *burstServer) string {
	path := filepath.Join(b.TempDir(), "cert.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// burstChildEnv carries a burstChildConfig, as JSON, to the child process.
const burstChildEnv = "HELIUMID_BURST_CHILD"

type burstChildConfig struct {
	URL  string // base URL
	Cert string // path of the server's certificate, PEM
	Impl string // a burstImpls entry
	N    int    // GETs
}

type burstChildResult struct {
	Wall       time.Duration
	Failed     int
	FirstError string
	PeakRSS    int64 // bytes; 0 where /proc/self/status is not
}

const burstResultPrefix = "heliumid-burst-result "

// runBurstChild runs the client side of a burst in a child process.
func runBurstChild(b *testing.B, cfg burstChildConfig) (burstChildResult, error) {
	spec, err := json.Marshal(cfg)
	if err != nil {
		return burstChildResult{}, err
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBurstChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), burstChildEnv+"="+string(spec))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
		if line, ok := strings.CutPrefix(sc.Text(), burstResultPrefix); ok {
			var res burstChildResult
			if jerr := json.Unmarshal([]byte(line), &res); jerr != nil {
				return res, jerr
			}
			return res, err
		}
	}
	return burstChildResult{}, fmt.Errorf("the burst's child process printed no result (%v): %s%s", err, out, stderr.Bytes())
}

// TestBurstChild is the client side of a burst of BenchmarkBurstHTTP2 and
// BenchmarkBurstHTTP1, run in a child process; it does nothing in a test
// run.
func TestBurstChild(t *testing.T) {
	spec := os.Getenv(burstChildEnv)
	if spec == "" {
		t.Skip("the client side of a burst benchmark, run by it in a child process")
	}
	var cfg burstChildConfig
	if err := json.Unmarshal([]byte(spec), &cfg); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(cfg.Cert)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("no certificate in %s", cfg.Cert)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := certPool(cert)

	side, client, _ := strings.Cut(cfg.Impl, "/client=")
	var hc *http.Client
	if client == "default" {
		hc = newDefaultHTTPClient()
		hc.Transport.(*defaultTransport).trust(roots, false)
	} else {
		hc = v02HTTPClient()
		tr := hc.Transport.(*http.Transport)
		tr.TLSClientConfig.RootCAs = roots
		switch client {
		case "v0.2+maxconns64":
			tr.MaxConnsPerHost = 64
		case "v0.2+maxconns4":
			tr.MaxConnsPerHost = 4
		case "v0.2+strict":
			tr.HTTP2 = &http.HTTP2Config{StrictMaxConcurrentRequests: true}
		}
	}
	defer hc.CloseIdleConnections()
	get := func(ctx context.Context) error {
		_, err := handGet(ctx, hc, cfg.URL, testKey, benchID)
		return err
	}
	if side == "sdk" {
		c, err := NewClient(testKey, WithBaseURL(cfg.URL), WithHTTPClient(hc))
		if err != nil {
			t.Fatal(err)
		}
		get = func(ctx context.Context) error {
			_, err := c.GetVerification(ctx, benchID)
			return err
		}
	}

	var failed atomic.Int64
	var first atomic.Pointer[string]
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.N {
		wg.Go(func() {
			if err := get(context.Background()); err != nil {
				failed.Add(1)
				msg := err.Error()
				first.CompareAndSwap(nil, &msg)
			}
		})
	}
	wg.Wait()
	res := burstChildResult{Wall: time.Since(start), Failed: int(failed.Load()), PeakRSS: peakRSS()}
	if msg := first.Load(); msg != nil {
		res.FirstError = *msg
	}
	line, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(burstResultPrefix + string(line))
}

// peakRSS is the process's peak resident set size (VmHWM), in bytes, or 0
// where /proc/self/status does not say.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// v02HTTPClient is the default client of v0.2: no bound on connections,
// http.Client.Timeout, a TLS config to set the test roots on.
func v02HTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{},
	}
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}
