package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
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

// printHelp writes a command's help: its text, then its flags, spelled
// with two dashes as the usage lines and examples spell them (the flag
// package accepts either).
func printHelp(w io.Writer, fs *flag.FlagSet, help string) {
	fmt.Fprint(w, help)
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
		fmt.Fprintf(w, "%s\n    \t%s\n", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
	})
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
