package release

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/mod/semver"
)

// BaseFile records the last release, the API guard's reference: lines
// "version X.Y.Z" and "commit HASH" ('#' starts a comment).
const BaseFile = ".ci/api-base"

// base is the last release.
type base struct {
	version string // "v0.1.0"
	commit  string
}

func readBase(root string) (base, error) {
	name := filepath.Join(root, filepath.FromSlash(BaseFile))
	f, err := os.Open(name)
	if err != nil {
		return base{}, fmt.Errorf("the API guard needs %s naming the last release (lines `version X.Y.Z` and `commit HASH`): %w", BaseFile, err)
	}
	defer f.Close()
	var b base
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		key, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch value = strings.TrimSpace(value); key {
		case "version":
			b.version = "v" + strings.TrimPrefix(value, "v")
		case "commit":
			b.commit = value
		}
	}
	if err := sc.Err(); err != nil {
		return base{}, err
	}
	if !semver.IsValid(b.version) || b.commit == "" {
		return base{}, fmt.Errorf("%s must name the last release: a line `version X.Y.Z` and a line `commit HASH`", BaseFile)
	}
	return b, nil
}

// change is one line of apidiff's report.
type change struct {
	ident      string // what changed, as apidiff names it: "(*Client).Do", "./heliumidtest.Server.URL"
	message    string // the whole line
	compatible bool
}

// CheckAPI prints the exported-API difference of each released module
// against the last release (BaseFile), computed by apidiff (pinned by the
// tools module's tool directive; it must run inside that module), and
// reports incompatible changes the version and CHANGELOG.md do not account
// for: an incompatible change needs the minor version bumped before 1.0 (the
// major after), and a CHANGELOG.md section for the new version that names
// each changed identifier. Main and internal packages are no API.
func (r *Repo) CheckAPI(ctx context.Context, work string, out io.Writer) ([]error, error) {
	b, err := readBase(r.Root)
	if err != nil {
		return []error{err}, nil
	}
	if semver.Compare(r.Version, b.version) < 0 {
		return []error{fmt.Errorf("the version %s is older than the last release %s (%s)", r.Version, b.version, BaseFile)}, nil
	}
	short := b.commit[:min(len(b.commit), 7)]
	baseDir := filepath.Join(work, "base")
	if err := r.extract(ctx, b.commit, baseDir); err != nil {
		return []error{err}, nil
	}
	baseRepo, err := discoverModules(baseDir)
	if err != nil {
		return nil, fmt.Errorf("the API base %s: %w", short, err)
	}
	apidiff, err := run(ctx, "", nil, "go", "tool", "-n", "apidiff")
	if err != nil {
		return nil, fmt.Errorf("building apidiff (run the check inside the tools module, whose go.mod pins it): %w", err)
	}
	apidiff = strings.TrimSpace(apidiff)

	var incompatible []change
	var problems []error
	for i, m := range r.released() {
		fmt.Fprintf(out, "== API of %s against %s (%s)\n", m.display(), b.version, short)
		old := baseRepo.byPath(m.Path)
		if old == nil {
			fmt.Fprintf(out, "   new since %s: no base to compare with\n", b.version)
			continue
		}
		changes, err := diffModule(ctx, apidiff, old, m, filepath.Join(work, "diff", strconv.Itoa(i)))
		if err != nil {
			return nil, err
		}
		if len(changes) == 0 {
			fmt.Fprintln(out, "   no change")
		}
		for _, c := range changes {
			kind := "compatible  "
			if m == r.Core && c.ident == "Version" && strings.HasPrefix(c.message, "Version: value changed") {
				// apidiff counts a constant's new value as incompatible;
				// this one changes with every release.
				fmt.Fprintf(out, "   %s %s (the release version: expected)\n", kind, c.message)
				continue
			}
			if !c.compatible {
				kind = "INCOMPATIBLE"
				incompatible = append(incompatible, c)
			}
			fmt.Fprintf(out, "   %s %s\n", kind, c.message)
		}
	}
	for _, old := range baseRepo.released() {
		if r.byPath(old.Path) == nil {
			fmt.Fprintf(out, "== %s: removed since %s\n", old.Path, b.version)
			incompatible = append(incompatible, change{ident: old.Path, message: "module " + old.Path + ": removed"})
		}
	}
	if len(incompatible) == 0 {
		return problems, nil
	}
	if !bumped(b.version, r.Version) {
		next := nextBreaking(b.version)
		var names []string
		for _, c := range incompatible {
			names = append(names, c.ident)
		}
		return append(problems, fmt.Errorf("%d incompatible API change(s) since %s (%s), but the version is still %s: bump Version (%s) to %s and name each change in CHANGELOG.md under `## [%s]`, or keep the old API",
			len(incompatible), b.version, strings.Join(names, ", "), r.Version, r.VersionAt, strings.TrimPrefix(next, "v"), strings.TrimPrefix(next, "v"))), nil
	}
	section, found, err := changelogSection(filepath.Join(r.Root, "CHANGELOG.md"), r.Version)
	if err != nil {
		return nil, err
	}
	if !found {
		return append(problems, fmt.Errorf("CHANGELOG.md has no `## [%s]` section, which must name the %d incompatible change(s) since %s",
			strings.TrimPrefix(r.Version, "v"), len(incompatible), b.version)), nil
	}
	for _, c := range incompatible {
		if !mentionsAny(section, identForms(c.ident)) {
			problems = append(problems, fmt.Errorf("CHANGELOG.md's `## [%s]` section does not name %s, an incompatible change since %s (%s): name it as `%s`",
				strings.TrimPrefix(r.Version, "v"), c.ident, b.version, c.message, identForms(c.ident)[len(identForms(c.ident))-1]))
		}
	}
	return problems, nil
}

// extract writes the tree of the repository at commit into dir, with git
// archive (no worktree to clean up).
func (r *Repo) extract(ctx context.Context, commit, dir string) error {
	short := commit[:min(len(commit), 7)]
	if _, err := run(ctx, r.Root, nil, "git", "cat-file", "-e", commit+"^{commit}"); err != nil {
		return fmt.Errorf("the API base %s (%s) is not in this clone, perhaps a shallow one: fetch it (`git fetch --unshallow`, or `git fetch origin %s`) and run again", short, BaseFile, commit)
	}
	prefix, err := run(ctx, r.Root, nil, "git", "rev-parse", "--show-prefix")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "git", "archive", "--format=tar", commit+":"+strings.TrimSpace(prefix))
	cmd.Dir = r.Root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	untarErr := untar(stdout, dir)
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %w: %s", short, err, stderr.String())
	}
	return untarErr
}

// untar writes the regular files and directories of a tar stream under dir.
func untar(rd io.Reader, dir string) error {
	tr := tar.NewReader(rd)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("git archive: unexpected path %q", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(name, 0o755)
		case tar.TypeReg:
			err = writeFile(name, tr, os.FileMode(h.Mode)&0o755|0o600)
		}
		if err != nil {
			return err
		}
	}
}

func writeFile(name string, rd io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, rd)
	return errors.Join(err, f.Close())
}

// diffModule runs apidiff on one module, old against new, through export
// data files (both trees share a module path, so each is loaded in its own
// directory), and returns its changes outside main packages.
func diffModule(ctx context.Context, apidiff string, old, new *Module, work string) ([]change, error) {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	oldData, newData := filepath.Join(work, "old.export"), filepath.Join(work, "new.export")
	env := map[string]string{"GOWORK": "off"}
	// -mod=mod: the base's go.sum may predate what today's go command wants.
	if _, err := run(ctx, old.Dir, map[string]string{"GOWORK": "off", "GOFLAGS": goflags("-mod=mod")}, apidiff, "-m", "-w", oldData, old.Path); err != nil {
		return nil, fmt.Errorf("apidiff on the base of %s: %w", old.Path, err)
	}
	if _, err := run(ctx, new.Dir, env, apidiff, "-m", "-w", newData, new.Path); err != nil {
		return nil, fmt.Errorf("apidiff on %s: %w", new.Path, err)
	}
	report, err := run(ctx, work, env, apidiff, "-m", oldData, newData)
	if err != nil {
		return nil, fmt.Errorf("apidiff comparing %s: %w", new.Path, err)
	}
	mains := map[string]bool{}
	for _, m := range []*Module{old, new} {
		out, err := run(ctx, m.Dir, map[string]string{"GOWORK": "off", "GOFLAGS": goflags("-mod=mod")}, "go", "list", "-e", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...")
		if err != nil {
			return nil, err
		}
		for line := range strings.Lines(out) {
			if p := strings.TrimSpace(line); p != "" {
				mains[p] = true
			}
		}
	}
	return parseReport(report, new.Path, mains), nil
}

// parseReport reads apidiff's text report, leaving out changes in main
// packages (their exported names are no one's API).
func parseReport(report, modPath string, mains map[string]bool) []change {
	var out []change
	compatible := false
	for line := range strings.Lines(report) {
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "Incompatible changes:":
			compatible = false
		case line == "Compatible changes:":
			compatible = true
		case strings.HasPrefix(line, "- "):
			msg := strings.TrimPrefix(line, "- ")
			ident, _, _ := strings.Cut(msg, ": ")
			if inMain(ident, modPath, mains) {
				continue
			}
			out = append(out, change{ident: ident, message: msg, compatible: compatible})
		}
	}
	return out
}

// inMain reports whether an apidiff identifier belongs to a main package:
// "package <path>" or "./<rel>.Name".
func inMain(ident, modPath string, mains map[string]bool) bool {
	if p, ok := strings.CutPrefix(ident, "package "); ok {
		return mains[p]
	}
	rel, ok := strings.CutPrefix(ident, "./")
	if !ok {
		return mains[modPath]
	}
	for p := range mains {
		if r, ok := strings.CutPrefix(p, modPath+"/"); ok && strings.HasPrefix(rel, r+".") {
			return true
		}
	}
	return false
}

// bumped reports whether going from old to new is allowed to break the API:
// before 1.0 a new minor, after it a new major.
func bumped(old, new string) bool {
	if semver.Major(old) == "v0" {
		return semver.Major(new) != "v0" || semver.Compare(semver.MajorMinor(new), semver.MajorMinor(old)) > 0
	}
	return semver.Compare(semver.Major(new), semver.Major(old)) > 0
}

// nextBreaking is the first version after old that may break its API.
func nextBreaking(old string) string {
	var major, minor int
	fmt.Sscanf(semver.MajorMinor(old), "v%d.%d", &major, &minor)
	if major == 0 {
		return fmt.Sprintf("v0.%d.0", minor+1)
	}
	return fmt.Sprintf("v%d.0.0", major+1)
}

// changelogSection returns the text of CHANGELOG.md's `## [X.Y.Z]` section
// for version.
func changelogSection(file, version string) (string, bool, error) {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	heading := regexp.MustCompile(`^## \[v?` + regexp.QuoteMeta(strings.TrimPrefix(version, "v")) + `\]`)
	var section strings.Builder
	in, found := false, false
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(line, "## ") {
			in = heading.MatchString(line)
			found = found || in
			continue
		}
		if in {
			section.WriteString(line)
		}
	}
	return section.String(), found, nil
}

// identForms are the ways a changelog may name an apidiff identifier:
// as printed ("(*Client).Do", "heliumidtest.Server.URL") or with the
// pointer receiver spelled plainly ("Client.Do"), which it suggests.
func identForms(ident string) []string {
	id := strings.TrimPrefix(strings.TrimPrefix(ident, "package "), "./")
	forms := []string{id}
	if plain := regexp.MustCompile(`\(\*(\w+)\)`).ReplaceAllString(id, "$1"); plain != id {
		forms = append(forms, plain)
	}
	return forms
}

// mentionsAny reports whether text names one of forms as a whole identifier:
// not as part of a longer one, nor as the qualifier of a member
// ("Limiter.Feedback" does not name "Limiter"; a sentence's full stop is
// no member).
func mentionsAny(text string, forms []string) bool {
	for _, f := range forms {
		re := regexp.MustCompile(`(^|[^\w])` + regexp.QuoteMeta(f) + `($|[^\w.]|\.($|[^\w]))`)
		if re.MatchString(text) {
			return true
		}
	}
	return false
}
