package release

import (
	"bufio"
	"fmt"
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
// install` lines naming one of r's modules in the code blocks of the root
// README.md and of each released module's README.md: the commands users are
// told to run, which the check runs in turn so that they cannot drift.
func (r *Repo) readmeCommands() ([]command, []error) {
	var cmds []command
	var problems []error
	seen := map[string]bool{}
	readmes := []string{filepath.Join(r.Root, "README.md")}
	for _, m := range r.released() {
		if m != r.Core {
			readmes = append(readmes, filepath.Join(m.Dir, "README.md"))
		}
	}
	for _, name := range readmes {
		f, err := os.Open(name)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
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
