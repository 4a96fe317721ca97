// Package playbooks ships the built-in playbooks (onboarding, red-recovery,
// at-risk, renewal, expansion) as definition files, seeded at start.
package playbooks

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
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

// Seeder stores a built-in definition as the published version of its key.
type Seeder interface {
	SeedPlaybook(ctx context.Context, in store.NewPlaybookVersion) (store.PlaybookVersion, bool, error)
}

// Seed publishes every built-in playbook; an unchanged one is left as it is,
// a changed one becomes a new version (live runs keep theirs). It returns the
// keys that got a new version.
func Seed(ctx context.Context, s Seeder, opts playbook.Options) ([]string, error) {
	builtins, err := Builtin(opts)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, b := range builtins {
		def, err := json.Marshal(b.Definition)
		if err != nil {
			return nil, err
		}
		v, isNew, err := s.SeedPlaybook(ctx, store.NewPlaybookVersion{Key: b.Key, Name: b.Definition.Name,
			Definition: def, Source: b.Source, SourceFormat: "yaml", Builtin: true})
		if err != nil {
			return nil, fmt.Errorf("seed playbook %s: %w", b.Key, err)
		}
		if isNew {
			changed = append(changed, fmt.Sprintf("%s v%d", v.Key, v.Version))
		}
	}
	return changed, nil
}
