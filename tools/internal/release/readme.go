package release

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// command is one `go get` or `go install` line of a README.
type command struct {
	args  []string // after "go": "get", ..., or "install", ...
	where string   // README.md:12, for messages
}

func (c command) String() string { return "go " + strings.Join(c.args, " ") }

// targets returns the command's package arguments (flags left out).
func (c command) targets() []string {
	var out []string
	for _, a := range c.args[1:] {
		if !strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}

// readmeCommands returns, in order and once each, the `go get` and `go
// install` lines naming one of r's modules in the code blocks of the
// released modules' Markdown files (README.md first; CHANGELOG.md, which
// records the past, and testdata left out): the commands users are told to
// run, which the check runs in turn so that they cannot drift.
func (r *Repo) readmeCommands() ([]command, []error) {
	var cmds []command
	var problems []error
	seen := map[string]bool{}
	readmes, err := r.markdownFiles()
	if err != nil {
		return nil, []error{err}
	}
	for _, name := range readmes {
		f, err := os.Open(name)
		if err != nil {
			return nil, []error{err}
		}
		rel, _ := filepath.Rel(r.Root, name)
		sc := bufio.NewScanner(f)
		inCode := false
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "```") {
				inCode = !inCode
				continue
			}
			if !inCode {
				continue
			}
			line = strings.TrimSpace(strings.TrimPrefix(line, "$ "))
			if i := strings.Index(line, " #"); i >= 0 {
				line = strings.TrimSpace(line[:i])
			}
			fields := strings.Fields(line)
			if len(fields) < 3 || fields[0] != "go" || (fields[1] != "get" && fields[1] != "install") {
				continue
			}
			c := command{args: fields[1:], where: fmt.Sprintf("%s:%d", filepath.ToSlash(rel), n)}
			if !slices.ContainsFunc(c.targets(), func(t string) bool { return r.owner(strings.Split(t, "@")[0]) != nil }) {
				continue // about some other module
			}
			if strings.ContainsAny(line, ";&|<>$`()'\"\\") {
				problems = append(problems, fmt.Errorf("%s: `%s` is not a plain go command; the release check runs these lines as they are", c.where, line))
				continue
			}
			if !seen[c.String()] {
				seen[c.String()] = true
				cmds = append(cmds, c)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, []error{err}
		}
	}
	return cmds, problems
}

// markdownFiles lists the Markdown files of the released modules: the root
// README.md first, then the others by path.
func (r *Repo) markdownFiles() ([]string, error) {
	var files []string
	for _, m := range r.released() {
		err := filepath.WalkDir(m.Dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p == m.Dir {
					return nil
				}
				if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor" {
					return filepath.SkipDir
				}
				if _, err := os.Lstat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // its own module, listed on its own if released
				}
				return nil
			}
			if strings.HasSuffix(d.Name(), ".md") && d.Name() != "CHANGELOG.md" {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	readme := filepath.Join(r.Root, "README.md")
	slices.SortFunc(files, func(a, b string) int {
		switch {
		case a == readme:
			return -1
		case b == readme:
			return 1
		}
		return strings.Compare(a, b)
	})
	return files, nil
}
