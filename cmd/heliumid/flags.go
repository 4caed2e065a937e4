package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// newFlagSet returns a FlagSet for command name that reports parse errors on
// stderr and leaves help to parse.
func (c *cli) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("heliumid "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {} // parse prints the help itself, to stdout
	return fs
}

// parse parses args with fs and returns the positional arguments. Flags may
// come after positional ones ("heliumid get ID --json"), unlike with a bare
// flag.FlagSet; everything after "--" is positional.
//
// When the command must stop here, done is true and code is its exit code:
// 0 after printing help (for -h or --help) to stdout, exitUsage after a bad
// flag, which the flag package has reported on stderr.
func (c *cli) parse(fs *flag.FlagSet, help string, args []string) (positional []string, code int, done bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			printHelp(c.stdout, fs, help)
			return nil, exitOK, true
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "Run '%s --help' for usage.\n", fs.Name())
			return nil, exitUsage, true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, 0, false
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), 0, false
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// helpWidth is the widest line of a command's help, in columns: the help
// must read on an 80-column terminal without wrapping mid-word.
const helpWidth = 80

// printHelp writes a command's help: its usage line wrapped to helpWidth,
// the rest of its text as written (kept within helpWidth by hand), then its
// flags, spelled with two dashes as the usage lines and examples spell them
// (the flag package accepts either), their descriptions wrapped.
func printHelp(w io.Writer, fs *flag.FlagSet, help string) {
	usage, rest, _ := strings.Cut(help, "\n\n")
	// The usage paragraph is one line in the source, listing every flag;
	// its continuation lines line up after the command's name.
	prefix := "Usage: " + fs.Name() + " "
	if words, ok := strings.CutPrefix(strings.Join(strings.Fields(usage), " "), prefix); ok {
		fmt.Fprint(w, wrapWords(words, prefix, strings.Repeat(" ", utf8.RuneCountInString(prefix))))
	} else {
		fmt.Fprintln(w, usage)
	}
	fmt.Fprint(w, "\n"+rest)
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nFlags:\n")
			first = false
		}
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		const indent = "        " // where a tab after 4 spaces would be, as the flag package prints
		fmt.Fprintf(w, "%s\n%s", line, wrapWords(strings.Join(strings.Fields(usage), " "), indent, indent))
	})
}

// wrapWords breaks text into lines of at most helpWidth columns, the first
// starting with first and the others with indent, and ends each with a
// newline. It breaks at spaces outside brackets, so that "[--burst N]"
// stays whole; a word wider than a line gets a line of its own. It counts
// runes as columns: help text holds no wide characters.
func wrapWords(text, first, indent string) string {
	var b strings.Builder
	line, n := first, utf8.RuneCountInString(first)
	empty := true // the line holds no word yet
	for _, word := range bracketWords(text) {
		wn := utf8.RuneCountInString(word)
		if !empty && n+1+wn > helpWidth {
			b.WriteString(line + "\n")
			line, n, empty = indent, utf8.RuneCountInString(indent), true
		}
		if !empty {
			line += " "
			n++
		}
		line += word
		n += wn
		empty = false
	}
	b.WriteString(line + "\n")
	return b.String()
}

// bracketWords splits s at the spaces that are not inside [ ].
func bracketWords(s string) []string {
	var words []string
	depth, start := 0, 0
	for i, r := range s {
		switch {
		case r == '[':
			depth++
		case r == ']' && depth > 0:
			depth--
		case r == ' ' && depth == 0:
			if i > start {
				words = append(words, s[start:i])
			}
			start = i + 1
		}
	}
	if start < len(s) {
		words = append(words, s[start:])
	}
	return words
}

// usageError reports a bad command line and returns exitUsage.
func (c *cli) usageError(cmd, msg string) int {
	fmt.Fprintf(c.stderr, "heliumid %s: %s\nRun 'heliumid %s --help' for usage.\n", cmd, msg, cmd)
	return exitUsage
}

// metaFlag collects repeated --meta key=value flags. Values are kept as
// strings: "--meta attempt=2" sends "2", not 2, so what a user types is what
// Helium ID stores, whatever it looks like.
type metaFlag map[string]any

// String lists the pairs, sorted, for flag's defaults.
func (m metaFlag) String() string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = fmt.Sprintf("%s=%v", k, m[k])
	}
	return strings.Join(pairs, ",")
}

// Set adds one key=value pair. The key must be non-empty and given once.
func (m metaFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	switch {
	case !ok:
		return fmt.Errorf("%q is not key=value", s)
	case k == "":
		return fmt.Errorf("%q has an empty key", s)
	}
	if _, dup := m[k]; dup {
		return fmt.Errorf("key %q given twice", k)
	}
	m[k] = v
	return nil
}
