package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(good, []byte("key: hello\nname: Hello\nsteps: [{id: a, email: {template: welcome, to: champion}}]\n"), 0o644))
	require.NoError(t, os.WriteFile(bad, []byte("key: hello\nname: Hello\nsteps:\n  - id: a\n    task: {title: T, assignee: cms}\n"), 0o644))

	var out bytes.Buffer
	if code := validateFiles([]string{good}, &out); code != 0 {
		t.Fatalf("exit %d for a good file: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "good.yaml: ok (hello, 1 steps)") {
		t.Fatalf("output: %s", out.String())
	}
	out.Reset()
	if code := validateFiles([]string{good, bad, filepath.Join(dir, "missing.yaml")}, &out); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{`bad.yaml: steps[0].task.assignee (line 5): unknown role "cms"`, "missing.yaml: open"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := validateFiles(nil, &out); code != 2 {
		t.Fatalf("no files: exit %d, want 2", code)
	}
}

// validate --help prints its usage; an unknown option is not a file.
func TestValidateUsage(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"a.yaml", "--help"}} {
		var out bytes.Buffer
		if code := validateFiles(args, &out); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, out.String())
		}
		if !strings.HasPrefix(out.String(), "usage: playbookd validate") || strings.Contains(out.String(), "no such file") {
			t.Fatalf("%v: %s", args, out.String())
		}
	}
	var out bytes.Buffer
	if code := validateFiles([]string{"--strict", "a.yaml"}, &out); code != 2 || !strings.Contains(out.String(), `unknown option "--strict"`) {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	out.Reset()
	if code := validateFiles(nil, &out); code != 2 || !strings.HasPrefix(out.String(), "usage:") {
		t.Fatalf("no files: exit %d: %s", code, out.String())
	}
	// After --, a name is a file, whatever it looks like.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "-odd.yaml"), []byte("key: odd\nname: Odd\nsteps: [{id: a, wait: 1d}]\n"), 0o644))
	t.Chdir(dir)
	out.Reset()
	if code := validateFiles([]string{"--", "-odd.yaml"}, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
}

// Offline validation type-checks templates as the API does.
func TestValidateFilesTypeChecksTemplates(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "nonsense.yaml")
	require.NoError(t, os.WriteFile(p, []byte(`key: nonsense
name: Nonsense
templates:
  - name: note
    subject: Hi
    html: |
      <p>Hi {{.Contact.FirstName}}</p>
      <p>{{.Nonsense.Thing}}</p>
    text: Hi
steps:
  - id: a
    notify: {url: "https://hooks.example.com/x", message: "{{.CSM.Nmae}} has news"}
`), 0o644))
	var out bytes.Buffer
	if code := validateFiles([]string{p}, &out); code != 1 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	for _, want := range []string{
		`nonsense.yaml: templates[0].html (line 8): template "note", line 2 of the html: .Nonsense is not a field of the data`,
		`nonsense.yaml: steps[0].notify.message (line 12): line 1 of the message: .CSM.Nmae is not a field of .CSM`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBuiltinPlaybookFilesValidate(t *testing.T) {
	files, _ := filepath.Glob("../../playbooks/builtin/*.yaml")
	if len(files) != 20 {
		t.Fatalf("found %d built-in files", len(files))
	}
	var out bytes.Buffer
	if code := validateFiles(files, &out); code != 0 {
		t.Fatalf("built-ins do not validate:\n%s", out.String())
	}
}
