package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Options configure Run.
type Options struct {
	Root string // the repository's working tree
	// Upstream are the GOPROXY entries after the working tree's own proxy,
	// for the modules the release depends on. Run's caller usually passes
	// the machine's module cache (file://$GOMODCACHE/cache/download, so
	// nothing is downloaded twice) and its GOPROXY.
	Upstream []string
	// Work is a scratch directory (a fresh module cache, the proxy, the
	// consumer, the API base); Run leaves it to the caller to remove.
	Work string
	Out  io.Writer
}

// Run runs every check in order (lockstep requirements, internal imports,
// module zips and the proxy, the consumer, the API guard) and returns every
// problem found, joined; nil when the working tree can be released as is.
// The consumer is skipped when an earlier check failed, since it would only
// fail the same way.
func Run(ctx context.Context, o Options) error {
	r, err := Discover(o.Root)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "== release %s: %d modules\n", r.Version, len(r.Modules))
	for _, m := range r.Modules {
		what := "released"
		if !m.Released() {
			what = "not released"
		}
		fmt.Fprintf(o.Out, "   %-14s %s\n", what, m.display())
	}
	var problems []error
	report := func(step string, found []error) {
		if len(found) == 0 {
			fmt.Fprintf(o.Out, "   %s: ok\n", step)
			return
		}
		for _, p := range found {
			fmt.Fprintf(o.Out, "   %s: FAIL: %v\n", step, p)
		}
		problems = append(problems, found...)
	}

	fmt.Fprintln(o.Out, "== lockstep versions and module paths")
	report("lockstep", r.CheckLockstep())

	fmt.Fprintln(o.Out, "== no module imports another's internal/ packages")
	found, err := r.CheckInternalImports(ctx)
	if err != nil {
		return err
	}
	report("internal imports", found)

	proxy := filepath.Join(o.Work, "proxy")
	fmt.Fprintf(o.Out, "== module zips and a file-based proxy in %s\n", proxy)
	found, err = r.BuildProxy(ctx, proxy)
	if err != nil {
		return err
	}
	report("zips", found)

	fmt.Fprintf(o.Out, "== a user's module, GOPROXY=file://%s,%s\n", filepath.ToSlash(proxy), strings.Join(o.Upstream, ","))
	if len(problems) > 0 {
		fmt.Fprintln(o.Out, "   skipped: fix the problems above first")
	} else {
		found, err = r.Consume(ctx, proxy, filepath.Join(o.Work, "user"), o.Upstream, o.Out)
		if err != nil {
			return err
		}
		report("consumer", found)
	}

	found, err = r.CheckAPI(ctx, filepath.Join(o.Work, "api"), o.Out)
	if err != nil {
		return err
	}
	report("API guard", found)

	if len(problems) > 0 {
		return fmt.Errorf("the release check found %d problem(s):\n%w", len(problems), errors.Join(problems...))
	}
	return nil
}

// MachineUpstream returns the GOPROXY entries a check on this machine should
// fall back to: the module cache's download directory, served as a proxy
// (what was downloaded once is not downloaded again), then the machine's
// GOPROXY.
func MachineUpstream(ctx context.Context) ([]string, error) {
	out, err := run(ctx, "", nil, "go", "env", "GOMODCACHE", "GOPROXY")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var up []string
	if dl := filepath.Join(strings.TrimSpace(lines[0]), "cache", "download"); dirExists(dl) {
		up = append(up, "file://"+filepath.ToSlash(dl))
	}
	if len(lines) > 1 && strings.TrimSpace(lines[1]) != "" {
		up = append(up, strings.TrimSpace(lines[1]))
	}
	return up, nil
}

func dirExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}
