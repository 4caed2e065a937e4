package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHelpOnEveryCommand(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"},
		{"create", "--help"}, {"get", "-h"}, {"list", "--help"}, {"wait", "--help"},
		{"webhook", "send", "--help"}, {"webhook", "--help"}, {"fake", "--help"},
		{"version", "--help"}, {"help", "help"},
		{"help", "create"}, {"help", "webhook"}, {"help", "webhook send"}, {"help", "fake"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := cmd(t, nil, args...)
			assert.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stdout, "Usage:")
			assert.Empty(t, r.stderr)
		})
	}
}

func TestHelpDocumentsExitCodesAndFlags(t *testing.T) {
	r := cmd(t, nil, "help")
	for _, want := range []string{"Exit codes:", "64", "78", "130", envAPIKey, envBaseURL, "webhook send", "fake"} {
		assert.Contains(t, r.stdout, want)
	}
	r = cmd(t, nil, "create", "--help")
	for _, want := range []string{"-vendor-data", "-method", "-meta", "-json", "-api-key-file", "Examples:"} {
		assert.Contains(t, r.stdout, want)
	}
	assert.NotContains(t, r.stdout, "-api-key ", "there must be no flag for the key itself")
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := cmd(t, nil, args...)
		assert.Equal(t, exitOK, r.code)
		assert.Equal(t, "heliumid "+heliumid.Version+"\n", r.stdout)
	}
	assertUsage(t, cmd(t, nil, "version", "extra"), "takes no arguments")
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"webhook"}, "missing subcommand"},
		{[]string{"webhook", "receive"}, `unknown subcommand "receive"`},
		{[]string{"get", "--no-such-flag", "x"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"list", "--limit", "many"}, `invalid value "many" for flag -limit`},
		{[]string{"wait", "--timeout", "soon", "x"}, `invalid value "soon" for flag -timeout`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			assertUsage(t, cmd(t, nil, tt.args...), tt.want)
		})
	}
}

func TestParseAllowsFlagsAfterArguments(t *testing.T) {
	c := &cli{stdout: io.Discard, stderr: io.Discard}
	tests := []struct {
		args     []string
		wantPos  []string
		wantJSON bool
	}{
		{[]string{"ID", "--json"}, []string{"ID"}, true},
		{[]string{"--json", "ID"}, []string{"ID"}, true},
		{[]string{"A", "--json", "B"}, []string{"A", "B"}, true},
		{[]string{"--", "--json"}, []string{"--json"}, false},
		{[]string{"ID", "--", "-x"}, []string{"ID", "-x"}, false},
		{nil, nil, false},
	}
	for _, tt := range tests {
		fs := c.newFlagSet("test")
		asJSON := fs.Bool("json", false, "")
		pos, _, done := c.parse(fs, "", tt.args)
		require.False(t, done, "%q", tt.args)
		assert.Equal(t, tt.wantPos, pos, "%q", tt.args)
		assert.Equal(t, tt.wantJSON, *asJSON, "%q", tt.args)
	}
}

func TestMetaFlag(t *testing.T) {
	m := metaFlag{}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(m, "meta", "")
	require.NoError(t, fs.Parse([]string{"--meta", "plan=pro", "--meta", "n=2", "--meta", "note=a=b", "--meta", "empty="}))
	assert.Equal(t, metaFlag{"plan": "pro", "n": "2", "note": "a=b", "empty": ""}, m)
	assert.Equal(t, "empty=,n=2,note=a=b,plan=pro", m.String())

	assert.ErrorContains(t, m.Set("novalue"), "not key=value")
	assert.ErrorContains(t, m.Set("=x"), "empty key")
	assert.ErrorContains(t, m.Set("plan=free"), `key "plan" given twice`)
}

func TestExitCodesAreDistinct(t *testing.T) {
	codes := []int{exitOK, exitUnsuccess, exitReview, exitTimeout, exitFailure, exitUsage, exitConfig, exitInterrupted}
	seen := map[int]bool{}
	for _, c := range codes {
		assert.False(t, seen[c], "exit code %d used twice", c)
		seen[c] = true
	}
}
