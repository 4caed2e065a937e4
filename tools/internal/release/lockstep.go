package release

import (
	"fmt"
	"path/filepath"
)

// CheckLockstep reports every way the modules fail to be released together:
// a module requiring another module of the repository at any version but
// the release's (Go would fetch that version in a user's build, where
// replace directives are ignored), a missing replace to the working tree
// (builds inside the repository would use a published version instead), or
// a module path that does not match its directory (its tag could not be
// found).
func (r *Repo) CheckLockstep() []error {
	var problems []error
	for _, m := range r.Modules {
		if m != r.Core {
			if want := r.Core.Path + "/" + m.Rel; m.Path != want {
				problems = append(problems, fmt.Errorf("%s/go.mod: the module path must be %s, the core's path and the directory, so that its tag %s/%s points at it",
					m.Rel, want, m.Rel, r.Version))
			}
		}
		for _, req := range m.File.Require {
			dep := r.byPath(req.Mod.Path)
			if dep == nil {
				continue
			}
			if req.Mod.Version != r.Version {
				problems = append(problems, fmt.Errorf("%s/go.mod requires %s %s, but the release is %s (Version, %s): every module is released at that one version; run (cd %s && go mod edit -require=%s@%s)",
					m.Rel, req.Mod.Path, req.Mod.Version, r.Version, r.VersionAt, m.Rel, req.Mod.Path, r.Version))
			}
			if !replacedByDir(m, dep) {
				rel, _ := filepath.Rel(m.Dir, dep.Dir)
				problems = append(problems, fmt.Errorf("%s/go.mod needs `replace %s => %s`, so that builds inside the repository use the working tree (a user's build ignores it)",
					m.Rel, dep.Path, filepath.ToSlash(rel)))
			}
		}
	}
	return problems
}

// replacedByDir reports whether m's go.mod replaces dep's path (any version)
// with dep's directory.
func replacedByDir(m, dep *Module) bool {
	for _, rep := range m.File.Replace {
		if rep.Old.Path != dep.Path || rep.New.Version != "" {
			continue
		}
		target := rep.New.Path
		if !filepath.IsAbs(target) {
			target = filepath.Join(m.Dir, target)
		}
		if filepath.Clean(target) == filepath.Clean(dep.Dir) {
			return true
		}
	}
	return false
}
