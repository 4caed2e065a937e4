// Package release checks that the repository's modules can be released
// together and consumed as a user would: every module at one version,
// zipped as the go command would zip it, served from a file-based module
// proxy, required by a fresh module outside the repository, and compared
// with the last release's exported API.
//
// It is the repository's own tooling (module .../tools, never released), run
// by .ci/run through cmd/releasecheck.
package release

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// Repo is a working tree and the modules in it.
type Repo struct {
	Root      string    // absolute
	Version   string    // the release version, "v0.1.0": the core's Version constant with a "v"
	VersionAt string    // where that constant is, "client.go:18", for messages
	Core      *Module   // the module at Root
	Modules   []*Module // every module found, the core first, then by directory
}

// Module is one go.mod of the repository.
type Module struct {
	Path string        // module path
	Dir  string        // absolute directory
	Rel  string        // slash-separated directory relative to Repo.Root; "." for the core
	File *modfile.File // the parsed go.mod
}

// unreleasedDirs are module directories that are never released: the
// repository's own tooling. Modules under an internal/ directory are not
// released either (no user can import them), nor those under an examples/
// directory: programs to read, run and copy from a checkout, with their
// tests, which are modules of their own to keep their dependencies (a
// database driver, a browser driver) out of the released modules' go.mod.
var unreleasedDirs = []string{"tools"}

// Released reports whether m is published with each release: it is zipped,
// served by the check's proxy, required by the consumer and API-guarded.
// Every module is checked for lockstep versions and internal imports all
// the same.
func (m *Module) Released() bool {
	if slices.Contains(unreleasedDirs, m.Rel) {
		return false
	}
	return !hasInternalElem(m.Rel) && !slices.Contains(strings.Split(m.Rel, "/"), "examples")
}

// hasInternalElem reports whether a slash path has an "internal" element,
// which makes it private to the tree above it.
func hasInternalElem(p string) bool {
	return slices.Contains(strings.Split(p, "/"), "internal")
}

// Discover finds every module under root (every go.mod, outside testdata,
// vendor and hidden directories) and reads the release version from the
// core's Version constant.
func Discover(root string) (*Repo, error) {
	r, err := discoverModules(root)
	if err != nil {
		return nil, err
	}
	r.Version, r.VersionAt, err = readVersion(r.Root)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// discoverModules is Discover without the version, for trees (such as the
// API base) whose version does not matter.
func discoverModules(root string) (*Repo, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	r := &Repo{Root: abs}
	err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if p != abs && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
			return filepath.SkipDir
		}
		gomod := filepath.Join(p, "go.mod")
		data, err := os.ReadFile(gomod)
		if os.IsNotExist(err) {
			return nil
		} else if err != nil {
			return err
		}
		f, err := modfile.Parse(gomod, data, nil)
		if err != nil {
			return err
		}
		if f.Module == nil {
			return fmt.Errorf("%s has no module line", gomod)
		}
		rel, _ := filepath.Rel(abs, p)
		r.Modules = append(r.Modules, &Module{Path: f.Module.Mod.Path, Dir: p, Rel: filepath.ToSlash(rel), File: f})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(r.Modules) == 0 || r.Modules[0].Rel != "." {
		return nil, fmt.Errorf("%s has no go.mod: point the check at the repository's root", abs)
	}
	r.Core = r.Modules[0]
	return r, nil
}

// readVersion finds `const Version = "x.y.z"` in the non-test Go files of
// the core's root package and returns it as a canonical "vx.y.z", with the
// file and line it is on.
func readVersion(root string) (version, at string, err error) {
	files, err := filepath.Glob(filepath.Join(root, "*.go"))
	if err != nil {
		return "", "", err
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return "", "", err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if id.Name != "Version" || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						return "", "", fmt.Errorf("%s: Version must be a string literal, for the release check to read it", fset.Position(id.Pos()))
					}
					s, _ := strconv.Unquote(lit.Value)
					v := "v" + strings.TrimPrefix(s, "v")
					if !semver.IsValid(v) || semver.Canonical(v) != v {
						return "", "", fmt.Errorf("%s: Version %q is not a semantic version such as \"1.2.3\"", fset.Position(id.Pos()), s)
					}
					pos := fset.Position(id.Pos())
					return v, fmt.Sprintf("%s:%d", filepath.Base(pos.Filename), pos.Line), nil
				}
			}
		}
	}
	return "", "", fmt.Errorf("no `const Version = \"x.y.z\"` in the Go files of %s: the release version is read from there", root)
}

// byPath returns the module with module path p, or nil.
func (r *Repo) byPath(p string) *Module {
	for _, m := range r.Modules {
		if m.Path == p {
			return m
		}
	}
	return nil
}

// released returns the modules published with each release.
func (r *Repo) released() []*Module {
	var out []*Module
	for _, m := range r.Modules {
		if m.Released() {
			out = append(out, m)
		}
	}
	return out
}

// owner returns the repository module that provides import path p (the one
// with the longest matching path), or nil.
func (r *Repo) owner(p string) *Module {
	var best *Module
	for _, m := range r.Modules {
		if (p == m.Path || strings.HasPrefix(p, m.Path+"/")) && (best == nil || len(m.Path) > len(best.Path)) {
			best = m
		}
	}
	return best
}

// display names a module for messages: its directory, or "the core".
func (m *Module) display() string {
	if m.Rel == "." {
		return "the core module (" + m.Path + ")"
	}
	return path.Clean(m.Rel) + " (" + m.Path + ")"
}
