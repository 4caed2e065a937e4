// Package doclinks checks the relative links of a repository's Markdown
// files: each must name a file or directory that exists, and a fragment
// into a Markdown file must name one of its headings, as GitHub renders
// them. Links with a scheme (https:, mailto:) are left alone: checking
// them needs the network.
package doclinks

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// Check returns one error per broken link in the Markdown files under
// root, outside hidden directories, testdata and vendor.
func Check(root string) ([]error, error) {
	files, err := markdownFiles(root)
	if err != nil {
		return nil, err
	}
	anchors := map[string]map[string]bool{} // by file, once each
	var broken []error
	for _, file := range files {
		links, err := linksOf(file)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			if problem := check(root, file, l.target, anchors); problem != "" {
				rel, _ := filepath.Rel(root, file)
				broken = append(broken, fmt.Errorf("%s:%d: %s: %s", filepath.ToSlash(rel), l.line, l.target, problem))
			}
		}
	}
	return broken, nil
}

func markdownFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".md") {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

type link struct {
	target string
	line   int
}

var (
	inlineLink    = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	referenceLink = regexp.MustCompile(`^\s*\[[^\]]+\]:\s*(\S+)`)
	codeSpan      = regexp.MustCompile("`+[^`]*`+")
)

// linksOf returns the link targets of a Markdown file, outside code
// blocks and code spans.
func linksOf(file string) ([]link, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var links []link
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	inCode := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if isFence(line) {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		line = codeSpan.ReplaceAllString(line, "")
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			links = append(links, link{target: m[1], line: n})
		}
		if m := referenceLink.FindStringSubmatch(line); m != nil {
			links = append(links, link{target: m[1], line: n})
		}
	}
	return links, sc.Err()
}

func isFence(line string) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")
}

var scheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)

// check returns what is wrong with target, a link in file, or "".
func check(root, file, target string, anchors map[string]map[string]bool) string {
	if scheme.MatchString(target) || strings.HasPrefix(target, "//") {
		return ""
	}
	path, fragment, _ := strings.Cut(target, "#")
	dest := file
	if path != "" {
		if strings.HasPrefix(path, "/") {
			dest = filepath.Join(root, filepath.FromSlash(path))
		} else {
			dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
		}
		if rel, err := filepath.Rel(root, dest); err != nil || strings.HasPrefix(rel, "..") {
			return "points outside the repository"
		}
		if _, err := os.Stat(dest); err != nil {
			return "no such file or directory"
		}
	}
	if fragment == "" || !strings.HasSuffix(dest, ".md") {
		return ""
	}
	known, ok := anchors[dest]
	if !ok {
		var err error
		if known, err = headingAnchors(dest); err != nil {
			return err.Error()
		}
		anchors[dest] = known
	}
	if !known[fragment] {
		return "no heading with the anchor #" + fragment
	}
	return ""
}

var (
	atxHeading  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	headingLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// headingAnchors returns the anchors GitHub gives the headings of a
// Markdown file: the heading's text, lower-cased, without punctuation
// other than hyphens and underscores, spaces turned into hyphens, and
// "-1", "-2" … after a repeated one.
func headingAnchors(file string) (map[string]bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	anchors := map[string]bool{}
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	inCode := false
	for sc.Scan() {
		line := sc.Text()
		if isFence(line) {
			inCode = !inCode
			continue
		}
		m := atxHeading.FindStringSubmatch(line)
		if inCode || m == nil {
			continue
		}
		slug := Slug(m[1])
		if n := seen[slug]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors, sc.Err()
}

// Slug is the anchor GitHub gives a heading whose Markdown text is text.
func Slug(text string) string {
	text = headingLink.ReplaceAllString(text, "$1")
	text = strings.NewReplacer("`", "", "*", "").Replace(text)
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
