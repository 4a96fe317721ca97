package analytics_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/playbookd/playbookd/analytics"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/playbooks"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
)

// How far a run got is counted by the database (playbook_step_positions,
// migration 00028) in the order the report lists a version's steps: for
// every built-in, with its branches, repeats and timeouts, the two orders
// are the same.
func TestStepPositionsFollowTheReportsOrder(t *testing.T) {
	ctx := context.Background()
	_, pool := storetest.NewDatabase(t)
	set, err := templates.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	all, err := playbooks.Builtin(playbook.Options{BuiltinTemplates: set.Names()})
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(pool)
	nested := 0
	for _, b := range all {
		def, err := json.Marshal(b.Definition)
		if err != nil {
			t.Fatal(err)
		}
		const version = 99 // beside the versions the database may already hold
		if _, err := pool.Exec(ctx, `INSERT INTO playbook_versions (key, version, name, definition, source, source_format)
			VALUES ($1, $2, $1, $3, '', 'yaml')`, b.Key, version, def); err != nil {
			t.Fatal(err)
		}
		report, err := analytics.Build(ctx, st, analytics.Query{Key: b.Key, Version: version,
			From: time.Now().AddDate(0, 0, -1), To: time.Now(), Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, s := range report.Versions[0].Steps {
			want = append(want, s.ID)
		}
		rows, err := pool.Query(ctx, `SELECT step_id FROM playbook_step_positions
			WHERE playbook_key = $1 AND playbook_version = $2 ORDER BY pos`, b.Key, version)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: the database orders the steps %v, the report %v", b.Key, got, want)
		}
		if len(want) > len(b.Definition.Steps) {
			nested++
		}
	}
	if nested == 0 {
		t.Error("no built-in nests steps: the test compares flat lists only")
	}
}
