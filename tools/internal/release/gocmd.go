package release

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// commandTimeout bounds every command the check runs, so a hung download or
// program fails the check instead of CI.
const commandTimeout = 5 * time.Minute

// trace, set by RELEASECHECK_TRACE=1, prints each command and how long it took.
var trace = os.Getenv("RELEASECHECK_TRACE") == "1"

// run runs name with args in dir, with the environment env (on top of this
// process's), and returns its standard output. The error quotes the
// command, where it ran and its standard error.
func run(ctx context.Context, dir string, env map[string]string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = environ(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if trace {
		fmt.Fprintf(os.Stderr, "releasecheck: %v  %s %s (in %s)\n", time.Since(start).Round(time.Millisecond), name, strings.Join(args, " "), dir)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.String(), fmt.Errorf("`%s %s` in %s: %w\n%s", name, strings.Join(args, " "), dir, err, indent(msg))
	}
	return stdout.String(), nil
}

// environ is os.Environ() with the keys of env replaced (an empty value
// unsets the variable for the go command's purposes).
func environ(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// indent prefixes each line of s for nesting under a message.
func indent(s string) string {
	if s == "" {
		return ""
	}
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}

// goflags returns GOFLAGS with extra flags appended, keeping the caller's.
func goflags(extra ...string) string {
	return strings.TrimSpace(os.Getenv("GOFLAGS") + " " + strings.Join(extra, " "))
}
