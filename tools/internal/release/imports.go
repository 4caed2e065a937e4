package release

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// listedPackage is what `go list -json` says of a package, as far as the
// import check needs it.
type listedPackage struct {
	ImportPath string
	Standard   bool
	Module     *struct{ Path string }
	Imports    []string
	Error      *struct{ Err string }
}

// CheckInternalImports reports every package of a module (tests included)
// that imports another module's internal/ package. Go allows it when the
// paths nest (redisrate lives under the core's path), but the two modules
// are released apart: the internal package may change in any release, and
// the importing module would break with it.
func (r *Repo) CheckInternalImports(ctx context.Context) ([]error, error) {
	var problems []error
	for _, m := range r.Modules {
		out, err := run(ctx, m.Dir, map[string]string{"GOWORK": "off"},
			"go", "list", "-e", "-deps", "-test", "-json=ImportPath,Standard,Module,Imports,Error", "./...")
		if err != nil {
			return nil, err
		}
		pkgs := map[string]listedPackage{}
		var order []string
		dec := json.NewDecoder(strings.NewReader(out))
		for {
			var p listedPackage
			if err := dec.Decode(&p); err == io.EOF {
				break
			} else if err != nil {
				return nil, fmt.Errorf("reading `go list` in %s: %w", m.Dir, err)
			}
			pkgs[p.ImportPath] = p
			order = append(order, p.ImportPath)
		}
		reported := map[string]bool{} // a package and its test variant import the same
		for _, path := range order {
			p := pkgs[path]
			if p.Module == nil || p.Module.Path != m.Path {
				continue
			}
			if p.Error != nil {
				problems = append(problems, fmt.Errorf("%s: package %s: %s", m.display(), path, p.Error.Err))
			}
			for _, imp := range p.Imports {
				dep, ok := pkgs[imp]
				if !ok || dep.Standard || dep.Module == nil || dep.Module.Path == m.Path {
					continue
				}
				plain := stripVariant(imp)
				if key := stripVariant(path) + " " + plain; hasInternalElem(plain) && !reported[key] {
					reported[key] = true
					problems = append(problems, fmt.Errorf("%s: %s imports %s, an internal package of module %s: modules are released apart, so give %s its own copy (or a public API in %s)",
						m.display(), stripVariant(path), plain, dep.Module.Path, m.Rel, dep.Module.Path))
				}
			}
		}
	}
	return problems, nil
}

// stripVariant turns go list's "pkg [pkg.test]" into "pkg".
func stripVariant(p string) string {
	before, _, _ := strings.Cut(p, " [")
	return before
}
