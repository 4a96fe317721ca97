package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/store"
)

// StepNames are the step names of a playbook version by step id (see
// playbook.StepTitle), for pages that show a run's steps: the inbox's
// approvals and tasks, the risk alerts' open work. A version ever published
// never changes, so its names are read once; an unknown version has none.
func (a *App) StepNames(ctx context.Context, key string, version int) (map[string]string, error) {
	cacheKey := fmt.Sprintf("%s@%d", key, version)
	if names, ok := a.stepNames.Load(cacheKey); ok {
		return names.(map[string]string), nil
	}
	v, err := a.Playbooks.Version(ctx, key, version)
	if errors.Is(err, catalog.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	def, err := catalog.Decode(key, v.Version, v.Definition)
	if err != nil {
		return nil, err
	}
	names := def.StepNames()
	if v.PublishedAt != nil { // published once: immutable since (a draft may still change)
		a.stepNames.Store(cacheKey, names)
	}
	return names, nil
}
