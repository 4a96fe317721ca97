package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/playbooks"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// seedPlaybooks publishes the built-in playbooks at start.
func seedPlaybooks(ctx context.Context, st *store.Store, set *templates.Set, log *slog.Logger) error {
	changed, err := playbooks.Seed(ctx, st, playbook.Options{BuiltinTemplates: set.Names()})
	if err != nil {
		return err
	}
	for _, v := range changed {
		log.Info("built-in playbook published", "version", v)
	}
	return nil
}

// validateFiles checks definition files offline, as CS ops' CI would; it
// prints every error with its path and line and returns the exit code.
func validateFiles(paths []string, out io.Writer) int {
	if len(paths) == 0 {
		fmt.Fprintln(out, "usage: playbookd validate FILE...")
		return 2
	}
	set, err := templates.Builtin()
	if err != nil {
		fmt.Fprintln(out, err)
		return 2
	}
	opts := playbook.Options{BuiltinTemplates: set.Names()}
	failed := 0
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(out, "%s: %v\n", p, err)
			failed++
			continue
		}
		def, err := playbook.Parse(src, opts)
		var errs playbook.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintf(out, "%s: %s\n", p, e)
			}
			failed++
			continue
		}
		fmt.Fprintf(out, "%s: ok (%s, %d steps)\n", p, def.Key, len(def.Steps))
	}
	if failed > 0 {
		return 1
	}
	return 0
}
