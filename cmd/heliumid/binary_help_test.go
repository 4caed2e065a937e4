package main

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runTogether matches a sentence that starts without the previous one
// having ended: "and no Webhook-Signature It prints", two paragraphs
// joined by a missing blank line.
var runTogether = regexp.MustCompile(`[a-z0-9,;)"] (It|Its|The|This|With|Each|Run|Personal|A|An) [a-z]`)

// Every help reads on an 80-column terminal: no line wider, paragraphs
// apart, and each section heading after a blank line.
func TestBinaryHelpFitsEightyColumns(t *testing.T) {
	invocations := [][]string{{"--help"}, {"help"}, {"webhook", "--help"}}
	for _, c := range commands() {
		invocations = append(invocations, append(strings.Fields(c.name), "--help"))
	}
	for _, args := range invocations {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runBinary(t, nil, args...)
			require.Equal(t, exitOK, r.code, r.stderr)
			require.NotEmpty(t, r.stdout)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			for i, line := range lines {
				assert.NotContains(t, line, "\t", "tabs render at a width the test cannot know")
				assert.LessOrEqual(t, utf8.RuneCountInString(line), helpWidth, "line %d: %q", i+1, line)
				assert.NotRegexp(t, runTogether, line, "line %d: two sentences run together", i+1)
				if i > 0 && regexp.MustCompile(`^[A-Z][a-z ]+:$`).MatchString(line) {
					assert.Empty(t, lines[i-1], "line %d: the heading %q follows a blank line", i+1, line)
				}
			}
			assert.NotContains(t, r.stdout, "\n\n\n", "one blank line between paragraphs")
		})
	}
}
