package doclinks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every relative link in this repository's Markdown files resolves, to a
// file or directory and, into a Markdown file, to one of its headings.
func TestTheRepositorysLinksResolve(t *testing.T) {
	broken, err := Check(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		t.Error(b)
	}
}

// A missing file, a missing heading and a link out of the repository are
// each reported, with the file and line; links in code, with a scheme, to
// a directory or to a heading that exists are not.
func TestCheckReportsEachBrokenLink(t *testing.T) {
	root := t.TempDir()
	write(t, root, "docs/GUIDE.md", "# Guide\n\n## Webhooks and the sweep\n\n## Install\n\n## Install\n\n### `heliumid fake`: the fake\n")
	write(t, root, "README.md", strings.Join([]string{
		"# Title",
		"[ok](docs/GUIDE.md) [ok](docs/GUIDE.md#webhooks-and-the-sweep) [ok](docs/) [ok](#title)",
		"[ok](docs/GUIDE.md#install-1) [ok](docs/GUIDE.md#heliumid-fake-the-fake) [ok](https://example.com/x.md#nothing)",
		"`[not a link](missing.md)`",
		"```",
		"[not a link](missing.md)",
		"```",
		"[missing](docs/MISSING.md)",
		"[no heading](docs/GUIDE.md#webhooks)",
		"[outside](../elsewhere.md)",
		"[no heading here](#nowhere)",
		"[ref]: docs/GONE.md",
	}, "\n"))

	broken, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range broken {
		got = append(got, b.Error())
	}
	want := []string{
		"README.md:8: docs/MISSING.md: no such file or directory",
		"README.md:9: docs/GUIDE.md#webhooks: no heading with the anchor #webhooks",
		"README.md:10: ../elsewhere.md: points outside the repository",
		"README.md:11: #nowhere: no heading with the anchor #nowhere",
		"README.md:12: docs/GONE.md: no such file or directory",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSlugFollowsGitHub(t *testing.T) {
	for heading, want := range map[string]string{
		"Create → redirect → decision":                                              "create--redirect--decision",
		"GET /v1/verifications/{id} — one session [doc: fetch-single-verification]": "get-v1verificationsid--one-session-doc-fetch-single-verification",
		"The fake server: `heliumid fake`":                                          "the-fake-server-heliumid-fake",
		"Retries and waiting [decision]":                                            "retries-and-waiting-decision",
		"A day's loop: `heliumid fake`, the webapp and `heliumid webhook send`":     "a-days-loop-heliumid-fake-the-webapp-and-heliumid-webhook-send",
		"Names: which are Helium ID's, which are this SDK's":                        "names-which-are-helium-ids-which-are-this-sdks",
	} {
		if got := Slug(heading); got != want {
			t.Errorf("Slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

func write(t *testing.T, root, name, text string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
