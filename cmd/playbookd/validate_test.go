package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("key: hello\nname: Hello\nsteps: [{id: a, email: {template: welcome, to: champion}}]\n"), 0o644)
	os.WriteFile(bad, []byte("key: hello\nname: Hello\nsteps:\n  - id: a\n    task: {title: T, assignee: cms}\n"), 0o644)

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
	for _, want := range []string{`bad.yaml: steps[0].task.assignee: unknown role "cms"`, "missing.yaml: open"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := validateFiles(nil, &out); code != 2 {
		t.Fatalf("no files: exit %d, want 2", code)
	}
}

func TestBuiltinPlaybookFilesValidate(t *testing.T) {
	files, _ := filepath.Glob("../../playbooks/builtin/*.yaml")
	if len(files) != 6 {
		t.Fatalf("found %d built-in files", len(files))
	}
	var out bytes.Buffer
	if code := validateFiles(files, &out); code != 0 {
		t.Fatalf("built-ins do not validate:\n%s", out.String())
	}
}
