package workflows_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Workflow code does no I/O: it may reach the activity contracts, never the
// store, the mailer, the templates or the HTTP layer (PRODUCT.md §2).
func TestWorkflowsImportNoIO(t *testing.T) {
	forbidden := map[string][]string{
		".": {
			"github.com/playbookd/playbookd/store",
			"github.com/playbookd/playbookd/mail",
			"github.com/playbookd/playbookd/templates",
			"github.com/playbookd/playbookd/activities",
			"github.com/playbookd/playbookd/api",
			"github.com/labstack/echo/v4",
			"github.com/jackc/pgx/v5",
			"github.com/sendgrid/sendgrid-go",
		},
		// The webhook guard reaches workflows through the playbook validator:
		// its checks stay pure, the dialer that enforces them is in activities.
		"../internal/netguard": {"net", "net/http"},
	}
	for pkg, deny := range forbidden {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range deny {
				if dep == f {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
