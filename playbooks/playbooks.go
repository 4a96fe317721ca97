// Package playbooks ships the built-in playbooks (onboarding, red-recovery,
// at-risk, renewal, expansion) as definition files, seeded at start.
package playbooks

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/playbookd/playbookd/playbook"
)

//go:embed builtin/*.yaml
var files embed.FS

// Source is one built-in definition and its parsed form.
type Source struct {
	Key        string
	Source     string
	Definition *playbook.Definition
}

// Builtin parses every built-in definition, sorted by key.
func Builtin(opts playbook.Options) ([]Source, error) {
	paths, err := fs.Glob(files, "builtin/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []Source
	for _, p := range paths {
		src, err := files.ReadFile(p)
		if err != nil {
			return nil, err
		}
		def, err := playbook.Parse(src, opts)
		if err != nil {
			return nil, fmt.Errorf("built-in playbook %s:\n%w", p, err)
		}
		if want := strings.TrimSuffix(strings.TrimPrefix(p, "builtin/"), ".yaml"); def.Key != want {
			return nil, fmt.Errorf("built-in playbook %s has key %q", p, def.Key)
		}
		out = append(out, Source{Key: def.Key, Source: string(src), Definition: def})
	}
	return out, nil
}
