package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/playbookd/playbookd/store"
)

// SaveDraft validates a definition and stores it as its playbook's latest
// draft: the newest version is rewritten when it is a draft never
// published and never run, so saving again and again leaves one draft;
// otherwise (a published newest version, or a new key) it becomes the
// next version. replaced says which. The console's editor saves this way;
// Create, the API's, always adds a version.
func (s *Service) SaveDraft(ctx context.Context, source []byte, format string) (v store.PlaybookVersion, replaced bool, err error) {
	def, err := s.Validate(ctx, source)
	if err != nil {
		return store.PlaybookVersion{}, false, err
	}
	canonical, err := json.Marshal(def)
	if err != nil {
		return store.PlaybookVersion{}, false, err
	}
	v, replaced, err = s.Store.SaveDraft(ctx, store.NewPlaybookVersion{
		Key: def.Key, Name: def.Name, Definition: canonical, Source: string(source), SourceFormat: format,
	})
	return shown(v), replaced, err
}

// Blank is the text a playbook started from nothing has: the smallest
// valid definition with its key and name, one example step, and the
// commonest blocks commented out, for its author to fill in.
func Blank(key, name string) string {
	k, _ := json.Marshal(key) // quoted as JSON strings, which YAML reads as they are
	n, _ := json.Marshal(name)
	return fmt.Sprintf(`# A new playbook. The editor checks this text as you type; the language
# reference lists every step kind, trigger and condition with an example.
key: %s
name: %s
# Who it is for; leave it out for every segment.
# segments: [smb, mid_market, enterprise]
# What enrols an account; leave it out to start runs by hand.
# trigger: {on: account_created}
steps:
  # An example step: a task for the account's CSM a day after enrolment.
  # Replace it with your own steps, in the order they run.
  - id: first-step
    name: First step
    at: 1d
    task: {title: "Call the champion", assignee: csm, due: 3d}
  # An email from a template, a week in:
  # - id: welcome
  #   at: 7d
  #   email: {template: welcome, to: [champion]}
`, k, n)
}

// New starts a playbook under a new key: from Blank when from is "", or
// as a copy of from's published version (a built-in, say). It is version
// 1, a draft; a key that already has versions is ErrKeyTaken.
func (s *Service) New(ctx context.Context, key, name, from string) (store.PlaybookVersion, error) {
	if from != "" {
		return s.Duplicate(ctx, from, 0, key, name)
	}
	return s.create(ctx, []byte(Blank(key, name)), "yaml", true)
}

// Retire stops a playbook taking new enrolments: its triggers fire no
// more and starts are refused; its live runs go on. It returns when it
// was retired (the first time, when retired twice).
func (s *Service) Retire(ctx context.Context, key string) (time.Time, error) {
	at, err := s.Store.SetPlaybookRetired(ctx, key, true)
	if err != nil {
		return time.Time{}, notFound(err)
	}
	if at == nil {
		return time.Time{}, errors.New("retire: the store kept no time")
	}
	return *at, nil
}

// Unretire lets a retired playbook take new enrolments again.
func (s *Service) Unretire(ctx context.Context, key string) error {
	_, err := s.Store.SetPlaybookRetired(ctx, key, false)
	return notFound(err)
}

// RetiredAt says when a playbook was retired; nil when it was not.
func (s *Service) RetiredAt(ctx context.Context, key string) (*time.Time, error) {
	return s.Store.PlaybookRetiredAt(ctx, key)
}
