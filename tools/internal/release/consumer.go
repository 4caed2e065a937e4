package release

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// consumerModule is the module path of the fresh module that plays the user.
const consumerModule = "example.com/releaseconsumer"

// packages lists a released module's packages: libraries (what users
// import) and commands (main packages under cmd/, what users install).
func (r *Repo) packages(ctx context.Context, m *Module) (libraries, commands []string, err error) {
	out, err := run(ctx, m.Dir, map[string]string{"GOWORK": "off"}, "go", "list", "-f", "{{.ImportPath}} {{.Name}}", "./...")
	if err != nil {
		return nil, nil, err
	}
	for line := range strings.Lines(out) {
		path, name, _ := strings.Cut(strings.TrimSpace(line), " ")
		rel := strings.TrimPrefix(strings.TrimPrefix(path, m.Path), "/")
		switch {
		case path == "" || hasInternalElem(rel):
		case name != "main":
			libraries = append(libraries, path)
		case strings.HasPrefix(rel, "cmd/"):
			commands = append(commands, path)
		}
	}
	return libraries, commands, nil
}

// Consume plays a user of the release: in a fresh module under work, with
// GOWORK=off, a module cache of its own (so a stale cached copy of this
// version is never used) and the proxy at proxyDir in front of upstream
// (GOPROXY entries, in order), it runs the READMEs' `go get` lines, checks
// that each released module resolved at r.Version, builds and runs a small
// program using every released library package, then runs the READMEs' `go
// install` lines and the installed commands.
func (r *Repo) Consume(ctx context.Context, proxyDir, work string, upstream []string, out io.Writer) ([]error, error) {
	cmds, problems := r.readmeCommands()

	var libraries, commands []string
	libModules := map[string]bool{}
	for _, m := range r.released() {
		libs, mains, err := r.packages(ctx, m)
		if err != nil {
			return nil, err
		}
		libraries = append(libraries, libs...)
		commands = append(commands, mains...)
		if len(libs) > 0 {
			libModules[m.Path] = true
		}
	}
	problems = append(problems, r.coverage(cmds, libModules, commands)...)

	goproxy := append([]string{"file://" + filepath.ToSlash(proxyDir)}, upstream...)
	env := map[string]string{
		"GOWORK":      "off",
		"GOMODCACHE":  filepath.Join(work, "modcache"),
		"GOBIN":       filepath.Join(work, "bin"),
		"GOPROXY":     strings.Join(goproxy, ","),
		"GONOSUMDB":   r.Core.Path, // not published: no checksum database knows it (covers the submodules' paths)
		"GONOPROXY":   "",
		"GOPRIVATE":   "",
		"GOFLAGS":     goflags("-modcacherw", "-trimpath"), // removable cache; -trimpath lets the build cache serve later runs
		"GOTOOLCHAIN": "local",
		"GO111MODULE": "on",
	}
	dir := filepath.Join(work, "consumer")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	step := func(what string) { fmt.Fprintf(out, "   %s\n", what) }

	step("go mod init " + consumerModule)
	if _, err := run(ctx, dir, env, "go", "mod", "init", consumerModule); err != nil {
		return nil, err
	}
	if err := r.seedSums(filepath.Join(dir, "go.sum")); err != nil {
		return nil, err
	}
	for _, c := range cmds {
		if c.args[0] != "get" {
			continue
		}
		step(c.String() + "   (" + c.where + ")")
		if _, err := run(ctx, dir, env, "go", c.args...); err != nil {
			return append(problems, fmt.Errorf("%s: `%s` failed as a user would run it:\n%v", c.where, c, err)), nil
		}
	}
	var paths []string
	for _, m := range r.released() {
		if libModules[m.Path] {
			paths = append(paths, m.Path)
		}
	}
	resolved, err := run(ctx, dir, env, "go", append([]string{"list", "-m", "-e", "-f", "{{.Path}} {{.Version}}"}, paths...)...)
	if err != nil {
		return append(problems, err), nil
	}
	versions := map[string]string{}
	for line := range strings.Lines(resolved) {
		p, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		versions[p] = v
	}
	for _, m := range r.released() {
		if v := versions[m.Path]; libModules[m.Path] && v != r.Version {
			problems = append(problems, fmt.Errorf("%s resolved at %q in a user's module after the READMEs' `go get` lines, not at the release %s", m.display(), v, r.Version))
		}
	}

	var known []snippet
	var expect []string
	all := snippets(r.Core.Path, r.Version)
	for _, m := range r.released() {
		if s, ok := all[m.Path]; ok {
			known = append(known, s)
			expect = append(expect, s.expect)
		}
	}
	src, err := program(libraries, known)
	if err != nil {
		return nil, fmt.Errorf("generating the consumer program: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		return nil, err
	}
	step("go mod tidy && go build, with a program importing every released package")
	bin := filepath.Join(work, "consumer-program")
	if _, err := run(ctx, dir, env, "go", "mod", "tidy"); err != nil {
		return append(problems, fmt.Errorf("the consumer program's `go mod tidy` failed (its main.go is in %s):\n%v", dir, err)), nil
	}
	if _, err := run(ctx, dir, env, "go", "build", "-o", bin, "."); err != nil {
		return append(problems, fmt.Errorf("the consumer program does not build (its main.go is in %s):\n%v", dir, err)), nil
	}
	printed, err := run(ctx, dir, env, bin)
	if err != nil {
		return append(problems, fmt.Errorf("the consumer program failed: %v", err)), nil
	}
	for _, want := range append(expect, "consumer ok") {
		if !strings.Contains(printed, want) {
			problems = append(problems, fmt.Errorf("the consumer program printed %q, without %q", printed, want))
		}
	}
	fmt.Fprint(out, indent(strings.TrimSpace(printed))+"\n")

	for _, c := range cmds {
		if c.args[0] != "install" {
			continue
		}
		step(c.String() + "   (" + c.where + ")")
		if _, err := run(ctx, work, env, "go", c.args...); err != nil {
			problems = append(problems, fmt.Errorf("%s: `%s` failed as a user would run it:\n%v", c.where, c, err))
			continue
		}
		for _, t := range c.targets() {
			problems = append(problems, r.checkInstalled(ctx, env, strings.Split(t, "@")[0])...)
		}
	}
	return problems, nil
}

// coverage reports released modules no README tells users to `go get`, and
// commands none tells them to `go install`.
func (r *Repo) coverage(cmds []command, libModules map[string]bool, commands []string) []error {
	got, installed := map[string]bool{}, map[string]bool{}
	for _, c := range cmds {
		for _, t := range c.targets() {
			p := strings.Split(t, "@")[0]
			if c.args[0] == "get" {
				if m := r.owner(p); m != nil {
					got[m.Path] = true
				}
			} else {
				installed[p] = true
			}
		}
	}
	var problems []error
	for _, p := range slices.Sorted(maps.Keys(libModules)) {
		if !got[p] {
			problems = append(problems, fmt.Errorf("no README tells users to get %s: add `go get %s` to the Install section of README.md (the release check runs it)", p, p))
		}
	}
	for _, p := range commands {
		if !installed[p] {
			problems = append(problems, fmt.Errorf("no README tells users to install %s: add `go install %s@latest` to the Install section of README.md (the release check runs it)", p, p))
		}
	}
	return problems
}

// checkInstalled checks that the command installed from package p was built
// from the release (its module at r.Version) and runs: `--help` exits 0.
func (r *Repo) checkInstalled(ctx context.Context, env map[string]string, p string) []error {
	bin := filepath.Join(env["GOBIN"], filepath.Base(p))
	m := r.owner(p)
	if m == nil {
		return nil
	}
	info, err := run(ctx, filepath.Dir(bin), env, "go", "version", "-m", bin)
	if err != nil {
		return []error{fmt.Errorf("%s was not installed where GOBIN says: %v", p, err)}
	}
	want := "\tmod\t" + m.Path + "\t" + r.Version + "\t"
	if !strings.Contains(info, want) {
		return []error{fmt.Errorf("%s was built from something else than %s %s:\n%s", p, m.Path, r.Version, indent(info))}
	}
	if _, err := run(ctx, filepath.Dir(bin), env, bin, "--help"); err != nil {
		return []error{fmt.Errorf("the installed %s does not run: %v", filepath.Base(p), err)}
	}
	return nil
}

// seedSums writes the released modules' go.sum lines, verified when they
// were added, into the consumer's go.sum, so that resolving dependencies
// needs no checksum-database round trips.
func (r *Repo) seedSums(dst string) error {
	var lines []string
	for _, m := range r.released() {
		data, err := os.ReadFile(filepath.Join(m.Dir, "go.sum"))
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			return err
		}
		for line := range strings.Lines(string(data)) {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	if len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return nil
	}
	return os.WriteFile(dst, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}
