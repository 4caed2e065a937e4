package release

import (
	"context"
	"strings"
	"testing"
)

// The fixture as it is can be released: every check passes, the consumer
// got both modules at v0.3.0 through the README's lines and ran, and the
// README's command was installed from the proxy and ran.
func TestAReleasableTreePassesEveryCheck(t *testing.T) {
	root := fixture(t)
	out, err := runAll(t, root)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"released       the core module (example.com/fix)",
		"go get example.com/fix   (README.md:6)",
		"go get example.com/fix/sub   (README.md:7)",
		"go install example.com/fix/cmd/fixcmd@latest   (README.md:8)",
		"consumer ok",
		"consumer: ok",
		"no change",
		"API guard: ok",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "example.org/other") {
		t.Errorf("a line about another module was run:\n%s", out)
	}
}

// A case collision (what testdata/fuzz/FuzzParseStatus held) makes the
// module impossible to zip, so impossible to `go get`: the check fails.
func TestAModuleThatCannotBeZippedFails(t *testing.T) {
	root := fixture(t)
	edit(t, root, map[string]string{"testdata/seed-Not_Started": "a", "testdata/seed-not_started": "b"})
	problems, err := discover(t, root).BuildProxy(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, problems, "the core module (example.com/fix) cannot be zipped", "testdata/seed-not_started", "case-insensitive file name collision")
	if out, err := runAll(t, root); err == nil {
		t.Fatalf("Run passed:\n%s", out)
	}
}

// A submodule requiring the core at a version that is not the release (here
// one that exists nowhere) fails the lockstep check, and, were that check
// not there, the user's `go get` of the submodule. A major version the
// core's path cannot have (v9.9.9 of a v0 module) fails as the go command
// would: the go.mod is invalid.
func TestASubmoduleRequiringAnotherCoreVersionFails(t *testing.T) {
	root := fixture(t)
	replaceIn(t, root, "sub/go.mod", "require example.com/fix v0.3.0", "require example.com/fix v0.9.9")
	r := discover(t, root)
	wantProblem(t, r.CheckLockstep(), "sub/go.mod requires example.com/fix v0.9.9, but the release is v0.3.0 (Version, fix.go:7)", "go mod edit -require=example.com/fix@v0.3.0")

	ctx := context.Background()
	proxy := t.TempDir()
	if problems, err := r.BuildProxy(ctx, proxy); err != nil || len(problems) > 0 {
		t.Fatalf("BuildProxy: %v %v", problems, err)
	}
	problems, err := r.Consume(ctx, proxy, t.TempDir(), nil, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, problems, "`go get example.com/fix/sub` failed as a user would run it", "example.com/fix@v0.9.9")

	replaceIn(t, root, "sub/go.mod", "require example.com/fix v0.9.9", "require example.com/fix v9.9.9")
	if _, err := Discover(root); err == nil || !strings.Contains(err.Error(), `sub/go.mod:5: require example.com/fix: version "v9.9.9" invalid`) {
		t.Fatalf("Discover with v9.9.9: %v", err)
	}
	if out, err := runAll(t, root); err == nil {
		t.Fatalf("Run passed:\n%s", out)
	}
}

// The replace that keeps builds inside the repository on the working tree
// is required, and so is a module path matching the directory.
func TestASubmoduleWithoutItsReplaceOrAtTheWrongPathFails(t *testing.T) {
	root := fixture(t)
	replaceIn(t, root, "sub/go.mod", "replace example.com/fix => ../", "")
	replaceIn(t, root, "sub/go.mod", "module example.com/fix/sub", "module example.com/fix/other")
	problems := discover(t, root).CheckLockstep()
	wantProblem(t, problems, "sub/go.mod needs `replace example.com/fix => ..`")
	wantProblem(t, problems, "the module path must be example.com/fix/sub")
}

// A submodule importing the core's internal/ package (what redisrate once
// did with the core's wait helpers) fails, in its tests as in its code.
func TestASubmoduleImportingTheCoresInternalPackageFails(t *testing.T) {
	for name, file := range map[string]string{
		"code": "sub/wait.go",
		"test": "sub/wait_test.go",
	} {
		t.Run(name, func(t *testing.T) {
			root := fixture(t)
			edit(t, root, map[string]string{file: "package sub\n\nimport \"example.com/fix/internal/wait\"\n\nvar _ = wait.Ready\n"})
			problems, err := discover(t, root).CheckInternalImports(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			wantProblem(t, problems, "example.com/fix/sub imports example.com/fix/internal/wait, an internal package of module example.com/fix")
			if len(problems) != 1 {
				t.Errorf("want the import reported once, got %v", problems)
			}
		})
	}
	// The core's own use of it is fine.
	problems, err := discover(t, fixture(t)).CheckInternalImports(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("the fixture as it is: %v %v", problems, err)
	}
}

// Binaries, test binaries, profiles and oversized files are refused; the
// same binary ignored by git is left out of the zip instead, as a tag would
// leave it out.
func TestArtifactsAreRefusedUnlessGitIgnoresThem(t *testing.T) {
	root := fixture(t)
	elf := "\x7fELF\x02\x01\x01" + strings.Repeat("\x00", 64)
	edit(t, root, map[string]string{
		"cmd/fixcmd/fixcmd": elf,
		"fix.test":          "#!/bin/sh\n",
		"cpu.prof":          "profile",
		"testdata/big.json": strings.Repeat("x", maxFileSize+1),
		"sub/sub.exe":       "MZ",
	})
	problems, err := discover(t, root).BuildProxy(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, problems, "must not ship cmd/fixcmd/fixcmd: a compiled program")
	wantProblem(t, problems, "must not ship fix.test: a .test file")
	wantProblem(t, problems, "must not ship cpu.prof: a .prof file")
	wantProblem(t, problems, "must not ship testdata/big.json: 1048577 bytes")
	wantProblem(t, problems, "sub (example.com/fix/sub) must not ship sub.exe")
	if len(problems) != 5 {
		t.Errorf("want 5 problems, got %d:\n%v", len(problems), problems)
	}

	edit(t, root, map[string]string{".gitignore": "/cmd/fixcmd/fixcmd\n*.test\n*.prof\n/testdata/big.json\n*.exe\n"})
	problems, err = discover(t, root).BuildProxy(context.Background(), t.TempDir())
	if err != nil || len(problems) > 0 {
		t.Fatalf("ignored files must be left out, not refused: %v %v", problems, err)
	}
}

// The READMEs' lines are what the check runs: a released module no README
// tells users to get, or a command none tells them to install, fails; so
// does a line that is not a plain go command, and a drifted line in any
// Markdown file of a released module.
func TestTheReadmeMustNameEveryModuleAndCommand(t *testing.T) {
	root := fixture(t)
	replaceIn(t, root, "README.md", "go get example.com/fix/sub       # the submodule\n", "")
	replaceIn(t, root, "sub/README.md", "go get example.com/fix/sub", "go get example.com/fix/sub && echo done")
	replaceIn(t, root, "README.md", "go install example.com/fix/cmd/fixcmd@latest\n", "")
	edit(t, root, map[string]string{"docs/old.md": "# Old\n\n```sh\ngo get example.com/fix@v0.2.0\n```\n"})
	r := discover(t, root)
	ctx := context.Background()
	proxy := t.TempDir()
	if problems, err := r.BuildProxy(ctx, proxy); err != nil || len(problems) > 0 {
		t.Fatalf("BuildProxy: %v %v", problems, err)
	}
	problems, err := r.Consume(ctx, proxy, t.TempDir(), nil, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, problems, "sub/README.md:4: `go get example.com/fix/sub && echo done` is not a plain go command")
	wantProblem(t, problems, "no README tells users to get example.com/fix/sub")
	wantProblem(t, problems, "no README tells users to install example.com/fix/cmd/fixcmd")
	wantProblem(t, problems, "docs/old.md:4: `go get example.com/fix@v0.2.0` failed as a user would run it")
}

func TestDiscoverReadsTheVersionFromTheCore(t *testing.T) {
	root := fixture(t)
	r := discover(t, root)
	if r.Version != "v0.3.0" || len(r.Modules) != 2 || r.Modules[1].Rel != "sub" || !r.Modules[1].Released() {
		t.Fatalf("Discover = %+v", r)
	}
	replaceIn(t, root, "fix.go", `const Version = "0.3.0"`, `const Version = "three"`)
	if _, err := Discover(root); err == nil || !strings.Contains(err.Error(), `Version "three" is not a semantic version`) {
		t.Fatalf("Discover with a bad version: %v", err)
	}
	replaceIn(t, root, "fix.go", `const Version = "three"`, `const Release = "0.3.0"`)
	if _, err := Discover(root); err == nil || !strings.Contains(err.Error(), "no `const Version") {
		t.Fatalf("Discover without a version: %v", err)
	}
}

func TestToolsInternalAndExampleModulesAreNotReleased(t *testing.T) {
	for rel, want := range map[string]bool{
		".": true, "redisrate": true, "otelheliumid": true, "sub/examplesx": true,
		"tools": false, "internal/benchpeers": false, "examples/webapp": false, "sub/examples/browser": false,
	} {
		if got := (&Module{Rel: rel}).Released(); got != want {
			t.Errorf("Released(%s) = %v, want %v", rel, got, want)
		}
	}
}

// An example that is a module of its own (examples/webapp, whose SQLite
// and browser drivers stay out of the core's go.mod) is not published: no
// zip, no consumer's go get, no API guard, and no README has to tell users
// to get it. Were it taken for a library, the check would fail: no README
// names it. Lockstep still applies to it.
func TestAnExampleModuleIsNotPublished(t *testing.T) {
	root := fixture(t)
	edit(t, root, map[string]string{
		"examples/app/go.mod":    "module example.com/fix/examples/app\n\ngo 1.26.0\n\nrequire example.com/fix v0.3.0\n\nreplace example.com/fix => ../..\n",
		"examples/app/main.go":   "// Command app is an example.\npackage main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/fix\"\n)\n\nfunc main() { fmt.Println(fix.Hello()) }\n",
		"examples/app/README.md": "# app\n\n```sh\ngo run .\n```\n",
	})
	r := discover(t, root)
	must := func(ok bool, format string, args ...any) {
		t.Helper()
		if !ok {
			t.Fatalf(format, args...)
		}
	}
	must(len(r.Modules) == 3 && r.Modules[1].Rel == "examples/app" && !r.Modules[1].Released(), "Discover = %+v", r.Modules)
	must(len(r.released()) == 2, "released: %v", r.released())

	out, err := runAll(t, root)
	must(err == nil, "%v\n%s", err, out)
	for _, want := range []string{"not released   examples/app (example.com/fix/examples/app)", "lockstep: ok", "consumer: ok"} {
		must(strings.Contains(out, want), "output lacks %q:\n%s", want, out)
	}
	must(!strings.Contains(out, "go get example.com/fix/examples/app"), "the example was got:\n%s", out)

	replaceIn(t, root, "examples/app/go.mod", "require example.com/fix v0.3.0", "require example.com/fix v0.2.0")
	wantProblem(t, discover(t, root).CheckLockstep(), "examples/app/go.mod requires example.com/fix v0.2.0, but the release is v0.3.0")
}
