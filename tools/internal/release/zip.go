package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// What a release must not ship, beyond what golang.org/x/mod/zip refuses
// (case-colliding or invalid names, over 500 MB): every user downloads the
// whole module zip, and a stray binary or profile in it is at best dead
// weight and at worst a leak.
const (
	// maxFileSize: the largest source, doc or test fixture here is ~26 KB;
	// anything over 1 MiB is almost surely an artifact.
	maxFileSize = 1 << 20
	// maxModuleSize: a module zip of more than 8 MiB uncompressed.
	maxModuleSize = 8 << 20
)

// refusedSuffixes are build and profiling outputs (go test -c, go build on
// Windows, cgo objects, -cpuprofile/-coverprofile files).
var refusedSuffixes = []string{".test", ".exe", ".dll", ".so", ".dylib", ".o", ".a", ".prof", ".pprof", ".out"}

// executableMagic are the first bytes of compiled programs and archives:
// ELF, Mach-O (32/64-bit, both byte orders, universal), PE, WebAssembly, ar.
var executableMagic = [][]byte{
	[]byte("\x7fELF"),
	{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe},
	[]byte("MZ"),
	[]byte("\x00asm"),
	[]byte("!<arch>\n"),
}

// fileInDir is a file of a module's directory, as x/mod/zip takes it.
type fileInDir struct {
	rel  string // slash path in the module
	path string // on disk
	info fs.FileInfo
}

func (f fileInDir) Path() string                 { return f.rel }
func (f fileInDir) Lstat() (os.FileInfo, error)  { return f.info, nil }
func (f fileInDir) Open() (io.ReadCloser, error) { return os.Open(f.path) }

// moduleFiles lists what the go command would put in m's zip if the working
// tree were tagged: every file under m.Dir except version-control
// directories, nested modules, and files git ignores (a tag never holds
// them; without git, nothing is ignored). The .git file of a git worktree is
// left out for the same reason.
func (r *Repo) moduleFiles(ctx context.Context, m *Module) ([]modzip.File, error) {
	ignored, err := gitIgnored(ctx, m.Dir)
	if err != nil {
		return nil, err
	}
	var files []modzip.File
	err = filepath.WalkDir(m.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(m.Dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p == m.Dir {
				return nil
			}
			switch d.Name() {
			case ".git", ".hg", ".svn", ".bzr":
				return filepath.SkipDir
			}
			if _, err := os.Lstat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // a nested module: zipped on its own
			}
			return nil
		}
		if rel == ".git" || ignored[rel] {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, fileInDir{rel: rel, path: p, info: info})
		return nil
	})
	return files, err
}

// gitIgnored returns the files under dir that git ignores (untracked and
// matching .gitignore), relative to dir; none when dir is not in a git work
// tree.
func gitIgnored(ctx context.Context, dir string) (map[string]bool, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, nil
	}
	if _, err := run(ctx, dir, nil, "git", "rev-parse", "--is-inside-work-tree"); err != nil {
		return nil, nil
	}
	out, err := run(ctx, dir, nil, "git", "ls-files", "-z", "--others", "--ignored", "--exclude-standard", ".")
	if err != nil {
		return nil, err
	}
	ignored := map[string]bool{}
	for name := range strings.SplitSeq(out, "\x00") {
		if name != "" {
			ignored[name] = true
		}
	}
	return ignored, nil
}

// refusal says why a file must not ship, or "" when it may.
func refusal(f modzip.File) (string, error) {
	info, err := f.Lstat()
	if err != nil {
		return "", err
	}
	if !info.Mode().IsRegular() {
		return "", nil // x/mod/zip leaves it out
	}
	if info.Size() > maxFileSize {
		return fmt.Sprintf("%d bytes, over the %d a release ships for one file: an artifact? Delete it or add it to .gitignore", info.Size(), maxFileSize), nil
	}
	base := path.Base(f.Path())
	for _, suffix := range refusedSuffixes {
		if strings.HasSuffix(base, suffix) {
			return fmt.Sprintf("a %s file is build or profiling output: delete it or add it to .gitignore", suffix), nil
		}
	}
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(rc, head)
	for _, magic := range executableMagic {
		if bytes.HasPrefix(head[:n], magic) {
			return "a compiled program or archive: delete it or add it to .gitignore", nil
		}
	}
	return "", nil
}

// BuildProxy writes a file-based module proxy under dir serving every
// released module at r.Version, zipped from the working tree with
// golang.org/x/mod/zip, and returns what stops a module from shipping. A
// module with problems is left out of the proxy.
func (r *Repo) BuildProxy(ctx context.Context, dir string) ([]error, error) {
	var problems []error
	for _, m := range r.released() {
		files, err := r.moduleFiles(ctx, m)
		if err != nil {
			return nil, err
		}
		var mine []error
		checked, _ := modzip.CheckFiles(files)
		for _, fe := range checked.Invalid {
			mine = append(mine, fmt.Errorf("%s cannot be zipped: %s: %v", m.display(), fe.Path, fe.Err))
		}
		if checked.SizeError != nil {
			mine = append(mine, fmt.Errorf("%s cannot be zipped: %v", m.display(), checked.SizeError))
		}
		var total int64
		for _, f := range files {
			why, err := refusal(f)
			if err != nil {
				return nil, err
			}
			if why != "" {
				mine = append(mine, fmt.Errorf("%s must not ship %s: %s", m.display(), f.Path(), why))
			}
			if info, _ := f.Lstat(); info.Mode().IsRegular() {
				total += info.Size()
			}
		}
		if total > maxModuleSize {
			mine = append(mine, fmt.Errorf("%s holds %d bytes, over the %d a release ships", m.display(), total, maxModuleSize))
		}
		if len(mine) == 0 {
			mine = append(mine, r.serve(dir, m, files)...)
		}
		problems = append(problems, mine...)
	}
	return problems, nil
}

// serve writes m's .info, .mod, .zip and list into the proxy at dir, then
// checks the zip as the go command will when a user downloads it.
func (r *Repo) serve(dir string, m *Module, files []modzip.File) []error {
	mv := module.Version{Path: m.Path, Version: r.Version}
	escaped, err := module.EscapePath(m.Path)
	if err != nil {
		return []error{fmt.Errorf("%s: %v", m.display(), err)}
	}
	vdir := filepath.Join(dir, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return []error{err}
	}
	base := filepath.Join(vdir, r.Version)
	zipPath := base + ".zip"
	zf, err := os.Create(zipPath)
	if err != nil {
		return []error{err}
	}
	err = modzip.Create(zf, mv, files)
	if cerr := zf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return []error{fmt.Errorf("%s cannot be zipped: %w", m.display(), err)}
	}
	if _, err := modzip.CheckZip(mv, zipPath); err != nil {
		return []error{fmt.Errorf("%s: the zip the go command would download is invalid: %w", m.display(), err)}
	}
	gomod, err := os.ReadFile(filepath.Join(m.Dir, "go.mod"))
	if err != nil {
		return []error{err}
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{r.Version, time.Now().UTC().Truncate(time.Second)})
	err = errors.Join(
		os.WriteFile(base+".mod", gomod, 0o644),
		os.WriteFile(base+".info", info, 0o644),
		os.WriteFile(filepath.Join(vdir, "list"), []byte(r.Version+"\n"), 0o644),
	)
	if err != nil {
		return []error{err}
	}
	return nil
}
