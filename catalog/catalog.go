// Package catalog keeps the playbook versions CS ops write: a definition is
// validated against the language and the published playbooks, stored as a
// draft, and published once it still holds. It is also the one place a
// stored definition is decoded.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/playbooks"
	"github.com/playbookd/playbookd/store"
)

// Sentinel errors.
var (
	ErrNotFound = errors.New("playbook version not found")
	ErrArchived = errors.New("this version is archived; publish a newer version instead")
	// ErrKeyTaken refuses a duplicate under a key that already has versions.
	ErrKeyTaken = store.ErrKeyTaken
)

// Store is what the catalog needs from PostgreSQL.
type Store interface {
	ListPlaybooks(ctx context.Context, afterKey string, n int) ([]store.PlaybookSummary, error)
	GetPlaybookVersion(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	CreatePlaybookVersion(ctx context.Context, in store.NewPlaybookVersion) (store.PlaybookVersion, error)
	SaveDraft(ctx context.Context, in store.NewPlaybookVersion) (store.PlaybookVersion, bool, error)
	SetPlaybookRetired(ctx context.Context, key string, retired bool) (*time.Time, error)
	PlaybookRetiredAt(ctx context.Context, key string) (*time.Time, error)
	PublishPlaybookVersion(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	PublishedDefinitions(ctx context.Context) (map[string]json.RawMessage, error)
	ListPlaybookVersions(ctx context.Context, key string) ([]store.PlaybookVersion, error)
	PlaybookRunCounts(ctx context.Context, keys []string) ([]store.RunCount, error)
	MissingSecrets(ctx context.Context, names []string) ([]string, error)
}

// Service validates, stores and publishes playbook versions.
type Service struct {
	Store Store
	// Options say what definitions may refer to (the built-in templates,
	// the hosts a notify step may post to).
	Options playbook.Options
}

// Validate parses a YAML or JSON definition and checks its start_playbook
// references against the published playbooks. A definition that breaks a
// rule is a playbook.Errors, each error with its line in source.
func (s *Service) Validate(ctx context.Context, source []byte) (*playbook.Definition, error) {
	def, err := playbook.Parse(source, s.Options)
	if err != nil {
		return nil, err
	}
	starts, err := s.publishedStarts(ctx)
	if err != nil {
		return nil, err
	}
	var perrs playbook.Errors
	if err := playbook.CheckStarts(def, starts); errors.As(err, &perrs) {
		return nil, playbook.Locate(source, perrs)
	} else if err != nil {
		return nil, err
	}
	return def, nil
}

// publishedStarts is, by published playbook, the playbooks it starts.
func (s *Service) publishedStarts(ctx context.Context) (map[string][]string, error) {
	defs, err := s.Store.PublishedDefinitions(ctx)
	if err != nil {
		return nil, err
	}
	starts := make(map[string][]string, len(defs))
	for key, raw := range defs {
		def, err := Decode(key, 0, raw)
		if err != nil {
			return nil, err
		}
		starts[key] = def.StartedKeys()
	}
	return starts, nil
}

// Create validates a definition and stores it as the next draft of its key;
// format (yaml or json) is the source's, kept with it.
func (s *Service) Create(ctx context.Context, source []byte, format string) (store.PlaybookVersion, error) {
	return s.create(ctx, source, format, false)
}

func (s *Service) create(ctx context.Context, source []byte, format string, firstOnly bool) (store.PlaybookVersion, error) {
	def, err := s.Validate(ctx, source)
	if err != nil {
		return store.PlaybookVersion{}, err
	}
	canonical, err := json.Marshal(def)
	if err != nil {
		return store.PlaybookVersion{}, err
	}
	v, err := s.Store.CreatePlaybookVersion(ctx, store.NewPlaybookVersion{
		Key: def.Key, Name: def.Name, Definition: canonical, Source: string(source), SourceFormat: format,
		FirstOnly: firstOnly,
	})
	return shown(v), err
}

// Publish makes a version the one new runs get, archiving the one before.
// A version stored before a rule of the language existed (the definition
// limits, the templates' type-check, no credential in a notify URL) and
// breaking it is refused with its errors: its runs would be refused, or
// fail at the step. So is one naming a secret nobody stored.
func (s *Service) Publish(ctx context.Context, key string, version int) (store.PlaybookVersion, error) {
	if err := s.stillValid(ctx, key, version); err != nil {
		return store.PlaybookVersion{}, err
	}
	v, err := s.Store.PublishPlaybookVersion(ctx, key, version)
	if errors.Is(err, store.ErrArchived) {
		return store.PlaybookVersion{}, ErrArchived
	}
	return shown(v), notFound(err)
}

func (s *Service) stillValid(ctx context.Context, key string, version int) error {
	v, err := s.stored(ctx, key, version)
	if err != nil {
		return err
	}
	def, err := Decode(v.Key, v.Version, v.Definition)
	if err != nil {
		return err
	}
	err = def.Validate(s.Options)
	if err != nil && v.Source != "" {
		// Its source says where each error is, to the line in a template.
		if _, perr := playbook.Parse([]byte(v.Source), s.Options); perr != nil {
			err = perr
		}
	}
	if err != nil {
		return err
	}
	missing, err := s.Store.MissingSecrets(ctx, def.SecretNames())
	if err != nil {
		return err
	}
	var perrs playbook.Errors
	if err := playbook.CheckSecrets(def, missing); errors.As(err, &perrs) && v.Source != "" {
		return playbook.Locate([]byte(v.Source), perrs)
	} else if err != nil {
		return err
	}
	return nil
}

// Version returns one version; version 0 means the published one, or the
// latest draft when none is published. It is the version as people see it:
// a URL that carries a credential, stored before such URLs were refused,
// is cut to its host (playbook.RedactSecrets); runs read the stored one.
func (s *Service) Version(ctx context.Context, key string, version int) (store.PlaybookVersion, error) {
	v, err := s.stored(ctx, key, version)
	return shown(v), err
}

// stored is a version as stored, for the service's own checks.
func (s *Service) stored(ctx context.Context, key string, version int) (store.PlaybookVersion, error) {
	v, err := s.Store.GetPlaybookVersion(ctx, key, version)
	return v, notFound(err)
}

// shown is a version as every read path shows it: no URL that carries a
// credential, in its source or its definition.
func shown(v store.PlaybookVersion) store.PlaybookVersion {
	v.Source = playbook.RedactSecrets(v.Source)
	if len(v.Definition) > 0 {
		v.Definition = json.RawMessage(playbook.RedactSecrets(string(v.Definition)))
	}
	return v
}

// Definition returns a stored version's definition and its version number,
// as Version finds it.
func (s *Service) Definition(ctx context.Context, key string, version int) (*playbook.Definition, int, error) {
	v, err := s.Version(ctx, key, version)
	if err != nil {
		return nil, 0, err
	}
	def, err := Decode(key, v.Version, v.Definition)
	if err != nil {
		return nil, 0, err
	}
	return def, v.Version, nil
}

// List returns the playbooks after afterKey, by key, with their versions.
func (s *Service) List(ctx context.Context, afterKey string, n int) ([]store.PlaybookSummary, error) {
	return s.Store.ListPlaybooks(ctx, afterKey, n)
}

// Decode reads a stored definition: the canonical JSON Create writes.
// version 0 names the published version of key.
func Decode(key string, version int, raw json.RawMessage) (*playbook.Definition, error) {
	var def playbook.Definition
	if err := json.Unmarshal(raw, &def); err != nil {
		if version == 0 {
			return nil, fmt.Errorf("decode published playbook %s: %w", key, err)
		}
		return nil, fmt.Errorf("decode playbook %s v%d: %w", key, version, err)
	}
	return &def, nil
}

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// Seeder stores a built-in definition as the published version of its key.
type Seeder interface {
	SeedPlaybook(ctx context.Context, in store.NewPlaybookVersion) (store.PlaybookVersion, bool, error)
}

// Seed publishes every built-in playbook; an unchanged one is left as it is,
// a changed one becomes a new version (live runs keep theirs). It returns the
// versions made.
func Seed(ctx context.Context, s Seeder, opts playbook.Options) ([]string, error) {
	builtins, err := playbooks.Builtin(opts)
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
