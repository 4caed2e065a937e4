package release

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fixture copies testdata/good (a core module example.com/fix at 0.3.0 with
// an internal package and a command, and a submodule sub) into a temporary
// directory and returns its root. It is a git repository whose one commit
// is recorded in .ci/api-base as the last release, 0.3.0.
func fixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	err := filepath.WalkDir("testdata/good", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("testdata/good", p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return write(root, rel, string(data))
	})
	if err != nil {
		t.Fatal(err)
	}
	git(t, root, "init", "-q")
	git(t, root, "add", "-A")
	git(t, root, "-c", "user.name=fixture", "-c", "user.email=fixture@example.com", "commit", "-q", "-m", "v0.3.0")
	commit := strings.TrimSpace(git(t, root, "rev-parse", "HEAD"))
	edit(t, root, map[string]string{".ci/api-base": "version 0.3.0\ncommit " + commit + "\n"})
	return root
}

// edit writes files under root (slash paths); an empty content deletes.
func edit(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if content == "" {
			if err := os.Remove(filepath.Join(root, filepath.FromSlash(name))); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := write(root, name, content); err != nil {
			t.Fatal(err)
		}
	}
}

// replaceIn edits one file of root, replacing old (which must be there) by new.
func replaceIn(t *testing.T, root, name, old, new string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", name, old)
	}
	edit(t, root, map[string]string{name: strings.Replace(string(data), old, new, 1)})
}

func write(root, name, content string) error {
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// discover is Discover that fails the test on error.
func discover(t *testing.T, root string) *Repo {
	t.Helper()
	r, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runAll runs every check on root as .ci/run does, offline (the fixtures
// depend on nothing outside the proxy), and returns its output and error.
func runAll(t *testing.T, root string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := Run(context.Background(), Options{Root: root, Work: t.TempDir(), Out: &out})
	return out.String(), err
}

// wantProblem fails unless one of problems contains every one of words.
func wantProblem(t *testing.T, problems []error, words ...string) {
	t.Helper()
	for _, p := range problems {
		all := true
		for _, w := range words {
			all = all && strings.Contains(p.Error(), w)
		}
		if all {
			return
		}
	}
	t.Errorf("no problem mentions %q; got:\n%v", words, errors.Join(problems...))
}
