// Command releasecheck checks that the repository's working tree can be
// released and consumed as a user would consume it: every module at the
// version in the core's Version constant, requiring the others at exactly
// that version; no module importing another's internal/ packages; every
// module zip valid and free of artifacts; a fresh module outside the
// repository that gets the modules (through the READMEs' own `go get` lines,
// from a file-based proxy built from the working tree), builds and runs a
// program using them, and installs the command (the READMEs' `go install`
// line); and the exported API compared with the last release (.ci/api-base)
// by apidiff, incompatible changes requiring a version bump and a CHANGELOG
// entry.
//
// Run it from the tools module, which pins apidiff:
//
//	cd tools && go run ./cmd/releasecheck -root ..
//
// It exits 1 when the tree cannot be released, listing every problem.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/heliumid/heliumid-go/tools/internal/release"
)

func main() {
	root := flag.String("root", "..", "the repository's working tree")
	keep := flag.Bool("keep", false, "keep the scratch directory (proxy, consumer, API base) and print where it is")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := check(ctx, *root, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
		os.Exit(1)
	}
	fmt.Println("releasecheck: ok")
}

func check(ctx context.Context, root string, keep bool) error {
	work, err := os.MkdirTemp("", "releasecheck-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("releasecheck: scratch directory", work)
	} else {
		defer os.RemoveAll(work)
	}
	upstream, err := release.MachineUpstream(ctx)
	if err != nil {
		return err
	}
	return release.Run(ctx, release.Options{Root: root, Upstream: upstream, Work: work, Out: os.Stdout})
}
