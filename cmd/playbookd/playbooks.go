package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/netguard"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// seedPlaybooks publishes the built-in playbooks at start.
func seedPlaybooks(ctx context.Context, st *store.Store, set *templates.Set, fields []accounts.Field, log *slog.Logger) error {
	changed, err := catalog.Seed(ctx, st, app.PlaybookOptions(set, netguard.Policy{}, fields))
	if err != nil {
		return err
	}
	for _, v := range changed {
		log.Info("built-in playbook published", "version", v)
	}
	return nil
}

const validateUsage = `usage: playbookd validate [--] FILE...

Checks playbook definitions (YAML or JSON) offline, as CS ops' CI would, with
the rules of POST /v1/playbooks/validate: every error with its path and line;
templates and notify messages are type-checked against the template fields
(GET /v1/playbooks/template-fields) and, like field conditions, to the account
fields ACCOUNT_FIELDS declares, as the API does. Not checked offline: that
start_playbook keys are published. Notify URLs must be https to public hosts.

Exit status: 0 when every file is valid, 1 when one is not, 2 on a usage error.
`

// validateFiles checks definition files offline, as CS ops' CI would; it
// prints every error with its path and line and returns the exit code.
func validateFiles(args []string, out io.Writer) int {
	var paths []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--":
			paths, i = append(paths, args[i+1:]...), len(args)
		case a == "-h" || a == "--help" || a == "-help":
			fmt.Fprint(out, validateUsage)
			return 0
		case strings.HasPrefix(a, "-"):
			fmt.Fprintf(out, "playbookd validate: unknown option %q (a file whose name starts with '-': give it after --)\n\n%s", a, validateUsage)
			return 2
		default:
			paths = append(paths, a)
		}
	}
	if len(paths) == 0 {
		fmt.Fprint(out, validateUsage)
		return 2
	}
	set, err := templates.Builtin()
	if err != nil {
		fmt.Fprintln(out, err)
		return 2
	}
	fields, err := accounts.ParseFields(os.Getenv("ACCOUNT_FIELDS"))
	if err != nil {
		fmt.Fprintf(out, "ACCOUNT_FIELDS: %v\n", err)
		return 2
	}
	opts := app.PlaybookOptions(set, netguard.Policy{}, fields)
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
