package release

import (
	"context"
	"strings"
	"testing"
)

// checkAPI runs the API guard on root and returns its problems and output.
func checkAPI(t *testing.T, root string) ([]error, string) {
	t.Helper()
	var out strings.Builder
	problems, err := discover(t, root).CheckAPI(context.Background(), t.TempDir(), &out)
	if err != nil {
		t.Fatal(err)
	}
	return problems, out.String()
}

// Removing an exported function is an incompatible change: it fails until
// the version is bumped (a minor, before 1.0) and CHANGELOG.md names it
// under the new version. Additions print, and pass.
func TestAnExportedNameRemovedWithoutABumpFails(t *testing.T) {
	root := fixture(t)
	replaceIn(t, root, "fix.go", "// Farewell is there to be removed by a test.\nfunc Farewell() string { return \"bye\" }\n", "")
	edit(t, root, map[string]string{"sub/more.go": "package sub\n\n// Shout is new.\nfunc Shout() {}\n"})

	problems, out := checkAPI(t, root)
	wantProblem(t, problems, "1 incompatible API change(s) since v0.3.0 (Farewell), but the version is still v0.3.0: bump Version (fix.go:7) to 0.4.0")
	for _, want := range []string{"INCOMPATIBLE Farewell: removed", "compatible   Shout: added"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	t.Run("a patch bump is not enough", func(t *testing.T) {
		replaceIn(t, root, "fix.go", `const Version = "0.3.0"`, `const Version = "0.3.1"`)
		problems, _ := checkAPI(t, root)
		wantProblem(t, problems, "but the version is still v0.3.1: bump Version (fix.go:7) to 0.4.0")
		replaceIn(t, root, "fix.go", `const Version = "0.3.1"`, `const Version = "0.3.0"`)
	})

	replaceIn(t, root, "fix.go", `const Version = "0.3.0"`, `const Version = "0.4.0"`)
	problems, _ = checkAPI(t, root)
	wantProblem(t, problems, "CHANGELOG.md has no `## [0.4.0]` section")

	replaceIn(t, root, "CHANGELOG.md", "## [Unreleased]\n", "## [Unreleased]\n\n## [0.4.0] - 2026-02-01\n\n### Removed\n- `Farewelling`.\n")
	problems, _ = checkAPI(t, root)
	wantProblem(t, problems, "does not name Farewell, an incompatible change since v0.3.0 (Farewell: removed)")

	replaceIn(t, root, "CHANGELOG.md", "`Farewelling`", "`Farewell`")
	problems, out = checkAPI(t, root)
	if len(problems) > 0 {
		t.Fatalf("bumped and named: %v\n%s", problems, out)
	}
	if !strings.Contains(out, `Version: value changed from "0.3.0" to "0.4.0" (the release version: expected)`) {
		t.Errorf("the Version constant's change should print as expected, not count:\n%s", out)
	}
}

// The submodule is guarded too, changed signatures count, and main packages
// are no one's API.
func TestTheGuardCoversSubmodulesAndSkipsCommands(t *testing.T) {
	root := fixture(t)
	replaceIn(t, root, "sub/sub.go", "func Greeting() string", "func Greeting(name string) string")
	edit(t, root, map[string]string{"cmd/fixcmd/exported.go": "package main\n\n// Exported is in a main package.\nfunc Exported() {}\n"})
	problems, out := checkAPI(t, root)
	if !strings.Contains(out, "INCOMPATIBLE Greeting: changed from func() string to func(string) string") {
		t.Errorf("output lacks the changed signature:\n%s", out)
	}
	if strings.Contains(out, "Exported") {
		t.Errorf("a main package's name was reported:\n%s", out)
	}
	wantProblem(t, problems, "1 incompatible API change(s)")
}

// A module new since the base has nothing to compare with, and passes.
func TestAModuleNewSinceTheBasePasses(t *testing.T) {
	root := fixture(t)
	edit(t, root, map[string]string{
		"newmod/go.mod":  "module example.com/fix/newmod\n\ngo 1.26.0\n",
		"newmod/new.go":  "// Package newmod is new.\npackage newmod\n\n// New is new.\nfunc New() {}\n",
		"newmod/doc.txt": "x",
	})
	problems, out := checkAPI(t, root)
	if len(problems) > 0 || !strings.Contains(out, "new since v0.3.0: no base to compare with") {
		t.Fatalf("%v\n%s", problems, out)
	}
}

// A clone without the base commit (a shallow one) fails, saying what to
// fetch, rather than comparing with nothing.
func TestAMissingBaseCommitFailsWithAFetchHint(t *testing.T) {
	root := fixture(t)
	edit(t, root, map[string]string{".ci/api-base": "version 0.3.0\ncommit 1111111111111111111111111111111111111111\n"})
	problems, _ := checkAPI(t, root)
	wantProblem(t, problems, "the API base 1111111 (.ci/api-base) is not in this clone", "git fetch --unshallow")

	edit(t, root, map[string]string{".ci/api-base": "version 0.4.0\ncommit 1111111111111111111111111111111111111111\n"})
	problems, _ = checkAPI(t, root)
	wantProblem(t, problems, "the version v0.3.0 is older than the last release v0.4.0")
}

func TestBumped(t *testing.T) {
	for _, tc := range []struct {
		old, new string
		want     bool
	}{
		{"v0.1.0", "v0.1.1", false},
		{"v0.1.0", "v0.2.0", true},
		{"v0.1.0", "v1.0.0", true},
		{"v1.2.0", "v1.3.0", false},
		{"v1.2.0", "v2.0.0", true},
	} {
		if got := bumped(tc.old, tc.new); got != tc.want {
			t.Errorf("bumped(%s, %s) = %v", tc.old, tc.new, got)
		}
	}
	if got := nextBreaking("v0.1.3"); got != "v0.2.0" {
		t.Errorf("nextBreaking(v0.1.3) = %s", got)
	}
	if got := nextBreaking("v1.4.0"); got != "v2.0.0" {
		t.Errorf("nextBreaking(v1.4.0) = %s", got)
	}
}

func TestAChangelogNamesAnIdentifierAsAWhole(t *testing.T) {
	for _, tc := range []struct {
		ident, text string
		want        bool
	}{
		{"(*Client).CreateVerification", "- `Client.CreateVerification` takes options", true},
		{"(*Client).CreateVerification", "- `(*Client).CreateVerification` takes options", true},
		{"(*Client).CreateVerification", "- `Client.CreateVerificationX`", false},
		{"./heliumidtest.Server.URL", "`heliumidtest.Server.URL` moved", true},
		{"Wait", "`Waiter` changed", false},
		{"Limiter", "`Limiter.Feedback` was added", false}, // a member named, not the type
		{"Limiter", "`redisrate.Limiter` is no longer comparable.", true},
		{"Limiter", "the Limiter.", true},
		{"package example.com/fix/old", "package example.com/fix/old is gone", true},
	} {
		if got := mentionsAny(tc.text, identForms(tc.ident)); got != tc.want {
			t.Errorf("mentionsAny(%q, %q) = %v", tc.text, tc.ident, got)
		}
	}
}

func TestParseReportLeavesOutMainPackages(t *testing.T) {
	report := "Incompatible changes:\n- Farewell: removed\n- ./cmd/fixcmd.Exported: removed\n- package example.com/fix/cmd/other: removed\nCompatible changes:\n- ./sub/x.New: added\n"
	got := parseReport(report, "example.com/fix", map[string]bool{"example.com/fix/cmd/fixcmd": true, "example.com/fix/cmd/other": true})
	if len(got) != 2 || got[0].ident != "Farewell" || got[0].compatible || got[1].ident != "./sub/x.New" || !got[1].compatible {
		t.Fatalf("parseReport = %+v", got)
	}
}
